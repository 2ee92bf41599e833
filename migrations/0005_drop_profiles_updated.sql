-- Profiles are read in id order only (keyset pages on the primary key). The (org_id, updated_at, id)
-- index was never read, and every ingested profile paid a random insert into it: dropping it made
-- ingest through the API faster at a million profiles (bench/audiences.ts, docs/BENCHMARKS.md) and
-- each stored profile smaller.
DROP INDEX IF EXISTS profiles_updated;
