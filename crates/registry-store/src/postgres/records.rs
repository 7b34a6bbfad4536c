//! How a record and a submission are laid out in PostgreSQL's rows: the column lists and types,
//! reading a row back, and writing one with binary `COPY` (ingest and `copy` alike).

use std::collections::HashSet;
use std::sync::LazyLock;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row};
use registry_core::furnishing::{FileErrorCode, FileRejection, Format};
use registry_core::model::{AmountMinor, Date};

use crate::codec::{self};
use crate::{NewSubmission, StoreResult, SubmissionStatus, SubmissionSummary};

use super::connection::map_err;

/// The record columns after `subject_key, account_key, as_of`, in table order.
pub(super) const RECORD_COLUMNS: &str = "subject_key, account_key, as_of, primary_copy, submission_key, line, product, opened, closed, \
     currency, credit_limit, original_amount, term_months, scheduled_payment, actual_payment, balance, past_due, status, \
     payment_history, first_delinquency, last_payment, special_comment, dispute, subjects, funding, reporter_id";

/// `RECORD_COLUMNS` of the table aliased `r`.
pub(super) static RECORD_COLUMNS_R: LazyLock<String> = LazyLock::new(|| codec::qualified(RECORD_COLUMNS, "r"));
/// How many `RECORD_COLUMNS` there are (one type each).
pub(super) const RECORD_COLUMN_COUNT: usize = RECORD_TYPES.len();

/// The type of each of `RECORD_COLUMNS`.
pub(super) const RECORD_TYPES: &[Type] = &[
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::BOOL,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::INT4,
    Type::INT4,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::INT4,
    Type::INT4,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

pub(super) const SUBMISSION_COLUMNS: &str = "submission_id, furnisher, file_name, content_sha256, byte_count, received_at, \
     status, record_count, accepted_count, rejected_count, error_code, error_message, format";

pub(super) fn submission_from_row(row: &Row) -> StoreResult<SubmissionSummary> {
    let get_u64 = |i: usize| row.try_get::<_, i64>(i).map(|v| v as u64).map_err(map_err);
    let status: String = row.try_get(6).map_err(map_err)?;
    let error_code: Option<String> = row.try_get(10).map_err(map_err)?;
    let error_message: Option<String> = row.try_get(11).map_err(map_err)?;
    let format: String = row.try_get(12).map_err(map_err)?;
    Ok(SubmissionSummary {
        submission_id: row.try_get(0).map_err(map_err)?,
        furnisher: row.try_get(1).map_err(map_err)?,
        file_name: row.try_get(2).map_err(map_err)?,
        content_sha256: row.try_get(3).map_err(map_err)?,
        byte_count: get_u64(4)?,
        received_at: row.try_get(5).map_err(map_err)?,
        status: if status == "applied" { SubmissionStatus::Applied } else { SubmissionStatus::Rejected },
        record_count: get_u64(7)?,
        accepted_count: get_u64(8)?,
        rejected_count: get_u64(9)?,
        error: match (error_code, error_message) {
            (Some(code), Some(message)) => Some(FileRejection { code: code.parse().unwrap_or(FileErrorCode::InvalidJson), message }),
            _ => None,
        },
        format: format.parse().unwrap_or(Format::JsonLines),
    })
}

/// Inserts a submission's row (with zero counts; an applied one's are set at commit). `key`:
/// a key to keep (a copied registry's), else the next from the sequence.
pub(super) fn insert_submission(
    conn: &mut Client,
    submission: &NewSubmission,
    status: SubmissionStatus,
    record_count: u64,
    rejection: Option<&FileRejection>,
    key: Option<i64>,
) -> StoreResult<i64> {
    let row = conn
        .query_one(
            "INSERT INTO submission (furnisher, submission_key, submission_id, file_name, content_sha256, byte_count, \
             received_at, status, record_count, accepted_count, rejected_count, error_code, error_message, format) \
             VALUES ($1, coalesce($12, nextval('submission_key_seq')), $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, $11) \
             RETURNING submission_key",
            &[
                &submission.furnisher.as_str(),
                &submission.submission_id,
                &submission.file_name,
                &submission.content_sha256,
                &(submission.byte_count as i64),
                &submission.received_at,
                &if status == SubmissionStatus::Applied { "applied" } else { "rejected" },
                &(record_count as i64),
                &rejection.map(|r| r.code.as_str()),
                &rejection.map(|r| r.message.as_str()),
                &submission.format.as_str(),
                &key,
            ],
        )
        .map_err(map_err)?;
    Ok(row.get(0))
}

pub(super) fn find_applied_on(conn: &mut Client, furnisher: &str, content_sha256: &str) -> StoreResult<Option<SubmissionSummary>> {
    conn.query_opt(
        &format!("SELECT {SUBMISSION_COLUMNS} FROM submission WHERE furnisher = $1 AND content_sha256 = $2 AND status = 'applied'"),
        &[&furnisher, &content_sha256],
    )
    .map_err(map_err)?
    .map(|row| submission_from_row(&row))
    .transpose()
}

/// Reads a row that starts with the `RECORD_COLUMNS`.
pub(super) fn record_from_row(
    row: &Row,
    account: &str,
) -> StoreResult<(registry_core::model::AccountFacts, Vec<registry_core::report::SubjectLink>)> {
    record_from_row_at(row, 0, account)
}

/// Reads the `RECORD_COLUMNS` of a row starting at column `at`.
pub(super) fn record_from_row_at(
    row: &Row,
    at: usize,
    account: &str,
) -> StoreResult<(registry_core::model::AccountFacts, Vec<registry_core::report::SubjectLink>)> {
    let int4 = |i: usize| row.try_get::<_, i32>(at + i).map(i64::from).map_err(map_err);
    let opt_int4 = |i: usize| row.try_get::<_, Option<i32>>(at + i).map(|v| v.map(i64::from)).map_err(map_err);
    let int8 = |i: usize| row.try_get::<_, i64>(at + i).map_err(map_err);
    let opt_int8 = |i: usize| row.try_get::<_, Option<i64>>(at + i).map_err(map_err);
    let text = |i: usize| row.try_get::<_, String>(at + i).map_err(map_err);
    let opt_text = |i: usize| row.try_get::<_, Option<String>>(at + i).map_err(map_err);
    // Borrowed from the row: parsed in place, no copy per coded column.
    let code = |i: usize| row.try_get::<_, &str>(at + i).map(std::borrow::Cow::Borrowed).map_err(map_err);
    let opt_code = |i: usize| row.try_get::<_, Option<&str>>(at + i).map(|v| v.map(std::borrow::Cow::Borrowed)).map_err(map_err);
    codec::RecordColumns {
        account: account.to_owned(),
        as_of: int4(2)?,
        product: code(6)?,
        opened: int4(7)?,
        closed: opt_int4(8)?,
        currency: code(9)?,
        credit_limit: opt_int8(10)?,
        original_amount: opt_int8(11)?,
        term_months: opt_int4(12)?,
        scheduled_payment: opt_int8(13)?,
        actual_payment: opt_int8(14)?,
        balance: int8(15)?,
        past_due: int8(16)?,
        status: code(17)?,
        payment_history: text(18)?,
        first_delinquency: opt_int4(19)?,
        last_payment: opt_int4(20)?,
        special_comment: opt_text(21)?,
        dispute: code(22)?,
        subjects: code(23)?,
        funding: opt_code(24)?,
        reporter_id: opt_text(25)?,
    }
    .into_facts()
}

/// The distinct subjects of an encoded `subjects` list, first listed first: the subjects a
/// record is stored with (the first one's copy is the primary).
pub(super) fn copies_of(subjects: &str) -> StoreResult<Vec<i64>> {
    Ok(unique(codec::decode_links(subjects)?.into_iter().map(|l| l.subject)))
}

/// The distinct items, in order of first appearance.
pub(super) fn unique<T: Eq + std::hash::Hash + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|item| seen.insert(*item)).collect()
}

/// A record's values in `RECORD_COLUMNS` order, borrowed, except the subject a copy belongs
/// to: the one list of what a `record` or `record_history` row holds, for ingest and for load.
pub(super) struct RecordValues<'a> {
    account_key: i64,
    as_of: i32,
    submission_key: i64,
    line: i64,
    product: &'a str,
    opened: i32,
    closed: Option<i32>,
    currency: &'a str,
    credit_limit: Option<i64>,
    original_amount: Option<i64>,
    term_months: Option<i32>,
    scheduled_payment: Option<i64>,
    actual_payment: Option<i64>,
    balance: i64,
    past_due: i64,
    status: &'a str,
    payment_history: &'a str,
    first_delinquency: Option<i32>,
    last_payment: Option<i32>,
    special_comment: Option<&'a str>,
    dispute: &'a str,
    subjects: &'a str,
    funding: Option<&'a str>,
    reporter_id: Option<&'a str>,
}

impl<'a> RecordValues<'a> {
    pub(super) fn from_facts(
        facts: &'a registry_core::model::AccountFacts,
        account_key: i64,
        submission_key: i64,
        line: i64,
        subjects: &'a str,
        funding: Option<&'a str>,
    ) -> RecordValues<'a> {
        let amount = |a: Option<AmountMinor>| a.map(|a| a.0 as i64);
        let date = |d: Option<Date>| d.map(|d| codec::date_number(d) as i32);
        RecordValues {
            account_key,
            as_of: codec::date_number(facts.as_of) as i32,
            submission_key,
            line,
            product: facts.product.as_str(),
            opened: codec::date_number(facts.opened) as i32,
            closed: date(facts.closed),
            currency: facts.currency.code(),
            credit_limit: amount(facts.credit_limit),
            original_amount: amount(facts.original_amount),
            term_months: facts.term_months.map(i32::from),
            scheduled_payment: amount(facts.scheduled_payment),
            actual_payment: amount(facts.actual_payment),
            balance: facts.balance.0 as i64,
            past_due: facts.past_due.0 as i64,
            status: facts.status.as_str(),
            payment_history: &facts.payment_history,
            first_delinquency: date(facts.first_delinquency),
            last_payment: date(facts.last_payment),
            special_comment: facts.special_comment.as_deref(),
            dispute: facts.dispute.as_str(),
            subjects,
            funding,
            reporter_id: facts.reporter_id.as_deref(),
        }
    }

    /// A dumped record as it was stored (dates YYYYMMDD fit an integer).
    pub(super) fn from_columns(c: &'a crate::RecordColumns<'_>, account_key: i64, submission_key: i64, line: i64) -> RecordValues<'a> {
        let int4 = |v: i64| v as i32;
        RecordValues {
            account_key,
            as_of: int4(c.as_of),
            submission_key,
            line,
            product: &c.product,
            opened: int4(c.opened),
            closed: c.closed.map(int4),
            currency: &c.currency,
            credit_limit: c.credit_limit,
            original_amount: c.original_amount,
            term_months: c.term_months.map(int4),
            scheduled_payment: c.scheduled_payment,
            actual_payment: c.actual_payment,
            balance: c.balance,
            past_due: c.past_due,
            status: &c.status,
            payment_history: &c.payment_history,
            first_delinquency: c.first_delinquency.map(int4),
            last_payment: c.last_payment.map(int4),
            special_comment: c.special_comment.as_deref(),
            dispute: &c.dispute,
            subjects: &c.subjects,
            funding: c.funding.as_deref(),
            reporter_id: c.reporter_id.as_deref(),
        }
    }

    /// Writes the copy of `subject_key`, then the `extra` columns a history row adds.
    pub(super) fn write(
        &self,
        writer: &mut BinaryCopyInWriter<'_>,
        subject_key: i64,
        primary: bool,
        extra: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<()> {
        let columns: [&(dyn ToSql + Sync); RECORD_COLUMN_COUNT] = [
            &subject_key,
            &self.account_key,
            &self.as_of,
            &primary,
            &self.submission_key,
            &self.line,
            &self.product,
            &self.opened,
            &self.closed,
            &self.currency,
            &self.credit_limit,
            &self.original_amount,
            &self.term_months,
            &self.scheduled_payment,
            &self.actual_payment,
            &self.balance,
            &self.past_due,
            &self.status,
            &self.payment_history,
            &self.first_delinquency,
            &self.last_payment,
            &self.special_comment,
            &self.dispute,
            &self.subjects,
            &self.funding,
            &self.reporter_id,
        ];
        if extra.is_empty() {
            return writer.write(&columns).map_err(map_err);
        }
        let all: Vec<&(dyn ToSql + Sync)> = columns.iter().chain(extra).copied().collect();
        writer.write(&all).map_err(map_err)
    }
}
