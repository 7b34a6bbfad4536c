//! A submission on PostgreSQL: one transaction, each batch applied set by set (one query finds
//! the batch's accounts, one its stored records, one or two its people) and written with
//! binary `COPY`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use registry_core::furnishing::RecordError;
use registry_core::model::Date;
use registry_core::submission::{Fate, Holder, fate};

use crate::codec::{self, StoredLink};
use crate::writing::{self, Progress, subjects_signature};
use crate::{
    BatchCounts, BatchItem, Begin, KeyedHash, NewSubmission, SealedRecord, StoreResult, SubmissionStatus, SubmissionSummary,
    SubmissionWriter,
};

use super::connection::{Connection, Pooled, WRITER_LOCK, corrupt, map_err};
use super::records::{RECORD_COLUMNS, RECORD_COLUMNS_R, RECORD_TYPES, RecordValues, copies_of, find_applied_on, insert_submission, unique};

/// A submission that stored at least this many records refreshes the planner's statistics.
const ANALYZE_AFTER_RECORDS: u64 = 10_000;
/// Lines held back and applied together: each set of statements costs a round trip per
/// statement, and on a distributed database one task per shard, whatever its size (a
/// 100,000-record first load on a local Citus cluster: 16.8 s in batches of 1,024 lines).
const LINES_PER_WRITE: usize = 8_192;

pub(super) struct PgSubmission {
    conn: Pooled,
    state: PgWriterState,
    committed: bool,
    /// Batches held back until `LINES_PER_WRITE` lines are.
    held: Vec<std::sync::Arc<Vec<BatchItem>>>,
    held_lines: usize,
}

impl PgSubmission {
    /// Applies the batches held back, in order, as one set.
    fn apply_held(&mut self) -> StoreResult<BatchCounts> {
        let held = std::mem::take(&mut self.held);
        self.held_lines = 0;
        let items: Vec<&BatchItem> = held.iter().flat_map(|batch| batch.iter()).collect();
        if items.is_empty() {
            return Ok(BatchCounts::default());
        }
        self.state.write_batch(&mut self.conn, &items)
    }
}

impl PgSubmission {
    /// Starts a submission on `conn`: its transaction waits up to `lock_wait_ms` for the writer
    /// lock, unless the same furnisher already applied the same content.
    pub(super) fn begin(mut conn: Pooled, submission: &NewSubmission, lock_wait_ms: u64) -> StoreResult<Begin<'static>> {
        conn.batch_execute("BEGIN").map_err(map_err)?;
        writing::begin(
            conn,
            |conn| {
                // SET LOCAL: the wait applies to this transaction's lock only.
                conn.batch_execute(&format!("SET LOCAL lock_timeout = {lock_wait_ms}")).map_err(map_err)?;
                conn.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(map_err)?;
                conn.batch_execute("SET LOCAL lock_timeout = 0").map_err(map_err)?;
                if let Some(applied) = find_applied_on(conn, submission.furnisher.as_str(), &submission.content_sha256)? {
                    return Ok(Err(applied));
                }
                insert_submission(conn, submission, SubmissionStatus::Applied, 0, None, None).map(Ok)
            },
            |conn, submission_key| {
                let state = PgWriterState { progress: Progress::new(submission_key, submission) };
                Box::new(PgSubmission { conn, state, committed: false, held: Vec::new(), held_lines: 0 })
            },
            |conn| conn.batch_execute("ROLLBACK").map_err(map_err),
        )
    }
}

/// Everything a submission writer remembers besides its connection.
struct PgWriterState {
    progress: Progress,
}

/// An account as stored (or as this batch leaves it).
#[derive(Clone)]
struct AccountState {
    key: i64,
    subjects_sig: Vec<u8>,
    subjects: Arc<str>,
    /// The distinct subjects of `subjects`, first listed first: who gets a copy of a record.
    copies: Arc<[i64]>,
    members: Vec<i64>,
    /// Whether the account row must be inserted (true) or updated (`changed`).
    new: bool,
    changed: bool,
}

/// Rejection rows waiting for `COPY`.
struct RejectionRow {
    seq: i64,
    error: RecordError,
}

impl PgWriterState {
    fn push_rejections(&mut self, rows: &mut Vec<RejectionRow>, errors: &[RecordError]) {
        for error in errors {
            self.progress.rejection_seq += 1;
            rows.push(RejectionRow { seq: self.progress.rejection_seq, error: error.clone() });
        }
    }

    fn write_batch(&mut self, conn: &mut Connection, items: &[&BatchItem]) -> StoreResult<BatchCounts> {
        let furnisher = self.progress.submission.furnisher.as_str().to_owned();
        let records: Vec<&SealedRecord> = items
            .iter()
            .filter_map(|item| match *item {
                BatchItem::Accepted(record) => Some(record),
                BatchItem::Rejected(_) => None,
            })
            .collect();

        // 1. The batch's accounts, in one query.
        let numbers: Vec<&str> = unique(records.iter().map(|r| r.facts.account.as_str()));
        let mut accounts: HashMap<String, AccountState> = HashMap::with_capacity(numbers.len());
        for row in conn.prepared_query(
            "SELECT account, account_key, subjects_sig, subjects, members FROM account WHERE furnisher = $1 AND account = ANY($2)",
            &[&furnisher, &numbers],
        )? {
            let subjects: String = row.get(3);
            let copies = copies_of(&subjects)?.into();
            accounts.insert(
                row.get(0),
                AccountState {
                    key: row.get(1),
                    subjects_sig: row.get(2),
                    subjects: subjects.into(),
                    copies,
                    members: row.get(4),
                    new: false,
                    changed: false,
                },
            );
        }
        // Every subject each account ever had, as the batch found it: where its rows live.
        let members_before: HashMap<i64, Vec<i64>> = accounts.values().map(|a| (a.key, a.members.clone())).collect();

        // 2. Which of the batch's keys are stored already (and by which submission).
        let existing = Self::existing_records(conn, &records, &accounts)?;

        // 3. Classify in file order: a repeat of a key earlier in this submission is rejected
        //    before anyone is looked up or created, so it leaves no trace.
        let mut seen: HashMap<(&str, Date), u64> = HashMap::new();
        let mut kinds = Vec::with_capacity(records.len());
        for record in &records {
            let facts = &record.facts;
            let holder = match seen.get(&(facts.account.as_str(), facts.as_of)) {
                Some(&line) => Holder::ThisSubmission { line },
                None => match accounts.get(&facts.account).and_then(|a| existing.get(&(a.key, codec::date_number(facts.as_of) as i32))) {
                    Some(&(submission_key, line)) if submission_key == self.progress.submission_key => {
                        Holder::ThisSubmission { line: line as u64 }
                    }
                    Some(_) => Holder::EarlierSubmission,
                    None => Holder::Nobody,
                },
            };
            let kind = fate(facts, record.line, holder);
            if !matches!(kind, Fate::Repeat(_)) {
                seen.insert((facts.account.as_str(), facts.as_of), record.line);
            }
            kinds.push(kind);
        }

        // 4. The people of records whose account does not already name them, in bulk.
        let signatures: Vec<[u8; 16]> = records.iter().map(|r| subjects_signature(r)).collect();
        //    An account whose people change anywhere in the batch may change back later in it, so
        //    all its records' people are resolved.
        let changing: HashSet<&str> = records
            .iter()
            .zip(&kinds)
            .zip(&signatures)
            .filter(|((record, kind), signature)| {
                !matches!(kind, Fate::Repeat(_)) && accounts.get(&record.facts.account).is_none_or(|a| a.subjects_sig != signature[..])
            })
            .map(|((record, _), _)| record.facts.account.as_str())
            .collect();
        let needs_people: Vec<&SealedRecord> = records
            .iter()
            .zip(&kinds)
            .filter(|(record, kind)| !matches!(kind, Fate::Repeat(_)) && changing.contains(record.facts.account.as_str()))
            .map(|(record, _)| *record)
            .collect();
        let subject_keys = self.resolve_subjects(conn, &needs_people)?;
        let identity_keys = self.resolve_identities(conn, &needs_people, &subject_keys)?;

        // 5. Walk the batch in order, as SQLite applies it record by record.
        let new_accounts = unique(
            records
                .iter()
                .zip(&kinds)
                .filter(|(r, k)| !matches!(k, Fate::Repeat(_)) && !accounts.contains_key(&r.facts.account))
                .map(|(r, _)| r.facts.account.as_str()),
        )
        .len();
        let mut account_keys = next_keys(conn, "account_key_seq", new_accounts)?.into_iter();
        let mut rejections = Vec::new();
        let mut memberships: Vec<(i64, i64, String)> = Vec::new();
        let mut corrections: Vec<(i64, i32)> = Vec::new();
        let mut rows: Vec<RecordRow<'_>> = Vec::with_capacity(records.len() * 2);
        let mut counts = BatchCounts::default();
        let mut accepted = records.iter().zip(&kinds).zip(&signatures);
        for item in items {
            let record = match item {
                BatchItem::Rejected(errors) => {
                    self.push_rejections(&mut rejections, errors);
                    counts.rejected += 1;
                    continue;
                }
                BatchItem::Accepted(record) => record,
            };
            let ((_, kind), signature) = accepted.next().ok_or_else(|| corrupt("batch walk out of step"))?;
            let facts = &record.facts;
            if let Fate::Repeat(error) = kind {
                self.push_rejections(&mut rejections, std::slice::from_ref(error));
                counts.rejected += 1;
                continue;
            }
            if !accounts.contains_key(&facts.account) {
                let key = account_keys.next().ok_or_else(|| corrupt("ran out of allocated account keys"))?;
                let new = AccountState {
                    key,
                    subjects_sig: Vec::new(),
                    subjects: "".into(),
                    copies: Arc::new([]),
                    members: Vec::new(),
                    new: true,
                    changed: true,
                };
                accounts.insert(facts.account.clone(), new);
            }
            let account = accounts.get_mut(&facts.account).ok_or_else(|| corrupt("an account vanished from the batch"))?;
            if account.subjects_sig != signature[..] {
                let mut links = Vec::with_capacity(record.subjects.len());
                for subject in &record.subjects {
                    let subject_key = *subject_keys.get(&subject.id_hash).ok_or_else(|| corrupt("a subject was not resolved"))?;
                    let identity =
                        *identity_keys.get(&(subject_key, subject.identity_hash)).ok_or_else(|| corrupt("an identity was not resolved"))?;
                    links.push(StoredLink { subject: subject_key, role: subject.role, identity });
                    if !account.members.contains(&subject_key) {
                        account.members.push(subject_key);
                    }
                    if self.progress.cached.memberships.get(&(subject_key, account.key)).is_none() {
                        self.progress.cached.memberships.insert((subject_key, account.key), ());
                        memberships.push((subject_key, account.key, facts.account.clone()));
                    }
                }
                account.subjects = codec::encode_links(&links).into();
                account.copies = unique(links.iter().map(|l| l.subject)).into();
                account.subjects_sig = signature.to_vec();
                account.changed = true;
            }
            let as_of = codec::date_number(facts.as_of) as i32;
            if *kind == Fate::Correction {
                corrections.push((account.key, as_of));
            }
            for (index, &subject_key) in account.copies.iter().enumerate() {
                rows.push(RecordRow {
                    subject_key,
                    account_key: account.key,
                    as_of,
                    primary: index == 0,
                    record,
                    subjects: account.subjects.clone(),
                });
            }
            counts.accepted += 1;
        }

        // 6. Write: replaced versions to the history first, then accounts, memberships, the
        //    records (grouped by subject, the future shard key) and the rejections.
        self.move_to_history(conn, &corrections, &members_before)?;
        write_accounts(conn, &furnisher, &accounts)?;
        if !memberships.is_empty() {
            let (subject_keys, account_keys, numbers): (Vec<i64>, Vec<i64>, Vec<String>) = unzip3(memberships);
            conn.prepared_execute(
                "INSERT INTO subject_account (subject_key, account_key, furnisher, account) \
                 SELECT s, a, $4, n FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS t(s, a, n) ON CONFLICT DO NOTHING",
                &[&subject_keys, &account_keys, &numbers, &furnisher],
            )?;
        }
        rows.sort_by_key(|row| (row.subject_key, row.account_key, row.as_of));
        self.copy_records(conn, &rows)?;
        self.copy_rejections(conn, &furnisher, &rejections)?;

        self.progress.counts.accepted += counts.accepted;
        self.progress.counts.rejected += counts.rejected;
        Ok(counts)
    }

    /// `(account_key, as_of)` → `(submission_key, line)` of the batch's keys already stored,
    /// probing every subject each account ever had (where its copies live).
    fn existing_records(
        conn: &mut Connection,
        records: &[&SealedRecord],
        accounts: &HashMap<String, AccountState>,
    ) -> StoreResult<HashMap<(i64, i32), (i64, i64)>> {
        let (mut subject_keys, mut account_keys, mut dates) = (Vec::new(), Vec::new(), Vec::new());
        for record in records {
            if let Some(account) = accounts.get(&record.facts.account) {
                for &member in &account.members {
                    subject_keys.push(member);
                    account_keys.push(account.key);
                    dates.push(codec::date_number(record.facts.as_of) as i32);
                }
            }
        }
        let mut existing = HashMap::new();
        if subject_keys.is_empty() {
            return Ok(existing);
        }
        for row in conn.prepared_query(
            "SELECT r.account_key, r.as_of, r.submission_key, r.line FROM record r \
                 JOIN unnest($1::bigint[], $2::bigint[], $3::integer[]) AS k(s, a, d) \
                   ON r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d",
            &[&subject_keys, &account_keys, &dates],
        )? {
            existing.insert((row.get(0), row.get(1)), (row.get(2), row.get(3)));
        }
        Ok(existing)
    }

    /// Finds or creates the subject of every identifier on `records`, in order of first
    /// appearance (so new subjects get keys in file order, as in SQLite).
    /// Returns them for this batch: the cache may forget entries as it fills, the batch's map
    /// does not.
    fn resolve_subjects(&mut self, conn: &mut Connection, records: &[&SealedRecord]) -> StoreResult<HashMap<KeyedHash, i64>> {
        let mut resolved: HashMap<KeyedHash, i64> = HashMap::new();
        let mut wanted: Vec<&crate::SealedSubject> = Vec::new();
        let mut asked = HashSet::new();
        for subject in records.iter().flat_map(|r| &r.subjects) {
            match self.progress.cached.subjects.get(&subject.id_hash) {
                Some(key) => {
                    resolved.insert(subject.id_hash, key);
                }
                None if asked.insert(subject.id_hash) => wanted.push(subject),
                None => {}
            }
        }
        if wanted.is_empty() {
            return Ok(resolved);
        }
        let hashes: Vec<&[u8]> = wanted.iter().map(|s| &s.id_hash[..]).collect();
        let mut found: HashMap<Vec<u8>, i64> = HashMap::new();
        for row in conn.prepared_query("SELECT id_hash, subject_key FROM subject_lookup WHERE id_hash = ANY($1)", &[&hashes])? {
            found.insert(row.get(0), row.get(1));
        }
        let missing: Vec<&crate::SealedSubject> = wanted.iter().copied().filter(|s| !found.contains_key(&s.id_hash[..])).collect();
        let keys = next_keys(conn, "subject_key_seq", missing.len())?;
        if !missing.is_empty() {
            let hashes: Vec<&[u8]> = missing.iter().map(|s| &s.id_hash[..]).collect();
            let types: Vec<&str> = missing.iter().map(|s| s.id_type.as_str()).collect();
            let sealed: Vec<&[u8]> = missing.iter().map(|s| &s.id_sealed[..]).collect();
            conn.prepared_execute(
                "INSERT INTO subject_lookup (id_hash, subject_key) SELECT * FROM unnest($1::bytea[], $2::bigint[])",
                &[&hashes, &keys],
            )?;
            conn.prepared_execute(
                "INSERT INTO subject (subject_key, id_type, id_sealed) SELECT * FROM unnest($1::bigint[], $2::text[], $3::bytea[])",
                &[&keys, &types, &sealed],
            )?;
        }
        for (subject, key) in missing.iter().zip(&keys) {
            found.insert(subject.id_hash.to_vec(), *key);
        }
        for subject in wanted {
            let key = *found.get(&subject.id_hash[..]).ok_or_else(|| corrupt("a subject look-up lost a row"))?;
            self.progress.cached.subjects.insert(subject.id_hash, key);
            resolved.insert(subject.id_hash, key);
        }
        Ok(resolved)
    }

    /// Finds or creates each (subject, reported identity) on `records` for this furnisher.
    fn resolve_identities(
        &mut self,
        conn: &mut Connection,
        records: &[&SealedRecord],
        subjects: &HashMap<KeyedHash, i64>,
    ) -> StoreResult<HashMap<(i64, KeyedHash), i64>> {
        let mut resolved: HashMap<(i64, KeyedHash), i64> = HashMap::new();
        let mut wanted: Vec<(i64, &crate::SealedSubject)> = Vec::new();
        let mut asked = HashSet::new();
        for subject in records.iter().flat_map(|r| &r.subjects) {
            let subject_key = *subjects.get(&subject.id_hash).ok_or_else(|| corrupt("a subject was not resolved"))?;
            let key = (subject_key, subject.identity_hash);
            match self.progress.cached.identities.get(&key) {
                Some(identity) => {
                    resolved.insert(key, identity);
                }
                None if asked.insert(key) => wanted.push((subject_key, subject)),
                None => {}
            }
        }
        if wanted.is_empty() {
            return Ok(resolved);
        }
        let furnisher = self.progress.submission.furnisher.as_str();
        let subject_keys: Vec<i64> = wanted.iter().map(|(k, _)| *k).collect();
        let hashes: Vec<&[u8]> = wanted.iter().map(|(_, s)| &s.identity_hash[..]).collect();
        let mut found: HashMap<(i64, Vec<u8>), i64> = HashMap::new();
        for row in conn.prepared_query(
            "SELECT i.subject_key, i.identity_hash, i.identity_key FROM identity i \
                 JOIN unnest($1::bigint[], $2::bytea[]) AS k(s, h) ON i.subject_key = k.s AND i.identity_hash = k.h \
                 WHERE i.furnisher = $3",
            &[&subject_keys, &hashes, &furnisher],
        )? {
            found.insert((row.get(0), row.get(1)), row.get(2));
        }
        let missing: Vec<(i64, &crate::SealedSubject)> =
            wanted.iter().copied().filter(|(k, s)| !found.contains_key(&(*k, s.identity_hash.to_vec()))).collect();
        let keys = next_keys(conn, "identity_key_seq", missing.len())?;
        if !missing.is_empty() {
            let subject_keys: Vec<i64> = missing.iter().map(|(k, _)| *k).collect();
            let hashes: Vec<&[u8]> = missing.iter().map(|(_, s)| &s.identity_hash[..]).collect();
            let sealed: Vec<&[u8]> = missing.iter().map(|(_, s)| &s.identity_sealed[..]).collect();
            conn.prepared_execute(
                "INSERT INTO identity (subject_key, identity_key, furnisher, identity_hash, identity_sealed) \
                 SELECT s, i, $5, h, x FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS t(s, i, h, x)",
                &[&subject_keys, &keys, &hashes, &sealed, &furnisher],
            )?;
        }
        for ((subject_key, subject), key) in missing.iter().zip(&keys) {
            found.insert((*subject_key, subject.identity_hash.to_vec()), *key);
        }
        for (subject_key, subject) in wanted {
            let key =
                *found.get(&(subject_key, subject.identity_hash.to_vec())).ok_or_else(|| corrupt("an identity look-up lost a row"))?;
            self.progress.cached.identities.insert((subject_key, subject.identity_hash), key);
            resolved.insert((subject_key, subject.identity_hash), key);
        }
        Ok(resolved)
    }

    /// Moves every copy of each corrected record to the history, marked as replaced by this
    /// submission.
    fn move_to_history(&self, conn: &mut Connection, corrections: &[(i64, i32)], members: &HashMap<i64, Vec<i64>>) -> StoreResult<()> {
        if corrections.is_empty() {
            return Ok(());
        }
        let (mut subject_keys, mut account_keys, mut dates) = (Vec::new(), Vec::new(), Vec::new());
        for (account_key, as_of) in corrections {
            for &member in members.get(account_key).map(Vec::as_slice).unwrap_or_default() {
                subject_keys.push(member);
                account_keys.push(*account_key);
                dates.push(*as_of);
            }
        }
        let columns = &*RECORD_COLUMNS_R;
        conn.prepared_execute(
            &format!(
                "INSERT INTO record_history ({RECORD_COLUMNS}, replaced_by, history_key) \
                 SELECT {columns}, $4, nextval('history_key_seq') FROM record r \
                 JOIN unnest($1::bigint[], $2::bigint[], $3::integer[]) WITH ORDINALITY AS k(s, a, d, n) \
                   ON r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d ORDER BY k.n"
            ),
            &[&subject_keys, &account_keys, &dates, &self.progress.submission_key],
        )?;
        conn.prepared_execute(
            "DELETE FROM record r USING unnest($1::bigint[], $2::bigint[], $3::integer[]) AS k(s, a, d) \
             WHERE r.subject_key = k.s AND r.account_key = k.a AND r.as_of = k.d",
            &[&subject_keys, &account_keys, &dates],
        )?;
        Ok(())
    }

    fn copy_records(&self, conn: &mut Connection, rows: &[RecordRow<'_>]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sink = conn.copy_in(&format!("COPY record ({RECORD_COLUMNS}) FROM STDIN BINARY")).map_err(map_err)?;
        let mut writer = BinaryCopyInWriter::new(sink, RECORD_TYPES);
        for row in rows {
            let facts = &row.record.facts;
            let funding = (!facts.funding.is_empty()).then(|| codec::encode_funding(&facts.funding));
            let values = RecordValues::from_facts(
                facts,
                row.account_key,
                self.progress.submission_key,
                row.record.line as i64,
                &row.subjects,
                funding.as_deref(),
            );
            values.write(&mut writer, row.subject_key, row.primary, &[])?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    }

    fn copy_rejections(&self, conn: &mut Connection, furnisher: &str, rows: &[RejectionRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let sink = conn
            .copy_in("COPY rejection (furnisher, submission_key, seq, line, field, code, message) FROM STDIN BINARY")
            .map_err(map_err)?;
        let mut writer =
            BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT]);
        for row in rows {
            writer
                .write(&[
                    &furnisher,
                    &self.progress.submission_key,
                    &row.seq,
                    &(row.error.line as i64),
                    &row.error.field,
                    &row.error.code.as_str(),
                    &row.error.message,
                ])
                .map_err(map_err)?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    }
}

/// One copy of a record, for one of its subjects.
struct RecordRow<'r> {
    subject_key: i64,
    account_key: i64,
    as_of: i32,
    primary: bool,
    record: &'r SealedRecord,
    subjects: Arc<str>,
}

/// Inserts the batch's new accounts and updates the changed ones.
fn write_accounts(conn: &mut Connection, furnisher: &str, accounts: &HashMap<String, AccountState>) -> StoreResult<()> {
    for new in [true, false] {
        let changed: Vec<(&String, &AccountState)> = accounts.iter().filter(|(_, a)| a.changed && a.new == new).collect();
        if changed.is_empty() {
            continue;
        }
        let numbers: Vec<&str> = changed.iter().map(|(n, _)| n.as_str()).collect();
        let keys: Vec<i64> = changed.iter().map(|(_, a)| a.key).collect();
        let signatures: Vec<&[u8]> = changed.iter().map(|(_, a)| a.subjects_sig.as_slice()).collect();
        let subjects: Vec<&str> = changed.iter().map(|(_, a)| &*a.subjects).collect();
        // Arrays of arrays must be rectangular in PostgreSQL: members travel as text.
        let members: Vec<String> =
            changed.iter().map(|(_, a)| format!("{{{}}}", a.members.iter().map(i64::to_string).collect::<Vec<_>>().join(","))).collect();
        let sql = if new {
            "INSERT INTO account (account, furnisher, account_key, subjects_sig, subjects, members) \
             SELECT n, $6, k, s, j, m::bigint[] FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::text[], $5::text[]) AS t(n, k, s, j, m)"
        } else {
            "UPDATE account SET subjects_sig = t.s, subjects = t.j, members = t.m::bigint[] \
             FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::text[], $5::text[]) AS t(n, k, s, j, m) \
             WHERE account.account = t.n AND account.furnisher = $6"
        };
        conn.prepared_execute(sql, &[&numbers, &keys, &signatures, &subjects, &members, &furnisher])?;
    }
    Ok(())
}

/// `count` fresh keys from a sequence, ascending.
fn next_keys(conn: &mut Connection, sequence: &str, count: usize) -> StoreResult<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut keys: Vec<i64> = conn
        .prepared_query("SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)", &[&sequence, &(count as i64)])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    keys.sort_unstable();
    Ok(keys)
}

fn unzip3<A, B, C>(items: Vec<(A, B, C)>) -> (Vec<A>, Vec<B>, Vec<C>) {
    let mut out = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
    for (a, b, c) in items {
        out.0.push(a);
        out.1.push(b);
        out.2.push(c);
    }
    out
}

impl SubmissionWriter for PgSubmission {
    fn write_batch(&mut self, items: std::sync::Arc<Vec<BatchItem>>) -> StoreResult<BatchCounts> {
        self.held_lines += items.len();
        self.held.push(items);
        if self.held_lines < LINES_PER_WRITE {
            return Ok(BatchCounts::default());
        }
        self.apply_held()
    }

    fn commit(mut self: Box<Self>, record_count: u64) -> StoreResult<SubmissionSummary> {
        self.apply_held()?;
        let state = &self.state;
        self.conn
            .execute(
                "UPDATE submission SET record_count = $3, accepted_count = $4, rejected_count = $5 \
                 WHERE furnisher = $1 AND submission_key = $2",
                &[
                    &state.progress.submission.furnisher.as_str(),
                    &state.progress.submission_key,
                    &(record_count as i64),
                    &(state.progress.counts.accepted as i64),
                    &(state.progress.counts.rejected as i64),
                ],
            )
            .map_err(map_err)?;
        self.conn.batch_execute("COMMIT").map_err(map_err)?;
        self.committed = true;
        if self.state.progress.counts.accepted >= ANALYZE_AFTER_RECORDS {
            // Until autovacuum catches up (a minute or more), the planner would judge the new
            // rows by stale statistics and read a subject's records with parallel workers: 8 ms
            // a report instead of 0.9 ms after a million-record load. The submission is
            // committed either way; if this fails, autovacuum does it later.
            let _ = self.conn.batch_execute("ANALYZE subject_lookup, subject, identity, account, subject_account, record");
        }
        Ok(self.state.progress.submission.summary(SubmissionStatus::Applied, record_count, self.state.progress.counts, None))
    }
}

impl Drop for PgSubmission {
    fn drop(&mut self) {
        if !self.committed {
            // If the connection is gone the server has rolled back already.
            let _ = self.conn.batch_execute("ROLLBACK");
        }
    }
}
