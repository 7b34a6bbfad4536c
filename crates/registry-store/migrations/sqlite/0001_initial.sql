-- The registry's embedded schema. Personal identifiers exist here only as keyed hashes
-- (for look-up) and sealed (encrypted) blobs (for display); see docs/personal-data.md.

-- Settings that must never change under existing data (the keys' fingerprint).
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per submitted file, applied or rejected whole.
CREATE TABLE submission (
    submission_key  INTEGER PRIMARY KEY,
    submission_id   TEXT NOT NULL UNIQUE,
    furnisher       TEXT NOT NULL,
    file_name       TEXT,
    content_sha256  TEXT NOT NULL,
    byte_count      INTEGER NOT NULL,
    received_at     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    record_count    INTEGER NOT NULL,
    accepted_count  INTEGER NOT NULL,
    rejected_count  INTEGER NOT NULL,
    error_code      TEXT,
    error_message   TEXT
);
-- Idempotency: a furnisher's byte-identical file is applied once.
CREATE UNIQUE INDEX submission_applied_content
    ON submission (furnisher, content_sha256) WHERE status = 'applied';

-- Every rule each rejected record broke, in file order.
CREATE TABLE rejection (
    submission_key INTEGER NOT NULL REFERENCES submission (submission_key),
    seq            INTEGER NOT NULL,
    line           INTEGER NOT NULL,
    field          TEXT NOT NULL,
    code           TEXT NOT NULL,
    message        TEXT NOT NULL,
    PRIMARY KEY (submission_key, seq)
) WITHOUT ROWID;

-- One subject per (id_type, id), across furnishers.
CREATE TABLE subject (
    subject_key INTEGER PRIMARY KEY,
    id_hash     BLOB NOT NULL UNIQUE,
    id_type     TEXT NOT NULL,
    id_sealed   BLOB NOT NULL
);

-- Each distinct identity (names, birth date, contact) a furnisher reported for a subject.
CREATE TABLE identity (
    identity_key    INTEGER PRIMARY KEY,
    subject_key     INTEGER NOT NULL REFERENCES subject (subject_key),
    furnisher       TEXT NOT NULL,
    identity_hash   BLOB NOT NULL,
    identity_sealed BLOB NOT NULL,
    UNIQUE (subject_key, furnisher, identity_hash)
);

-- Keyed by the furnisher's own account number, which is how records arrive, so a cycle's
-- file (usually sorted by account) walks this table in order; `account_key` is the compact
-- key the other tables use.
CREATE TABLE account (
    furnisher    TEXT NOT NULL,
    account      TEXT NOT NULL,
    account_key  INTEGER NOT NULL,
    -- The subjects of the account's most recently stored record: a signature of who they are
    -- (roles, identifier and identity hashes) and the `subjects` value it resolved to. A next
    -- record with the same people reuses it without looking anyone up.
    subjects_sig BLOB NOT NULL,
    subjects     TEXT NOT NULL,
    PRIMARY KEY (furnisher, account)
) WITHOUT ROWID;
CREATE UNIQUE INDEX account_by_key ON account (account_key);

-- Every subject ever listed on an account; the latest record decides who it belongs to now.
CREATE TABLE account_subject (
    subject_key INTEGER NOT NULL,
    account_key INTEGER NOT NULL,
    PRIMARY KEY (subject_key, account_key)
) WITHOUT ROWID;

-- The current version of each (furnisher, account, as_of) record. Dates are integers
-- YYYYMMDD. Rows are appended in
-- arrival order (a rowid table), so a monthly cycle writes new pages instead of rewriting
-- every account's page; the unique index finds an account's records and refuses a repeat.
CREATE TABLE record (
    account_key       INTEGER NOT NULL,
    as_of             INTEGER NOT NULL,
    submission_key    INTEGER NOT NULL,
    line              INTEGER NOT NULL,
    product           TEXT NOT NULL,
    opened            INTEGER NOT NULL,
    closed            INTEGER,
    currency          TEXT NOT NULL,
    credit_limit      INTEGER,
    original_amount   INTEGER,
    term_months       INTEGER,
    scheduled_payment INTEGER,
    actual_payment    INTEGER,
    balance           INTEGER NOT NULL,
    past_due          INTEGER NOT NULL,
    status            TEXT NOT NULL,
    payment_history   TEXT NOT NULL,
    first_delinquency INTEGER,
    last_payment      INTEGER,
    special_comment   TEXT,
    dispute           TEXT NOT NULL,
    -- [{"subject": key, "role": role, "identity": key}, …]
    subjects          TEXT NOT NULL,
    -- [{"institution": id, "share_bp": n}, …] or NULL
    funding           TEXT
);
CREATE UNIQUE INDEX record_key ON record (account_key, as_of);

-- Versions replaced by corrections: the same columns, and which submission replaced them.
CREATE TABLE record_history (
    account_key       INTEGER NOT NULL,
    as_of             INTEGER NOT NULL,
    submission_key    INTEGER NOT NULL,
    line              INTEGER NOT NULL,
    product           TEXT NOT NULL,
    opened            INTEGER NOT NULL,
    closed            INTEGER,
    currency          TEXT NOT NULL,
    credit_limit      INTEGER,
    original_amount   INTEGER,
    term_months       INTEGER,
    scheduled_payment INTEGER,
    actual_payment    INTEGER,
    balance           INTEGER NOT NULL,
    past_due          INTEGER NOT NULL,
    status            TEXT NOT NULL,
    payment_history   TEXT NOT NULL,
    first_delinquency INTEGER,
    last_payment      INTEGER,
    special_comment   TEXT,
    dispute           TEXT NOT NULL,
    subjects          TEXT NOT NULL,
    funding           TEXT,
    replaced_by       INTEGER NOT NULL REFERENCES submission (submission_key)
);
CREATE INDEX record_history_key ON record_history (account_key, as_of);
