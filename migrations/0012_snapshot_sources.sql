-- Snapshot sources (issue 21): profiles kept as Parquet, NDJSON or CSV files in an S3 or R2 bucket,
-- read where they are. config: the source JSON (format, location, schema, …) with every secret field
-- of its auth replaced by a sealed envelope, like destinations.config.
CREATE TABLE sources (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX sources_org ON sources(org_id, created_at);

-- A rule audience whose profiles come from a snapshot source instead of the profiles table.
ALTER TABLE audiences ADD COLUMN source_id TEXT REFERENCES sources(id);

-- The tasks a fanned-out run is split into: one unit of its snapshot each (a file, or a range of a
-- Parquet file's row groups). status: pending → running → done (or failed). attempt counts claims:
-- a task killed mid-way is claimed again (attempt + 1) and redone alone; what an attempt spilled is
-- keyed by it, so a retry never reads a killed attempt's rows. result: JSON the task left for the
-- reduce step (sorted runs per subject, stats, bytes fetched).
CREATE TABLE run_tasks (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  org_id TEXT NOT NULL,
  unit TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempt INTEGER NOT NULL DEFAULT 0,
  lease_until TEXT,
  result TEXT,
  error TEXT,
  started_at TEXT,
  finished_at TEXT,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_tasks_status ON run_tasks(status, lease_until);
