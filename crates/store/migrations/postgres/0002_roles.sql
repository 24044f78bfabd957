-- IAM roles and their inline policies. Role names are unique regardless of case, as in IAM.
CREATE TABLE roles (
    role_key                     TEXT PRIMARY KEY,  -- lower-cased role name
    role_name                    TEXT NOT NULL,
    path                         TEXT NOT NULL,
    role_id                      TEXT NOT NULL UNIQUE,
    assume_role_policy_document  TEXT NOT NULL,
    description                  TEXT,
    max_session_duration         BIGINT NOT NULL,
    tags                         TEXT NOT NULL,     -- JSON list of [key, value]
    created_at                   BIGINT NOT NULL
);

CREATE TABLE role_policies (
    role_key     TEXT NOT NULL REFERENCES roles (role_key),
    policy_name  TEXT NOT NULL,
    document     TEXT NOT NULL,
    PRIMARY KEY (role_key, policy_name)
);
