-- Schema version 5. IAM users, groups, managed policies and what is attached to whom: what
-- authorizes a signed request. Names are unique regardless of case, as in IAM, so entities are
-- keyed by the lower-cased name (`*_key`) and keep their name as given.
CREATE TABLE users (
    user_key              TEXT PRIMARY KEY,
    user_name             TEXT NOT NULL,
    path                  TEXT NOT NULL,
    user_id               TEXT NOT NULL UNIQUE,
    tags                  TEXT NOT NULL,   -- JSON list of [key, value]
    permissions_boundary  TEXT,            -- a managed policy's ARN
    created_at            BIGINT NOT NULL
);

CREATE TABLE user_policies (
    user_key     TEXT NOT NULL REFERENCES users (user_key),
    policy_name  TEXT NOT NULL,
    document     TEXT NOT NULL,
    PRIMARY KEY (user_key, policy_name)
);

CREATE TABLE iam_groups (
    group_key   TEXT PRIMARY KEY,
    group_name  TEXT NOT NULL,
    path        TEXT NOT NULL,
    group_id    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE group_policies (
    group_key    TEXT NOT NULL REFERENCES iam_groups (group_key),
    policy_name  TEXT NOT NULL,
    document     TEXT NOT NULL,
    PRIMARY KEY (group_key, policy_name)
);

CREATE TABLE group_members (
    group_key  TEXT NOT NULL REFERENCES iam_groups (group_key),
    user_key   TEXT NOT NULL REFERENCES users (user_key),
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (group_key, user_key)
);
CREATE INDEX group_members_by_user ON group_members (user_key, group_key);

-- Customer managed policies. AWS managed ones (arn:aws:iam::aws:policy/…) are built into the
-- binary and never stored here.
CREATE TABLE managed_policies (
    policy_arn       TEXT PRIMARY KEY,
    policy_key       TEXT NOT NULL UNIQUE,   -- lower-cased name: unique whatever the path
    policy_name      TEXT NOT NULL,
    path             TEXT NOT NULL,
    policy_id        TEXT NOT NULL UNIQUE,
    description      TEXT,
    default_version  TEXT NOT NULL,
    next_version     BIGINT NOT NULL,        -- the number of the next version created
    tags             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE policy_versions (
    policy_arn  TEXT NOT NULL REFERENCES managed_policies (policy_arn),
    version_id  TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_arn, version_id)
);

-- Which managed policy is attached to which user, group or role (`entity_kind` is one of
-- user, group, role). AWS managed policies are attached by ARN like any other.
CREATE TABLE policy_attachments (
    policy_arn   TEXT NOT NULL,
    entity_kind  TEXT NOT NULL,
    entity_key   TEXT NOT NULL,
    attached_at  BIGINT NOT NULL,
    PRIMARY KEY (entity_kind, entity_key, policy_arn)
);
CREATE INDEX policy_attachments_by_policy ON policy_attachments (policy_arn);

ALTER TABLE roles ADD COLUMN permissions_boundary TEXT;

-- The administrator created at first start was an access key's owner only; it becomes an IAM
-- user with AdministratorAccess, so that it keeps every permission once policies are evaluated.
INSERT INTO users (user_key, user_name, path, user_id, tags, permissions_boundary, created_at)
SELECT DISTINCT lower(user_name), user_name, '/', user_id, '[]', NULL, created_at
FROM access_keys
WHERE access_key_id IN (SELECT MIN(access_key_id) FROM access_keys GROUP BY lower(user_name));

INSERT INTO policy_attachments (policy_arn, entity_kind, entity_key, attached_at)
SELECT 'arn:aws:iam::aws:policy/AdministratorAccess', 'user', user_key, created_at FROM users;

-- When and where each access key was last used (GetAccessKeyLastUsed), written at most once a
-- minute per key.
ALTER TABLE access_keys ADD COLUMN last_used_at BIGINT;
ALTER TABLE access_keys ADD COLUMN last_used_region TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
