//! `copy`'s far end: a registry dumped from the embedded store, loaded into an empty PostgreSQL
//! database in one transaction, keys unchanged.

use std::collections::HashMap;

use postgres::Client;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use registry_core::model::FurnisherId;

use crate::{DumpRow, NewSubmission, StoreError, StoreResult};

use super::connection::{Connection, PostgresStore, WRITER_LOCK, corrupt, in_transaction, map_err};
use super::records::{RECORD_COLUMNS, RECORD_TYPES, RecordValues, copies_of, insert_submission};

impl PostgresStore {
    /// Loads a registry dumped from another backend into this empty database, in one
    /// transaction (all of it or none), keys unchanged. Returns the number of rows read.
    pub fn load(&self, rows: &mut dyn Iterator<Item = StoreResult<DumpRow>>) -> StoreResult<u64> {
        let mut conn = self.connection()?;
        in_transaction(&mut conn, "BEGIN", |conn| {
            conn.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK]).map_err(map_err)?;
            let used: bool = conn
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM submission) OR EXISTS (SELECT 1 FROM subject) OR EXISTS (SELECT 1 FROM meta) \
                     OR EXISTS (SELECT 1 FROM api_key) OR EXISTS (SELECT 1 FROM access_log)",
                    &[],
                )
                .map_err(map_err)?
                .get(0);
            if used {
                return Err(StoreError::NotEmpty);
            }
            let mut furnishers: HashMap<i64, String> = HashMap::new();
            let mut buffer: Vec<DumpRow> = Vec::with_capacity(LOAD_BATCH_ROWS);
            let mut count = 0u64;
            for row in rows {
                let row = row?;
                count += 1;
                if let DumpRow::Submission { key, summary } = &row {
                    furnishers.insert(*key, summary.furnisher.clone());
                }
                if buffer.len() >= LOAD_BATCH_ROWS || buffer.first().is_some_and(|first| load_table(first) != load_table(&row)) {
                    load_rows(conn, &buffer, &furnishers)?;
                    buffer.clear();
                }
                buffer.push(row);
            }
            load_rows(conn, &buffer, &furnishers)?;
            // New keys continue after the copied ones.
            conn.batch_execute(
                "SELECT setval('submission_key_seq', coalesce((SELECT max(submission_key) FROM submission), 0) + 1, false); \
                 SELECT setval('subject_key_seq', coalesce((SELECT max(subject_key) FROM subject), 0) + 1, false); \
                 SELECT setval('identity_key_seq', coalesce((SELECT max(identity_key) FROM identity), 0) + 1, false); \
                 SELECT setval('account_key_seq', coalesce((SELECT max(account_key) FROM account), 0) + 1, false); \
                 SELECT setval('history_key_seq', coalesce((SELECT max(history_key) FROM record_history), 0) + 1, false); \
                 SELECT setval('inquiry_id_seq', coalesce((SELECT max(inquiry_id) FROM inquiry), 0) + 1, false);",
            )
            .map_err(map_err)?;
            Ok(count)
        })
    }
}

/// Which table (current records and replaced versions apart) a dumped row goes to: a buffer
/// holds rows of one.
fn load_table(row: &DumpRow) -> (std::mem::Discriminant<DumpRow>, bool) {
    (std::mem::discriminant(row), matches!(row, DumpRow::Record { replaced: Some(_), .. }))
}

/// Rows of one kind written with one `COPY` (or insert, for the few meta and submission rows).
const LOAD_BATCH_ROWS: usize = 10_000;

fn load_rows(conn: &mut Connection, rows: &[DumpRow], furnishers: &HashMap<i64, String>) -> StoreResult<()> {
    let Some(first) = rows.first() else { return Ok(()) };
    let copy = |conn: &mut Client,
                sql: &str,
                types: &[Type],
                each: &mut dyn FnMut(&mut BinaryCopyInWriter<'_>, &DumpRow) -> StoreResult<()>|
     -> StoreResult<()> {
        let sink = conn.copy_in(sql).map_err(map_err)?;
        let mut writer = BinaryCopyInWriter::new(sink, types);
        for row in rows {
            each(&mut writer, row)?;
        }
        writer.finish().map_err(map_err)?;
        Ok(())
    };
    match first {
        DumpRow::Meta { .. } | DumpRow::Submission { .. } => {
            for row in rows {
                match row {
                    DumpRow::Meta { name, value } => {
                        conn.execute("INSERT INTO meta (name, value) VALUES ($1, $2)", &[name, value]).map_err(map_err)?;
                    }
                    DumpRow::Submission { key, summary } => {
                        let submission = NewSubmission {
                            submission_id: summary.submission_id.clone(),
                            furnisher: FurnisherId::parse(&summary.furnisher)
                                .map_err(|_| corrupt(format!("bad furnisher {:?}", summary.furnisher)))?,
                            file_name: summary.file_name.clone(),
                            content_sha256: summary.content_sha256.clone(),
                            byte_count: summary.byte_count,
                            received_at: summary.received_at.clone(),
                            format: summary.format,
                        };
                        insert_submission(conn, &submission, summary.status, summary.record_count, summary.error.as_ref(), Some(*key))?;
                        conn.execute(
                            "UPDATE submission SET accepted_count = $3, rejected_count = $4 WHERE furnisher = $1 AND submission_key = $2",
                            &[&summary.furnisher, key, &(summary.accepted_count as i64), &(summary.rejected_count as i64)],
                        )
                        .map_err(map_err)?;
                    }
                    _ => return Err(corrupt("a dump mixed row kinds")),
                }
            }
            Ok(())
        }
        DumpRow::Rejection { .. } => copy(
            conn,
            "COPY rejection (furnisher, submission_key, seq, line, field, code, message) FROM STDIN BINARY",
            &[Type::TEXT, Type::INT8, Type::INT8, Type::INT8, Type::TEXT, Type::TEXT, Type::TEXT],
            &mut |w, row| {
                let DumpRow::Rejection { submission_key, seq, error } = row else { return Err(corrupt("a dump mixed row kinds")) };
                let furnisher = furnishers.get(submission_key).ok_or_else(|| corrupt("a rejection of an unknown submission"))?;
                w.write(&[furnisher, submission_key, seq, &(error.line as i64), &error.field, &error.code.as_str(), &error.message])
                    .map_err(map_err)
            },
        ),
        DumpRow::Subject { .. } => {
            copy(conn, "COPY subject_lookup (id_hash, subject_key) FROM STDIN BINARY", &[Type::BYTEA, Type::INT8], &mut |w, row| {
                let DumpRow::Subject { key, id_hash, .. } = row else { return Err(corrupt("a dump mixed row kinds")) };
                w.write(&[id_hash, key]).map_err(map_err)
            })?;
            copy(
                conn,
                "COPY subject (subject_key, id_type, id_sealed) FROM STDIN BINARY",
                &[Type::INT8, Type::TEXT, Type::BYTEA],
                &mut |w, row| {
                    let DumpRow::Subject { key, id_type, id_sealed, .. } = row else { return Err(corrupt("a dump mixed row kinds")) };
                    w.write(&[key, id_type, id_sealed]).map_err(map_err)
                },
            )
        }
        DumpRow::Identity { .. } => copy(
            conn,
            "COPY identity (subject_key, identity_key, furnisher, identity_hash, identity_sealed) FROM STDIN BINARY",
            &[Type::INT8, Type::INT8, Type::TEXT, Type::BYTEA, Type::BYTEA],
            &mut |w, row| {
                let DumpRow::Identity { key, subject_key, furnisher, identity_hash, sealed } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[subject_key, key, furnisher, identity_hash, sealed]).map_err(map_err)
            },
        ),
        DumpRow::Account { .. } => copy(
            conn,
            "COPY account (account, furnisher, account_key, subjects_sig, subjects, members) FROM STDIN BINARY",
            &[Type::TEXT, Type::TEXT, Type::INT8, Type::BYTEA, Type::TEXT, Type::INT8_ARRAY],
            &mut |w, row| {
                let DumpRow::Account { key, furnisher, account, subjects_sig, subjects, members } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[account, furnisher, key, subjects_sig, subjects, members]).map_err(map_err)
            },
        ),
        DumpRow::Membership { .. } => copy(
            conn,
            "COPY subject_account (subject_key, account_key, furnisher, account) FROM STDIN BINARY",
            &[Type::INT8, Type::INT8, Type::TEXT, Type::TEXT],
            &mut |w, row| {
                let DumpRow::Membership { subject_key, account_key, furnisher, account } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                w.write(&[subject_key, account_key, furnisher, account]).map_err(map_err)
            },
        ),
        DumpRow::Governance(_) => {
            for row in rows {
                let DumpRow::Governance(row) = row else { return Err(corrupt("a dump mixed row kinds")) };
                super::governance::insert_row(conn, row)?;
            }
            Ok(())
        }
        DumpRow::Record { replaced, .. } => {
            let history = replaced.is_some();
            let (sql, types) = if history {
                (
                    format!("COPY record_history ({RECORD_COLUMNS}, replaced_by, history_key) FROM STDIN BINARY"),
                    [RECORD_TYPES, &[Type::INT8, Type::INT8]].concat(),
                )
            } else {
                (format!("COPY record ({RECORD_COLUMNS}) FROM STDIN BINARY"), RECORD_TYPES.to_vec())
            };
            copy(conn, &sql, &types, &mut |w, row| {
                let DumpRow::Record { account_key, submission_key, line, columns: c, replaced } = row else {
                    return Err(corrupt("a dump mixed row kinds"));
                };
                if replaced.is_some() != history {
                    return Err(corrupt("a dump mixed current and replaced records"));
                }
                let (replaced_by, history_key) = replaced.unwrap_or_default();
                let extra: &[&(dyn ToSql + Sync)] = if history { &[&replaced_by, &history_key] } else { &[] };
                let values = RecordValues::from_columns(c, *account_key, *submission_key, *line);
                for (index, subject_key) in copies_of(&c.subjects)?.into_iter().enumerate() {
                    values.write(w, subject_key, index == 0, extra)?;
                }
                Ok(())
            })
        }
    }
}
