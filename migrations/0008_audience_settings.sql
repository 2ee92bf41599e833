-- Per-audience schedule and naming inside one dataflow (the reference sets both per audience).
-- audience_settings: [{ id, schedule?, naming? }] of the dataflow's audiences that have their own
-- (schedule null: that audience runs only on demand); the others follow the dataflow's schedule and naming.
ALTER TABLE dataflows ADD COLUMN audience_settings TEXT NOT NULL DEFAULT '[]';
-- The audiences a run exports (JSON list); NULL: all of its dataflow's (and its dataset).
ALTER TABLE runs ADD COLUMN audience_ids TEXT;
