-- Alert routing (docs/API.md, "Alerts"): which events a dataflow alerts on (a JSON list of event
-- names; NULL: every event, as before), how the body is shaped ('signed-json', the default, or
-- 'slack'), and the lateness margin: a scheduled run not finished this many minutes after its slot
-- posts run.delayed (reason "late") once. NULL: no lateness alert.
ALTER TABLE dataflows ADD COLUMN alert_events TEXT;
ALTER TABLE dataflows ADD COLUMN alert_format TEXT;
ALTER TABLE dataflows ADD COLUMN late_after_minutes INTEGER;
-- One lateness alert per run (so per slot), whatever ticks overlap or repeat: INSERT OR IGNORE meets this.
CREATE UNIQUE INDEX alerts_late_once ON alerts(run_id) WHERE run_id IS NOT NULL AND event = 'run.delayed';
