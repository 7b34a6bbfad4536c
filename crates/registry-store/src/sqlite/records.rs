//! How a record and a submission are laid out in SQLite's rows: the column lists, reading a row
//! back, writing a submission's row.

use std::borrow::Cow;
use std::sync::LazyLock;

use registry_core::furnishing::{FileErrorCode, FileRejection, Format};
use registry_core::model::AccountFacts;
use registry_core::report::SubjectLink;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::codec;
use crate::{NewSubmission, StoreResult, SubmissionStatus, SubmissionSummary};

use super::connection::map_err;

/// The column list of `record` and `record_history`, as a literal for `concat!`.
macro_rules! record_columns {
    () => {
        "account_key, as_of, submission_key, line, product, opened, closed, currency, \
         credit_limit, original_amount, term_months, scheduled_payment, actual_payment, balance, past_due, status, \
         payment_history, first_delinquency, last_payment, special_comment, dispute, subjects, funding, reporter_id"
    };
}
pub(super) use record_columns;

pub(super) const RECORD_COLUMNS: &str = record_columns!();
/// `RECORD_COLUMNS` of the table aliased `r`.
pub(super) static RECORD_COLUMNS_R: LazyLock<String> = LazyLock::new(|| codec::qualified(RECORD_COLUMNS, "r"));
pub(super) const SUBMISSION_COLUMNS: &str = "submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
     status, record_count, accepted_count, rejected_count, error_code, error_message, format";

pub(super) fn submission_from_row(row: &Row<'_>) -> rusqlite::Result<SubmissionSummary> {
    submission_from_row_at(row, 0)
}

/// Reads the `SUBMISSION_COLUMNS` starting at column `at`.
pub(super) fn submission_from_row_at(row: &Row<'_>, at: usize) -> rusqlite::Result<SubmissionSummary> {
    let status: String = row.get(at + 6)?;
    let error_code: Option<String> = row.get(at + 10)?;
    let error_message: Option<String> = row.get(at + 11)?;
    let format: String = row.get(at + 12)?;
    Ok(SubmissionSummary {
        submission_id: row.get(at)?,
        furnisher: row.get(at + 1)?,
        file_name: row.get(at + 2)?,
        content_sha256: row.get(at + 3)?,
        byte_count: row.get::<_, i64>(at + 4)? as u64,
        received_at: row.get(at + 5)?,
        status: if status == "applied" { SubmissionStatus::Applied } else { SubmissionStatus::Rejected },
        record_count: row.get::<_, i64>(at + 7)? as u64,
        accepted_count: row.get::<_, i64>(at + 8)? as u64,
        rejected_count: row.get::<_, i64>(at + 9)? as u64,
        error: match (error_code, error_message) {
            (Some(code), Some(message)) => Some(FileRejection { code: code.parse().unwrap_or(FileErrorCode::InvalidJson), message }),
            _ => None,
        },
        format: format.parse().unwrap_or(Format::JsonLines),
    })
}

/// Inserts a submission's row (with zero counts; an applied one's are set at commit).
pub(super) fn insert_submission(
    conn: &Connection,
    submission: &NewSubmission,
    status: SubmissionStatus,
    record_count: u64,
    rejection: Option<&FileRejection>,
) -> StoreResult<i64> {
    conn.execute(
        "INSERT INTO submission (submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
         status, record_count, accepted_count, rejected_count, error_code, error_message, format) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?10, ?11)",
        params![
            submission.submission_id,
            submission.furnisher.as_str(),
            submission.file_name,
            submission.content_sha256,
            submission.byte_count as i64,
            submission.received_at,
            if status == SubmissionStatus::Applied { "applied" } else { "rejected" },
            record_count as i64,
            rejection.map(|r| r.code.as_str()),
            rejection.map(|r| r.message.as_str()),
            submission.format.as_str(),
        ],
    )
    .map_err(map_err)?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn find_applied_on(conn: &Connection, furnisher: &str, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
    conn.prepare_cached(&format!(
        "SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = ?1 AND content_sha256 = ?2 AND status = 'applied'"
    ))
    .and_then(|mut stmt| stmt.query_row(params![furnisher, content_sha256], submission_from_row).optional())
    .map_err(map_err)
}

/// Reads the `RECORD_COLUMNS` starting at column `at`. The account number is the column just
/// before them.
pub(super) fn record_from_row(row: &Row<'_>, at: usize) -> StoreResult<(AccountFacts, Vec<SubjectLink>)> {
    record_columns_from_row(row, at)?.into_facts()
}

pub(super) fn record_columns_from_row<'r>(row: &'r Row<'_>, at: usize) -> StoreResult<codec::RecordColumns<'r>> {
    let cells = Cells { row, at };
    Ok(codec::RecordColumns {
        account: row.get(at - 1).map_err(map_err)?,
        as_of: cells.int(1)?,
        product: cells.code(4)?,
        opened: cells.int(5)?,
        closed: cells.opt_int(6)?,
        currency: cells.code(7)?,
        credit_limit: cells.opt_int(8)?,
        original_amount: cells.opt_int(9)?,
        term_months: cells.opt_int(10)?,
        scheduled_payment: cells.opt_int(11)?,
        actual_payment: cells.opt_int(12)?,
        balance: cells.int(13)?,
        past_due: cells.int(14)?,
        status: cells.code(15)?,
        payment_history: cells.text(16)?,
        first_delinquency: cells.opt_int(17)?,
        last_payment: cells.opt_int(18)?,
        special_comment: cells.opt_text(19)?,
        dispute: cells.code(20)?,
        subjects: cells.code(21)?,
        funding: cells.opt_code(22)?,
        reporter_id: cells.opt_text(23)?,
    })
}

/// A row's columns from `at` on, read by offset. Coded columns are borrowed where they lie,
/// without a copy (a scan reads millions).
pub(super) struct Cells<'r, 's> {
    pub row: &'r Row<'s>,
    pub at: usize,
}

impl<'r> Cells<'r, '_> {
    fn value(&self, i: usize) -> StoreResult<rusqlite::types::ValueRef<'r>> {
        self.row.get_ref(self.at + i).map_err(map_err)
    }

    pub fn int(&self, i: usize) -> StoreResult<i64> {
        self.value(i)?.as_i64().map_err(|e| map_err(e.into()))
    }

    pub fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.value(i)?.as_i64_or_null().map_err(|e| map_err(e.into()))
    }

    pub fn text(&self, i: usize) -> StoreResult<String> {
        self.row.get(self.at + i).map_err(map_err)
    }

    pub fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.row.get(self.at + i).map_err(map_err)
    }

    pub fn code(&self, i: usize) -> StoreResult<Cow<'r, str>> {
        Ok(Cow::Borrowed(self.value(i)?.as_str().map_err(|e| map_err(e.into()))?))
    }

    pub fn opt_code(&self, i: usize) -> StoreResult<Option<Cow<'r, str>>> {
        Ok(self.value(i)?.as_str_or_null().map_err(|e| map_err(e.into()))?.map(Cow::Borrowed))
    }
}
