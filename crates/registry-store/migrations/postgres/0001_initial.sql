-- The registry's PostgreSQL schema, the same facts as the embedded one (migrations/sqlite),
-- laid out to be sharded by Citus (docs/scale-out.md):
--
-- * every table about a subject carries `subject_key` first and is keyed by it, so a report
--   reads one subject's rows and nothing else (one shard once distributed);
-- * the identifier → subject look-up is its own table keyed by the identifier's keyed hash;
-- * a record of an account shared by several subjects is stored once with each of them
--   (`primary_copy` marks the first subject's row, which exports and version lists read).
--
-- Personal identifiers exist here only as keyed hashes and sealed blobs (docs/personal-data.md).
-- Dates are integers YYYYMMDD and amounts minor units, as in SQLite.

-- Settings that must never change under existing data (the keys' fingerprint).
-- Citus: a reference table.
CREATE TABLE meta (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- Keys are taken from sequences (Citus keeps them on the coordinator), never max() + 1.
CREATE SEQUENCE submission_key_seq;
CREATE SEQUENCE subject_key_seq;
CREATE SEQUENCE identity_key_seq;
CREATE SEQUENCE account_key_seq;
CREATE SEQUENCE history_key_seq;

-- One row per submitted file. Citus: distributed by furnisher, with its rejections.
CREATE TABLE submission (
    furnisher       text NOT NULL,
    submission_key  bigint NOT NULL,
    submission_id   text NOT NULL,
    file_name       text,
    content_sha256  text NOT NULL,
    byte_count      bigint NOT NULL,
    received_at     text NOT NULL,
    status          text NOT NULL CHECK (status IN ('applied', 'rejected')),
    record_count    bigint NOT NULL,
    accepted_count  bigint NOT NULL,
    rejected_count  bigint NOT NULL,
    error_code      text,
    error_message   text,
    format          text NOT NULL CHECK (format IN ('jsonl', 'metro2')),
    PRIMARY KEY (furnisher, submission_key),
    UNIQUE (furnisher, submission_id)
);
-- Idempotency: a furnisher's byte-identical file is applied once.
CREATE UNIQUE INDEX submission_applied_content
    ON submission (furnisher, content_sha256) WHERE status = 'applied';

-- Every rule each rejected record broke, in file order.
CREATE TABLE rejection (
    furnisher      text NOT NULL,
    submission_key bigint NOT NULL,
    seq            bigint NOT NULL,
    line           bigint NOT NULL,
    field          text NOT NULL,
    code           text NOT NULL,
    message        text NOT NULL,
    PRIMARY KEY (furnisher, submission_key, seq)
);

-- Identifier → subject. Citus: distributed by the identifier's keyed hash.
CREATE TABLE subject_lookup (
    id_hash     bytea PRIMARY KEY,
    subject_key bigint NOT NULL
);

-- One subject per (id_type, id), across furnishers. Citus: distributed by subject_key, as is
-- every table below that starts with it.
CREATE TABLE subject (
    subject_key bigint PRIMARY KEY,
    id_type     text NOT NULL,
    id_sealed   bytea NOT NULL
);

-- Each distinct identity (names, birth date, contact) a furnisher reported for a subject.
CREATE TABLE identity (
    subject_key     bigint NOT NULL,
    identity_key    bigint NOT NULL,
    furnisher       text NOT NULL,
    identity_hash   bytea NOT NULL,
    identity_sealed bytea NOT NULL,
    PRIMARY KEY (subject_key, identity_key),
    UNIQUE (subject_key, furnisher, identity_hash)
);

-- A furnisher's account, found by its own account number (how records arrive). Written by
-- ingest only, never read by a report. Citus: distributed by the account number.
-- `subjects_sig` and `subjects` are the people of the account's latest record (as in SQLite);
-- `members` every subject ever on it, which is where its records are stored.
CREATE TABLE account (
    account      text NOT NULL,
    furnisher    text NOT NULL,
    account_key  bigint NOT NULL,
    subjects_sig bytea NOT NULL,
    subjects     text NOT NULL,
    members      bigint[] NOT NULL,
    PRIMARY KEY (account, furnisher)
);

-- Every account a subject was ever listed on, with the names a report shows.
CREATE TABLE subject_account (
    subject_key bigint NOT NULL,
    account_key bigint NOT NULL,
    furnisher   text NOT NULL,
    account     text NOT NULL,
    PRIMARY KEY (subject_key, account_key)
);

-- The current version of each (account, as_of) record, once per subject on it.
CREATE TABLE record (
    subject_key       bigint NOT NULL,
    account_key       bigint NOT NULL,
    as_of             integer NOT NULL,
    primary_copy      boolean NOT NULL,
    submission_key    bigint NOT NULL,
    line              bigint NOT NULL,
    product           text NOT NULL,
    opened            integer NOT NULL,
    closed            integer,
    currency          text NOT NULL,
    credit_limit      bigint,
    original_amount   bigint,
    term_months       integer,
    scheduled_payment bigint,
    actual_payment    bigint,
    balance           bigint NOT NULL,
    past_due          bigint NOT NULL,
    status            text NOT NULL,
    payment_history   text NOT NULL,
    first_delinquency integer,
    last_payment      integer,
    special_comment   text,
    dispute           text NOT NULL,
    subjects          text NOT NULL,
    funding           text,
    reporter_id       text,
    PRIMARY KEY (subject_key, account_key, as_of)
);

-- Versions replaced by corrections: the same columns, which submission replaced them, and
-- the order they were replaced in.
CREATE TABLE record_history (
    subject_key       bigint NOT NULL,
    account_key       bigint NOT NULL,
    as_of             integer NOT NULL,
    primary_copy      boolean NOT NULL,
    submission_key    bigint NOT NULL,
    line              bigint NOT NULL,
    product           text NOT NULL,
    opened            integer NOT NULL,
    closed            integer,
    currency          text NOT NULL,
    credit_limit      bigint,
    original_amount   bigint,
    term_months       integer,
    scheduled_payment bigint,
    actual_payment    bigint,
    balance           bigint NOT NULL,
    past_due          bigint NOT NULL,
    status            text NOT NULL,
    payment_history   text NOT NULL,
    first_delinquency integer,
    last_payment      integer,
    special_comment   text,
    dispute           text NOT NULL,
    subjects          text NOT NULL,
    funding           text,
    reporter_id       text,
    replaced_by       bigint NOT NULL,
    history_key       bigint NOT NULL,
    PRIMARY KEY (subject_key, account_key, as_of, history_key)
);

-- On a Citus coordinator, distribute the tables (docs/scale-out.md); on plain PostgreSQL
-- this does nothing.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_reference_table('meta');
        PERFORM create_distributed_table('submission', 'furnisher');
        PERFORM create_distributed_table('rejection', 'furnisher', colocate_with => 'submission');
        PERFORM create_distributed_table('subject_lookup', 'id_hash');
        PERFORM create_distributed_table('account', 'account');
        PERFORM create_distributed_table('subject', 'subject_key');
        PERFORM create_distributed_table('identity', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('subject_account', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('record', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('record_history', 'subject_key', colocate_with => 'subject');
    END IF;
END
$$;
