-- Data quality (docs/data-quality.md): the evaluators' findings on stored records, and each
-- submission's hits by evaluator. A finding names the furnisher's account and the record's
-- date, never a person. Replaced when the record it is about is corrected, or when the whole
-- store is evaluated again.
CREATE TABLE finding (
    furnisher     TEXT NOT NULL,
    account       TEXT NOT NULL,
    as_of         INTEGER NOT NULL,
    evaluator     TEXT NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('high', 'review')),
    message       TEXT NOT NULL,
    -- The submission whose evaluation found it; NULL when a whole-store run did.
    submission_id TEXT,
    PRIMARY KEY (furnisher, as_of, account, evaluator)
) WITHOUT ROWID;

-- What the evaluation of each applied submission found, by evaluator (a submission's result
-- keeps saying so after a later run re-evaluates its records).
CREATE TABLE submission_quality (
    furnisher         TEXT NOT NULL,
    submission_id     TEXT NOT NULL,
    evaluator         TEXT NOT NULL,
    hits              INTEGER NOT NULL,
    PRIMARY KEY (furnisher, submission_id, evaluator)
) WITHOUT ROWID;
