-- Keys by role and name (migrations/sqlite-governance/0003_key_names.sql).
CREATE INDEX api_key_role_name ON api_key (role, name);
