-- Sharded profile storage (issue 17, docs/SCALE.md): an organization with a row here keeps its profiles
-- in the shards its layout names (Durable Objects with SQLite storage on Workers, SQLite files on Node
-- and Deno), not in `profiles`. No row: the single-database layout (the default).
-- layout: JSON ShardLayout (src/worker/shards/types.ts): {version, generation, shards: [{name, from, to}], next?}.
CREATE TABLE org_shards (
  org_id TEXT PRIMARY KEY,
  layout TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
