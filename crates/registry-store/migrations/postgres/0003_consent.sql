-- Consents, inquiries, freezes and fraud alerts, disputes (the same tables as
-- migrations/sqlite-governance/0002_consent.sql). Dates are text YYYY-MM-DD, times RFC 3339 UTC.
-- Keyed by subject first (Citus: one subject's shard); ids are looked up with their subject.

CREATE SEQUENCE inquiry_id_seq;

-- A consumer's permission for one lender to inquire for one purpose until a date.
CREATE TABLE consent (
    consent_id  text NOT NULL,
    subject_key bigint NOT NULL,
    lender      text NOT NULL,
    purpose     text NOT NULL,
    granted_at  text NOT NULL,
    expires     text NOT NULL,
    revoked_at  text,
    PRIMARY KEY (subject_key, consent_id)
);

-- Every inquiry made on a subject's file (shown on the report).
CREATE TABLE inquiry (
    inquiry_id  bigint NOT NULL DEFAULT nextval('inquiry_id_seq'),
    subject_key bigint NOT NULL,
    made_on     text NOT NULL,
    lender      text NOT NULL,
    purpose     text NOT NULL,
    consent_id  text NOT NULL,
    PRIMARY KEY (subject_key, inquiry_id)
);

-- Security freezes and fraud alerts, each with a start and (once ended) an end.
CREATE TABLE file_flag (
    flag_id     text NOT NULL,
    subject_key bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('freeze', 'fraud_alert')),
    starts      text NOT NULL,
    ends        text,
    created_at  text NOT NULL,
    PRIMARY KEY (subject_key, flag_id)
);

-- A consumer's dispute of an account (or one of its fields), in the furnisher's queue.
CREATE TABLE dispute (
    dispute_id  text NOT NULL,
    subject_key bigint NOT NULL,
    furnisher   text NOT NULL,
    account     text NOT NULL,
    field       text,
    reason      text NOT NULL,
    opened_on   text NOT NULL,
    deadline    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'confirmed', 'corrected')),
    resolved_at text,
    resolution  text,
    PRIMARY KEY (subject_key, dispute_id)
);
CREATE INDEX dispute_furnisher ON dispute (furnisher, status);

-- Citus: consents, inquiries, flags and disputes are about one subject: distributed by it,
-- with the subject's other tables.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('consent', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('inquiry', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('file_flag', 'subject_key', colocate_with => 'subject');
        PERFORM create_distributed_table('dispute', 'subject_key', colocate_with => 'subject');
    END IF;
END
$$;
