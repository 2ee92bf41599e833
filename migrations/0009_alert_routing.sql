-- Alert routing (docs/API.md, "Alerts"): which events a dataflow alerts on (a JSON list of event
-- names; NULL: the events every dataflow sent before, all but run.recovered), how the body is shaped
-- ('signed-json', the default, or 'slack'), and the lateness margin: a scheduled run not finished
-- this many minutes after its slot posts run.delayed (reason "late") once. NULL: no lateness alert.
ALTER TABLE dataflows ADD COLUMN alert_events TEXT;
ALTER TABLE dataflows ADD COLUMN alert_format TEXT;
ALTER TABLE dataflows ADD COLUMN late_after_minutes INTEGER;

-- The outbox accepts the new event run.recovered (a success after a failure): SQLite changes a
-- CHECK constraint only by rebuilding the table, rows and ids kept.
CREATE TABLE alerts_new (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  dataflow_id TEXT NOT NULL,
  run_id TEXT,
  event TEXT NOT NULL CHECK (event IN ('run.started', 'run.succeeded', 'run.failed', 'run.delayed', 'run.skipped_rate', 'run.recovered')),
  url TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  delivered_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL
);
INSERT INTO alerts_new (id, org_id, dataflow_id, run_id, event, url, payload, attempts, next_attempt_at, delivered_at, last_error, created_at)
  SELECT id, org_id, dataflow_id, run_id, event, url, payload, attempts, next_attempt_at, delivered_at, last_error, created_at FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_pending ON alerts(next_attempt_at) WHERE delivered_at IS NULL;
-- One lateness alert per run (so per slot), whatever ticks overlap or repeat: INSERT OR IGNORE meets this.
CREATE UNIQUE INDEX alerts_late_once ON alerts(run_id) WHERE run_id IS NOT NULL AND event = 'run.delayed';
