//! A submission on the embedded file: one write transaction, records applied one by one with
//! statements prepared once per batch.

use std::sync::MutexGuard;

use registry_core::furnishing::RecordError;
use registry_core::model::{AmountMinor, Date};
use registry_core::submission::{Fate, Holder, fate};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec;
use crate::writing::{self, Progress, subjects_signature};
use crate::{
    BatchCounts, BatchItem, Begin, NewSubmission, SealedRecord, StoreResult, SubmissionStatus, SubmissionSummary, SubmissionWriter,
};

use super::connection::{corrupt, map_err};
use super::records::{find_applied_on, insert_submission, record_columns};

pub(super) struct SqliteSubmission<'s> {
    conn: MutexGuard<'s, Connection>,
    state: WriterState,
    committed: bool,
}

impl<'s> SqliteSubmission<'s> {
    /// Starts a submission on the writer connection: its transaction takes the file's write
    /// lock, unless the same furnisher already applied the same content.
    pub(super) fn begin(conn: MutexGuard<'s, Connection>, submission: &NewSubmission) -> StoreResult<Begin<'s>> {
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        writing::begin(
            conn,
            |conn| {
                if let Some(applied) = find_applied_on(conn, submission.furnisher.as_str(), &submission.content_sha256)? {
                    return Ok(Err(applied));
                }
                let submission_key = insert_submission(conn, submission, SubmissionStatus::Applied, 0, None)?;
                let last_account_key: i64 =
                    conn.query_row("SELECT coalesce(max(account_key), 0) FROM account", [], |r| r.get(0)).map_err(map_err)?;
                Ok(Ok((submission_key, last_account_key)))
            },
            |conn, (submission_key, last_account_key)| {
                let state = WriterState { progress: Progress::new(submission_key, submission), last_account_key };
                Box::new(SqliteSubmission { conn, state, committed: false })
            },
            |conn| conn.execute_batch("ROLLBACK").map_err(map_err),
        )
    }
}

/// Everything a submission writer remembers besides its connection.
struct WriterState {
    progress: Progress,
    /// The highest account key in use; new accounts take the next (we hold the write lock).
    last_account_key: i64,
}

/// What happened to one accepted record.
enum Applied {
    Stored,
    /// The same key already came earlier in this submission (`submission::fate`).
    Rejected(RecordError),
}

/// The writer's statements, prepared once per batch rather than looked up per record.
struct Statements<'c> {
    reject: rusqlite::CachedStatement<'c>,
    find_account: rusqlite::CachedStatement<'c>,
    insert_account: rusqlite::CachedStatement<'c>,
    update_account: rusqlite::CachedStatement<'c>,
    find_subject: rusqlite::CachedStatement<'c>,
    insert_subject: rusqlite::CachedStatement<'c>,
    find_identity: rusqlite::CachedStatement<'c>,
    insert_identity: rusqlite::CachedStatement<'c>,
    link: rusqlite::CachedStatement<'c>,
    find_record: rusqlite::CachedStatement<'c>,
    insert_record: rusqlite::CachedStatement<'c>,
    keep_history: rusqlite::CachedStatement<'c>,
    delete_record: rusqlite::CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(conn: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            reject: conn.prepare_cached(
                "INSERT INTO rejection (submission_key, seq, line, field, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            find_account: conn
                .prepare_cached("SELECT account_key, subjects_sig, subjects FROM account WHERE furnisher = ?1 AND account = ?2")?,
            insert_account: conn.prepare_cached(
                "INSERT INTO account (furnisher, account, account_key, subjects_sig, subjects) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            update_account: conn.prepare_cached("UPDATE account SET subjects_sig = ?2, subjects = ?3 WHERE account_key = ?1")?,
            find_subject: conn.prepare_cached("SELECT subject_key FROM subject WHERE id_hash = ?1")?,
            insert_subject: conn.prepare_cached("INSERT INTO subject (id_hash, id_type, id_sealed) VALUES (?1, ?2, ?3)")?,
            find_identity: conn
                .prepare_cached("SELECT identity_key FROM identity WHERE subject_key = ?1 AND furnisher = ?2 AND identity_hash = ?3")?,
            insert_identity: conn
                .prepare_cached("INSERT INTO identity (subject_key, furnisher, identity_hash, identity_sealed) VALUES (?1, ?2, ?3, ?4)")?,
            link: conn.prepare_cached("INSERT OR IGNORE INTO account_subject (subject_key, account_key) VALUES (?1, ?2)")?,
            find_record: conn.prepare_cached("SELECT submission_key, line FROM record WHERE account_key = ?1 AND as_of = ?2")?,
            insert_record: conn.prepare_cached(concat!(
                "INSERT OR IGNORE INTO record (",
                record_columns!(),
                ") VALUES ",
                "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
            ))?,
            keep_history: conn.prepare_cached(concat!(
                "INSERT INTO record_history (",
                record_columns!(),
                ", replaced_by) SELECT ",
                record_columns!(),
                ", ?3 FROM record WHERE account_key = ?1 AND as_of = ?2"
            ))?,
            delete_record: conn.prepare_cached("DELETE FROM record WHERE account_key = ?1 AND as_of = ?2")?,
        })
    }
}

impl WriterState {
    fn reject(&mut self, sql: &mut Statements<'_>, errors: &[RecordError]) -> StoreResult<()> {
        for error in errors {
            self.progress.rejection_seq += 1;
            sql.reject
                .execute(params![
                    self.progress.submission_key,
                    self.progress.rejection_seq,
                    error.line as i64,
                    error.field,
                    error.code.as_str(),
                    error.message,
                ])
                .map_err(map_err)?;
        }
        Ok(())
    }

    /// The stored account: its key and the subjects of its latest stored record.
    fn find_account(&mut self, sql: &mut Statements<'_>, account: &str) -> StoreResult<Option<AccountRow>> {
        sql.find_account
            .query_row(params![self.progress.submission.furnisher.as_str(), account], |r| {
                Ok(AccountRow { key: r.get(0)?, subjects_sig: r.get(1)?, subjects: r.get(2)? })
            })
            .optional()
            .map_err(map_err)
    }

    fn subject_key(&mut self, sql: &mut Statements<'_>, conn: &Connection, subject: &crate::SealedSubject) -> StoreResult<i64> {
        if let Some(key) = self.progress.cached.subjects.get(&subject.id_hash) {
            return Ok(key);
        }
        let found: Option<i64> = sql.find_subject.query_row([&subject.id_hash[..]], |r| r.get(0)).optional().map_err(map_err)?;
        let key = if let Some(key) = found {
            key
        } else {
            sql.insert_subject.execute(params![&subject.id_hash[..], subject.id_type.as_str(), &subject.id_sealed[..]]).map_err(map_err)?;
            conn.last_insert_rowid()
        };
        self.progress.cached.subjects.insert(subject.id_hash, key);
        Ok(key)
    }

    fn identity_key(
        &mut self,
        sql: &mut Statements<'_>,
        conn: &Connection,
        subject_key: i64,
        subject: &crate::SealedSubject,
    ) -> StoreResult<i64> {
        let cache_key = (subject_key, subject.identity_hash);
        if let Some(key) = self.progress.cached.identities.get(&cache_key) {
            return Ok(key);
        }
        let furnisher = self.progress.submission.furnisher.as_str();
        let found: Option<i64> = sql
            .find_identity
            .query_row(params![subject_key, furnisher, &subject.identity_hash[..]], |r| r.get(0))
            .optional()
            .map_err(map_err)?;
        let key = if let Some(key) = found {
            key
        } else {
            sql.insert_identity
                .execute(params![subject_key, furnisher, &subject.identity_hash[..], &subject.identity_sealed[..]])
                .map_err(map_err)?;
            conn.last_insert_rowid()
        };
        self.progress.cached.identities.insert(cache_key, key);
        Ok(key)
    }

    fn link(&mut self, sql: &mut Statements<'_>, subject_key: i64, account_key: i64) -> StoreResult<()> {
        if self.progress.cached.memberships.get(&(subject_key, account_key)).is_some() {
            return Ok(());
        }
        sql.link.execute(params![subject_key, account_key]).map_err(map_err)?;
        self.progress.cached.memberships.insert((subject_key, account_key), ());
        Ok(())
    }

    fn apply(&mut self, sql: &mut Statements<'_>, conn: &Connection, record: &SealedRecord) -> StoreResult<Applied> {
        let facts = &record.facts;
        let as_of = codec::date_number(facts.as_of);
        let signature = subjects_signature(record);
        let account = self.find_account(sql, &facts.account)?;
        let (account_key, subjects) = match account {
            // The same people as on the account's last record: nobody to look up.
            Some(account) if account.subjects_sig == signature => {
                let inserted = self.insert_record(&mut sql.insert_record, account.key, as_of, &account.subjects, record)?;
                if inserted {
                    return Ok(Applied::Stored);
                }
                (account.key, account.subjects)
            }
            account => {
                if let Some(existing) = &account
                    && let Fate::Repeat(error) = fate(facts, record.line, self.holder(sql, existing.key, as_of)?)
                {
                    // Checked before anyone is created, so a repeated record leaves no trace.
                    return Ok(Applied::Rejected(error));
                }
                let mut links = Vec::with_capacity(record.subjects.len());
                let mut new_members = Vec::with_capacity(record.subjects.len());
                for subject in &record.subjects {
                    let subject_key = self.subject_key(sql, conn, subject)?;
                    let identity = self.identity_key(sql, conn, subject_key, subject)?;
                    links.push(codec::StoredLink { subject: subject_key, role: subject.role, identity });
                    new_members.push(subject_key);
                }
                let subjects = codec::encode_links(&links);
                let account_key = if let Some(existing) = account {
                    sql.update_account.execute(params![existing.key, &signature[..], subjects]).map_err(map_err)?;
                    existing.key
                } else {
                    self.last_account_key += 1;
                    sql.insert_account
                        .execute(params![
                            self.progress.submission.furnisher.as_str(),
                            facts.account,
                            self.last_account_key,
                            &signature[..],
                            subjects
                        ])
                        .map_err(map_err)?;
                    self.last_account_key
                };
                for subject_key in new_members {
                    self.link(sql, subject_key, account_key)?;
                }
                if self.insert_record(&mut sql.insert_record, account_key, as_of, &subjects, record)? {
                    return Ok(Applied::Stored);
                }
                (account_key, subjects)
            }
        };
        // The key is held already: by an earlier line of this file, or by an earlier submission.
        match fate(facts, record.line, self.holder(sql, account_key, as_of)?) {
            Fate::Repeat(error) => return Ok(Applied::Rejected(error)),
            Fate::New => return Err(corrupt("a record's key was held, and then was not")),
            Fate::Correction => {}
        }
        // A correction: keep the replaced version in the history, then overwrite.
        sql.keep_history.execute(params![account_key, as_of, self.progress.submission_key]).map_err(map_err)?;
        sql.delete_record.execute(params![account_key, as_of]).map_err(map_err)?;
        if !self.insert_record(&mut sql.insert_record, account_key, as_of, &subjects, record)? {
            return Err(corrupt("a record vanished and reappeared during its correction"));
        }
        Ok(Applied::Stored)
    }

    /// Who holds the key already: nobody, an earlier submission, or this one (from which line).
    fn holder(&self, sql: &mut Statements<'_>, account_key: i64, as_of: i64) -> StoreResult<Holder> {
        let existing: Option<(i64, i64)> =
            sql.find_record.query_row(params![account_key, as_of], |r| Ok((r.get(0)?, r.get(1)?))).optional().map_err(map_err)?;
        Ok(match existing {
            None => Holder::Nobody,
            Some((submission, line)) if submission == self.progress.submission_key => Holder::ThisSubmission { line: line as u64 },
            Some(_) => Holder::EarlierSubmission,
        })
    }

    /// Inserts the record unless its key exists; returns whether it was inserted.
    fn insert_record(
        &self,
        insert: &mut rusqlite::CachedStatement<'_>,
        account_key: i64,
        as_of: i64,
        subjects: &str,
        record: &SealedRecord,
    ) -> StoreResult<bool> {
        let facts = &record.facts;
        let funding = (!facts.funding.is_empty()).then(|| codec::encode_funding(&facts.funding));
        let amount = |a: Option<AmountMinor>| a.map(|a| a.0 as i64);
        let date = |d: Option<Date>| d.map(codec::date_number);
        let inserted = insert
            .execute(params![
                account_key,
                as_of,
                self.progress.submission_key,
                record.line as i64,
                facts.product.as_str(),
                codec::date_number(facts.opened),
                date(facts.closed),
                facts.currency.code(),
                amount(facts.credit_limit),
                amount(facts.original_amount),
                facts.term_months.map(i64::from),
                amount(facts.scheduled_payment),
                amount(facts.actual_payment),
                facts.balance.0 as i64,
                facts.past_due.0 as i64,
                facts.status.as_str(),
                facts.payment_history,
                date(facts.first_delinquency),
                date(facts.last_payment),
                facts.special_comment,
                facts.dispute.as_str(),
                subjects,
                funding,
                facts.reporter_id,
            ])
            .map_err(map_err)?;
        Ok(inserted == 1)
    }
}

/// An account as stored, with the subjects of its latest stored record.
struct AccountRow {
    key: i64,
    subjects_sig: Vec<u8>,
    subjects: String,
}

impl SubmissionWriter for SqliteSubmission<'_> {
    fn write_batch(&mut self, items: std::sync::Arc<Vec<BatchItem>>) -> StoreResult<BatchCounts> {
        let conn: &Connection = &self.conn;
        let state = &mut self.state;
        let mut sql = Statements::prepare(conn).map_err(map_err)?;
        let mut counts = BatchCounts::default();
        for item in items.iter() {
            match item {
                BatchItem::Rejected(errors) => {
                    state.reject(&mut sql, errors)?;
                    counts.rejected += 1;
                }
                BatchItem::Accepted(record) => match state.apply(&mut sql, conn, record)? {
                    Applied::Stored => counts.accepted += 1,
                    Applied::Rejected(error) => {
                        state.reject(&mut sql, &[error])?;
                        counts.rejected += 1;
                    }
                },
            }
        }
        state.progress.counts.accepted += counts.accepted;
        state.progress.counts.rejected += counts.rejected;
        Ok(counts)
    }

    fn commit(mut self: Box<Self>, record_count: u64) -> StoreResult<SubmissionSummary> {
        let state = &self.state;
        self.conn
            .execute(
                "UPDATE submission SET record_count = ?2, accepted_count = ?3, rejected_count = ?4 WHERE submission_key = ?1",
                params![
                    state.progress.submission_key,
                    record_count as i64,
                    state.progress.counts.accepted as i64,
                    state.progress.counts.rejected as i64
                ],
            )
            .map_err(map_err)?;
        self.conn.execute_batch("COMMIT").map_err(map_err)?;
        self.committed = true;
        Ok(self.state.progress.submission.summary(SubmissionStatus::Applied, record_count, self.state.progress.counts, None))
    }
}

impl Drop for SqliteSubmission<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}
