-- Audience export state in chunks: a state's entries (member key → fingerprint, in key order) are
-- kept in rows of at most ~1.5 MB, so no value grows with the audience (D1 refuses a value over
-- 2 MB). `generation` is the run that wrote them; the export_state header row (state JSON, version 2)
-- names the generation in use. A run writes its own generation and promotes it with its header.
CREATE TABLE export_state_chunks (
  org_id TEXT NOT NULL,
  dataflow_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  generation TEXT NOT NULL,
  seq INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (org_id, dataflow_id, subject_id, generation, seq)
);

-- Sorted runs a deduplicating export spills while it runs (chunked the same way); dropped at its end.
CREATE TABLE export_spill (
  org_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  run_no INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (org_id, run_id, subject_id, run_no, seq)
);

-- Where a run that outgrew one invocation stopped (JSON: subjects done, the subject in progress and
-- its position, files published so far): the next queue message goes on from there.
ALTER TABLE runs ADD COLUMN checkpoint TEXT;
