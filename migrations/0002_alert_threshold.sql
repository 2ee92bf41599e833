-- Skipped-rate alerts: a run whose skipped rows exceed this share of the rows read (0–1) posts a
-- run.skipped_rate alert. NULL: no such alert. (alert_secret, already in 0001, signs alert bodies.)
ALTER TABLE dataflows ADD COLUMN skipped_rate_threshold REAL;
