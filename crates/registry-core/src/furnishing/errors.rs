//! The stable error codes of furnishing intake: per-record rejections and whole-file
//! rejections. Codes are part of the public interface (docs/furnishing-errors.md lists them);
//! never rename one.

use serde::Serialize;

code_list! {
    /// Why one record was rejected. Each cross-field rule of the spec has its own code.
    RecordErrorCode {
        LineTooLong = "line_too_long",
        NotAnObject = "not_an_object",
        UnknownField = "unknown_field",
        DuplicateField = "duplicate_field",
        MissingField = "missing_field",
        WrongType = "wrong_type",
        InvalidValue = "invalid_value",
        InvalidLength = "invalid_length",
        ControlCharacter = "control_character",
        InvalidDate = "invalid_date",
        DateInFuture = "date_in_future",
        DateOrder = "date_order",
        OutOfRange = "out_of_range",
        InvalidCurrency = "invalid_currency",
        InvalidCountry = "invalid_country",
        InvalidPhone = "invalid_phone",
        InvalidPaymentHistory = "invalid_payment_history",
        InvalidInstitution = "invalid_institution",
        InvalidIdentifier = "invalid_identifier",
        IdentifierChecksum = "identifier_checksum",
        IdentifierBirthDateMismatch = "identifier_birth_date_mismatch",
        BirthDateRequired = "birth_date_required",
        AgeOutOfRange = "age_out_of_range",
        SubjectCount = "subject_count",
        PrimaryCount = "primary_count",
        PastDueExceedsBalance = "past_due_exceeds_balance",
        BalanceNotZero = "balance_not_zero",
        PastDueNotZero = "past_due_not_zero",
        PastDueRequired = "past_due_required",
        FirstDelinquencyRequired = "first_delinquency_required",
        CreditLimitRequired = "credit_limit_required",
        OriginalAmountRequired = "original_amount_required",
        TermMonthsRequired = "term_months_required",
        ClosedWithOpenStatus = "closed_with_open_status",
        FundingTotal = "funding_total",
        DuplicateFunder = "duplicate_funder",
        DuplicateRecord = "duplicate_record",
        TooManyErrors = "too_many_errors",
        UnreadableRecord = "unreadable_record",
    }
}

code_list! {
    /// Why a whole file was rejected (nothing of it applied).
    FileErrorCode {
        NotUtf8 = "not_utf8",
        InvalidJson = "invalid_json",
        EmptySubmission = "empty_submission",
        TrailerMismatch = "trailer_mismatch",
        TrailerInvalid = "trailer_invalid",
        TrailerNotLast = "trailer_not_last",
        TrailerMissing = "trailer_missing",
        InvalidFraming = "invalid_framing",
        InvalidHeader = "invalid_header",
    }
}

/// One broken rule of one record. Messages never repeat personal data from the record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub line: u64,
    /// Path of the field, like `balance` or `subjects[0].id`; empty for the record as a whole.
    pub field: String,
    pub code: RecordErrorCode,
    pub message: String,
}

/// Why a whole file was rejected.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct FileRejection {
    pub code: FileErrorCode,
    pub message: String,
}

impl FileRejection {
    pub fn new(code: FileErrorCode, message: impl Into<String>) -> FileRejection {
        FileRejection { code, message: message.into() }
    }
}
