-- What an identity pool holds beside its configuration, each a JSON object: its roles
-- (SetIdentityPoolRoles: `roles` and `role_mappings`) and its principal tag maps
-- (SetPrincipalTagAttributeMap, by identity provider). Apart from `config` because
-- UpdateIdentityPool replaces the configuration whole and must leave these as they are.
ALTER TABLE identity_pools ADD COLUMN roles TEXT NOT NULL DEFAULT '{}';
ALTER TABLE identity_pools ADD COLUMN principal_tag_maps TEXT NOT NULL DEFAULT '{}';
