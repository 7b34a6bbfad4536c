-- API keys and the access log (the same tables as migrations/sqlite-governance/).
-- Citus: small and global, reference tables; the access log is one sequence, appended under
-- an advisory lock on the coordinator (docs/scale-out.md).

CREATE TABLE api_key (
    key_id        text PRIMARY KEY,
    name          text NOT NULL,
    role          text NOT NULL,
    subject_key   bigint,
    secret_sha256 bytea NOT NULL,
    created_at    text NOT NULL,
    revoked_at    text
);

CREATE TABLE access_log (
    seq         bigint PRIMARY KEY,
    subject_key bigint,
    entry       text NOT NULL
);
CREATE INDEX access_log_subject ON access_log (subject_key, seq);

CREATE TABLE log_node (
    level integer NOT NULL,
    idx   bigint NOT NULL,
    hash  bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE tree_head (
    size      bigint PRIMARY KEY,
    root      bytea NOT NULL,
    signed_at text NOT NULL,
    signature bytea NOT NULL
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_reference_table('api_key');
        PERFORM create_reference_table('access_log');
        PERFORM create_reference_table('log_node');
        PERFORM create_reference_table('tree_head');
    END IF;
END
$$;
