-- Resharding (issue 17, docs/SCALE.md "Resharding"): an organization's growth to more shards, copied by
-- the queue in pages and then cleaned up. One row per organization: its latest resharding.
--   generation  the layout generation being grown (0: from the single-database layout, D1's profiles)
--   source      'shards' (org_shards.layout has `next`) or 'd1' (no layout until the flip)
--   next        JSON ShardOwner[]: the owners being copied into
--   moves       JSON BucketMove[]: the old owners' bucket ranges that change owner (copied, then deleted)
--   state       copying → cleanup (after the flip: layout = next, generation + 1) → done
--   position    JSON {move, after}: the move and the last profile id copied (or the move being cleaned up)
--   copied      profiles read from old owners; inserted: of those, the ones the new owner did not have
CREATE TABLE org_reshards (
  org_id TEXT PRIMARY KEY,
  generation INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('shards', 'd1')),
  next TEXT NOT NULL,
  moves TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('copying', 'cleanup', 'done')),
  position TEXT NOT NULL,
  copied INTEGER NOT NULL DEFAULT 0,
  inserted INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  started_at TEXT NOT NULL,
  flipped_at TEXT,
  finished_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX org_reshards_state ON org_reshards(state, updated_at);
