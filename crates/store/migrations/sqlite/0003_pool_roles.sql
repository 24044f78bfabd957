-- The roles of an identity pool (SetIdentityPoolRoles): a JSON object of `roles` and
-- `role_mappings`, apart from `config` because UpdateIdentityPool replaces the configuration
-- whole and must leave the roles as they are.
ALTER TABLE identity_pools ADD COLUMN roles TEXT NOT NULL DEFAULT '{}';
