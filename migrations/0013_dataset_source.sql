-- A dataset whose records are a snapshot source's rows (issue 21): the source's id and update-time
-- columns give each record's id and update time. NULL: its records are those pushed into D1
-- (POST /v1/datasets/{id}/records).
ALTER TABLE datasets ADD COLUMN source_id TEXT REFERENCES sources(id);
