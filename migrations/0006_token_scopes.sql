-- Several named API tokens per organization, each with scopes (src/worker/scopes.ts).
-- scopes: a JSON list of scope names. Tokens issued before this migration could call every route, so
-- they keep every scope ("all"); a token inserted without naming its scopes gets none (fail closed).
-- rotated_at: when the token's secret was last replaced (the old secret stopped working then).
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN rotated_at TEXT;
UPDATE api_tokens SET scopes = '["all"]';
-- A name picks out one live token of an organization (revoked tokens free their names).
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens(org_id, name) WHERE revoked_at IS NULL;
