-- tegata schema, version 1 (SQLite). Times are Unix seconds; booleans are 0/1 integers, so the
-- same statements run on SQLite and PostgreSQL.
CREATE TABLE account (
    singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
    account_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid                    TEXT PRIMARY KEY,
    state                  TEXT NOT NULL,
    algorithm              TEXT NOT NULL,
    encrypted_private_key  BLOB NOT NULL,
    master_key_id          TEXT NOT NULL,
    created_at             BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id     TEXT PRIMARY KEY,
    user_name         TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    encrypted_secret  BLOB NOT NULL,
    master_key_id     TEXT NOT NULL,
    active            BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE identity_pools (
    pool_id     TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    config      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE identities (
    identity_id  TEXT PRIMARY KEY,
    pool_id      TEXT NOT NULL REFERENCES identity_pools (pool_id),
    disabled     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX identities_by_pool ON identities (pool_id, identity_id);

-- One row per linked login. The primary key is what makes "one identity per developer user"
-- hold under concurrent callers.
CREATE TABLE identity_logins (
    pool_id      TEXT NOT NULL,
    provider     TEXT NOT NULL,
    user_key     TEXT NOT NULL,
    identity_id  TEXT NOT NULL REFERENCES identities (identity_id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (pool_id, provider, user_key)
);
CREATE INDEX identity_logins_by_identity ON identity_logins (identity_id, provider, user_key);
