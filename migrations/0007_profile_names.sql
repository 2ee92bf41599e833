-- The attribute names (top-level keys) and identity namespaces the organization's profiles have or
-- had, kept on ingest (one statement per ingest request, in the profiles' own batch), so that
-- audience rules and dataflow mappings naming one no profile has get a warning with the closest
-- real name (src/core/data/attributes.ts). Names are only added: a name stays once seen.
CREATE TABLE profile_names (
  org_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('attribute', 'identity')),
  name TEXT NOT NULL,
  PRIMARY KEY (org_id, kind, name)
) WITHOUT ROWID;
-- Profiles stored before this table existed.
INSERT OR IGNORE INTO profile_names (org_id, kind, name)
  SELECT p.org_id, 'attribute', a.key FROM profiles p, json_each(p.json, '$.attributes') a;
INSERT OR IGNORE INTO profile_names (org_id, kind, name)
  SELECT p.org_id, 'identity', i.key FROM profiles p, json_each(p.json, '$.identities') i;
