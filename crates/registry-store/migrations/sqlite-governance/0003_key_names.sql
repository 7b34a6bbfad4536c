-- Keys by role and name: a consent names its lender, and is checked against the live lender
-- keys without reading every key (there is one per consumer).
CREATE INDEX api_key_role_name ON api_key (role, name);
