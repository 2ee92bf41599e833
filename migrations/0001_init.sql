-- edge-export D1 schema. Every resource row carries org_id and every query filters by it.
-- Timestamps are ISO-8601 UTC strings (they sort lexicographically); JSON columns hold valibot-validated JSON.

CREATE TABLE organizations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Only the SHA-256 of a token is stored; the token itself is shown once, at creation.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_tokens_org ON api_tokens(org_id);

-- config: the destination JSON with every secret field replaced by a sealed v1 envelope.
CREATE TABLE destinations (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX destinations_org ON destinations(org_id, created_at);

CREATE TABLE audiences (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('rule', 'upload')),
  rule TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX audiences_org ON audiences(org_id, created_at);

-- Members of custom-upload audiences; an upload replaces them all at once (staged by upload_id).
CREATE TABLE audience_members (
  org_id TEXT NOT NULL,
  audience_id TEXT NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,
  upload_id TEXT NOT NULL,
  namespace TEXT NOT NULL,
  value TEXT NOT NULL,
  attributes TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (org_id, audience_id, upload_id, namespace, value)
);
CREATE TABLE audience_uploads (
  org_id TEXT NOT NULL,
  audience_id TEXT NOT NULL REFERENCES audiences(id) ON DELETE CASCADE,
  current_upload_id TEXT NOT NULL,
  members INTEGER NOT NULL,
  committed_at TEXT NOT NULL,
  PRIMARY KEY (org_id, audience_id)
);

-- json: { identities, attributes } of the profile.
CREATE TABLE profiles (
  org_id TEXT NOT NULL,
  id TEXT NOT NULL,
  json TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE INDEX profiles_updated ON profiles(org_id, updated_at, id);

CREATE TABLE datasets (
  org_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  schema TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (org_id, id)
);
CREATE TABLE dataset_records (
  org_id TEXT NOT NULL,
  dataset_id TEXT NOT NULL,
  id TEXT NOT NULL,
  json TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org_id, dataset_id, id)
);
-- Incremental exports read strictly after an (updated_at, id) watermark.
CREATE INDEX dataset_records_watermark ON dataset_records(org_id, dataset_id, updated_at, id);

-- A dataflow: destination + (audiences | dataset) + mapping + schedule + naming + export mode + alerts.
-- webhook_secret and alert_secret are sealed envelopes. scheduled_through: the cron has enqueued every
-- slot up to this time (the next tick's lastTick).
CREATE TABLE dataflows (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  destination_id TEXT NOT NULL REFERENCES destinations(id),
  audience_ids TEXT NOT NULL DEFAULT '[]',
  dataset_id TEXT,
  mapping TEXT NOT NULL DEFAULT '{}',
  schedule TEXT,
  naming TEXT NOT NULL DEFAULT '{}',
  export_mode TEXT NOT NULL DEFAULT 'full' CHECK (export_mode IN ('full', 'incremental')),
  alert_webhook TEXT,
  alert_secret TEXT,
  webhook_secret TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  scheduled_through TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK ((dataset_id IS NULL) <> (audience_ids = '[]'))
);
CREATE INDEX dataflows_org ON dataflows(org_id, created_at);
CREATE INDEX dataflows_enabled ON dataflows(enabled) WHERE enabled = 1;
CREATE INDEX dataflows_destination ON dataflows(org_id, destination_id);

-- One row per export run. run_key makes a scheduled slot (or a webhook delivery) run exactly once.
-- multipart: { key: { uploadId, parts: [{ partNumber, etag }] } } of uploads in flight, for resume.
-- lease_until: a consumer owns a running run until then; a redelivered message may take it over after.
-- sent_at: when the run's queue message was last sent (the cron re-sends lost ones, once per interval).
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  dataflow_id TEXT NOT NULL REFERENCES dataflows(id) ON DELETE CASCADE,
  run_key TEXT NOT NULL UNIQUE,
  trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'webhook', 'api')),
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  scheduled_time TEXT NOT NULL,
  rows_exported INTEGER,
  rows_skipped TEXT,
  bytes INTEGER,
  files TEXT,
  error TEXT,
  multipart TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until TEXT,
  sent_at TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT
);
CREATE INDEX runs_org ON runs(org_id, created_at DESC);
CREATE INDEX runs_dataflow ON runs(org_id, dataflow_id, created_at DESC);
CREATE INDEX runs_status ON runs(status, created_at);

-- State of the last successful export per dataflow and subject (audience or dataset), for incremental mode.
CREATE TABLE export_state (
  org_id TEXT NOT NULL,
  dataflow_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  state TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (org_id, dataflow_id, subject_id)
);

-- A delivery's idempotency key is inserted before anything is enqueued; the first insert wins.
CREATE TABLE idempotency_keys (
  org_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  UNIQUE (org_id, scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys(expires_at);

-- Completed audience evaluations, which make "afterEvaluation" schedules due.
CREATE TABLE evaluations (
  org_id TEXT NOT NULL,
  evaluated_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
CREATE INDEX evaluations_recorded ON evaluations(org_id, recorded_at);

-- Alerts outbox: written in the same step as the run change, delivered (and retried) by the cron.
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  org_id TEXT NOT NULL,
  dataflow_id TEXT NOT NULL,
  run_id TEXT,
  event TEXT NOT NULL CHECK (event IN ('run.started', 'run.succeeded', 'run.failed', 'run.delayed', 'run.skipped_rate')),
  url TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  delivered_at TEXT,
  last_error TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX alerts_pending ON alerts(next_attempt_at) WHERE delivered_at IS NULL;
