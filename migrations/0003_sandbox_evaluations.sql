-- Organizations carry the sandbox name file names may include (naming.sandbox), like the reference's.
ALTER TABLE organizations ADD COLUMN sandbox TEXT NOT NULL DEFAULT 'prod';

-- Audience evaluations as events: profiles ingested (every audience of the organization), a custom
-- upload committed, or POST /v1/audiences/{id}/evaluate. An "afterEvaluation" dataflow runs once for
-- the evaluations each cron tick closes. Ingest keeps one open evaluation per organization (its
-- evaluated_at moves forward) until the tick closes it, so a bulk load is one evaluation.
DROP TABLE evaluations;
CREATE TABLE evaluations (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  audience_id TEXT,
  source TEXT NOT NULL CHECK (source IN ('ingest', 'upload', 'api')),
  evaluated_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE INDEX evaluations_open ON evaluations(closed_at, org_id);
CREATE INDEX evaluations_closed ON evaluations(org_id, closed_at);
