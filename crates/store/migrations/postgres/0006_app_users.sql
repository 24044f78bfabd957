-- The application's own users, who sign in to the credential broker with a password (not IAM
-- users). Usernames are compared exactly as given. The hash is an Argon2id PHC string.
CREATE TABLE app_users (
    username             TEXT PRIMARY KEY,
    password_hash        TEXT NOT NULL,
    disabled             BIGINT NOT NULL DEFAULT 0,   -- 0 or 1
    created_at           BIGINT NOT NULL,
    password_changed_at  BIGINT NOT NULL
);
