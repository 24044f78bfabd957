-- IAM OpenID Connect providers, keyed by their URL without the scheme (host and path, as the
-- provider's ARN names it). Lists are JSON.
CREATE TABLE oidc_providers (
    url          TEXT PRIMARY KEY,
    scheme       TEXT NOT NULL,   -- https; http only for a loopback issuer
    client_ids   TEXT NOT NULL,   -- JSON list, in the order added
    thumbprints  TEXT NOT NULL,   -- JSON list
    tags         TEXT NOT NULL,   -- JSON list of [key, value]
    created_at   BIGINT NOT NULL
);
