-- Data quality (docs/data-quality.md): the evaluators' findings on stored records, and each
-- submission's hits by evaluator. A finding names the furnisher's account and the record's
-- date, never a person. Citus: distributed by furnisher, with its submissions.
CREATE TABLE finding (
    furnisher     text NOT NULL,
    account       text NOT NULL,
    as_of         integer NOT NULL,
    evaluator     text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('high', 'review')),
    message       text NOT NULL,
    -- The submission whose evaluation found it; NULL when a whole-store run did.
    submission_id text,
    PRIMARY KEY (furnisher, as_of, account, evaluator)
);

CREATE TABLE submission_quality (
    furnisher     text NOT NULL,
    submission_id text NOT NULL,
    evaluator     text NOT NULL,
    hits          bigint NOT NULL,
    PRIMARY KEY (furnisher, submission_id, evaluator)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM create_distributed_table('finding', 'furnisher', colocate_with => 'submission');
        PERFORM create_distributed_table('submission_quality', 'furnisher', colocate_with => 'submission');
    END IF;
END
$$;
