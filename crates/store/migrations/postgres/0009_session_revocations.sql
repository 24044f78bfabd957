-- Sessions refused before they expire: the temporary credentials and tokens of an identity
-- (`subject` = its identity id: `tegata identities revoke`, DeleteIdentities) or of every
-- identity of a pool (`subject` = the pool id: DeleteIdentityPool) issued at or before
-- `not_before`. One row per subject, pruned once nothing it refuses can still be alive.
CREATE TABLE session_revocations (
    subject     TEXT PRIMARY KEY,
    not_before  BIGINT NOT NULL
);
