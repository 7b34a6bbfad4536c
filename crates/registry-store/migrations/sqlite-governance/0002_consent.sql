-- Consents, inquiries, freezes and fraud alerts, disputes (the same tables as
-- migrations/postgres/0003_consent.sql). Dates are text YYYY-MM-DD, times RFC 3339 UTC.
-- Keyed by subject first, as on PostgreSQL; ids are looked up with their subject.

-- A consumer's permission for one lender to inquire for one purpose until a date.
CREATE TABLE consent (
    consent_id  TEXT NOT NULL,
    subject_key INTEGER NOT NULL,
    lender      TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    granted_at  TEXT NOT NULL,
    expires     TEXT NOT NULL,
    revoked_at  TEXT,
    PRIMARY KEY (subject_key, consent_id)
);

-- Every inquiry made on a subject's file (shown on the report).
CREATE TABLE inquiry (
    inquiry_id  INTEGER PRIMARY KEY,
    subject_key INTEGER NOT NULL,
    made_on     TEXT NOT NULL,
    lender      TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    consent_id  TEXT NOT NULL
);
CREATE INDEX inquiry_subject ON inquiry (subject_key, made_on);

-- Security freezes and fraud alerts, each with a start and (once ended) an end.
CREATE TABLE file_flag (
    flag_id     TEXT NOT NULL,
    subject_key INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('freeze', 'fraud_alert')),
    starts      TEXT NOT NULL,
    ends        TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (subject_key, flag_id)
);

-- A consumer's dispute of an account (or one of its fields), in the furnisher's queue.
CREATE TABLE dispute (
    dispute_id  TEXT NOT NULL,
    subject_key INTEGER NOT NULL,
    furnisher   TEXT NOT NULL,
    account     TEXT NOT NULL,
    field       TEXT,
    reason      TEXT NOT NULL,
    opened_on   TEXT NOT NULL,
    deadline    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'corrected')),
    resolved_at TEXT,
    resolution  TEXT,
    PRIMARY KEY (subject_key, dispute_id)
);
CREATE INDEX dispute_furnisher ON dispute (furnisher, status);
