-- When a role last made a session (GetRole's RoleLastUsed): AssumeRole*, and
-- GetCredentialsForIdentity's sessions. Written at most once a minute per role and node.
ALTER TABLE roles ADD COLUMN last_used_at BIGINT;
ALTER TABLE roles ADD COLUMN last_used_region TEXT;
