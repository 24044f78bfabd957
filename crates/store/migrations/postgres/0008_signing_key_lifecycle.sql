-- The signing keys' lifecycle (next -> active -> retired -> revoked): when each key entered its
-- state decides when an active key is due for rotation and when a retired one stops verifying.
-- Keys stored before this version entered their state when they were made.
ALTER TABLE signing_keys ADD COLUMN state_changed_at BIGINT NOT NULL DEFAULT 0;
UPDATE signing_keys SET state_changed_at = created_at;

-- At most one key signs and at most one waits to: two nodes rotating at once cannot both win.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';
