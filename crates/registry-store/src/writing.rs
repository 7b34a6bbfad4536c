//! What every backend's submission writer shares: how a submission begins, bounded look-up
//! caches and the signature of who is on a record.

use std::collections::HashMap;
use std::hash::Hash;

use sha2::{Digest, Sha256};

use crate::{BatchCounts, Begin, KeyedHash, NewSubmission, SealedRecord, StoreResult, SubmissionSummary, SubmissionWriter};

/// Begins a submission on `conn`, whose transaction is open: `prepare` takes the writer's lock
/// and, unless the furnisher already applied the same content (`Err(applied)`), inserts the
/// submission's row; `writer` then takes the connection, its transaction still open. A
/// duplicate or a failure rolls the transaction back, leaving nothing written.
pub(crate) fn begin<'s, C, Started>(
    mut conn: C,
    prepare: impl FnOnce(&mut C) -> StoreResult<Result<Started, SubmissionSummary>>,
    writer: impl FnOnce(C, Started) -> Box<dyn SubmissionWriter + 's>,
    rollback: impl FnOnce(&mut C) -> StoreResult<()>,
) -> StoreResult<Begin<'s>> {
    match prepare(&mut conn) {
        Ok(Ok(started)) => Ok(Begin::Started(writer(conn, started))),
        Ok(Err(applied)) => {
            rollback(&mut conn)?;
            Ok(Begin::Duplicate(applied))
        }
        Err(e) => {
            // The failure is what the caller needs to hear; a failed rollback ends with the
            // connection, which the pool or the next BEGIN discards.
            let _ = rollback(&mut conn);
            Err(e)
        }
    }
}

/// What a submission writer keeps of its submission as it goes, whichever backend.
pub(crate) struct Progress {
    /// The submission's row.
    pub submission_key: i64,
    pub submission: NewSubmission,
    /// The number of the last rejection stored (they are numbered in file order).
    pub rejection_seq: i64,
    pub counts: BatchCounts,
    pub cached: LookupCaches,
}

impl Progress {
    pub fn new(submission_key: i64, submission: &NewSubmission) -> Progress {
        Progress {
            submission_key,
            submission: submission.clone(),
            rejection_seq: 0,
            counts: BatchCounts::default(),
            cached: LookupCaches::default(),
        }
    }
}

/// Entries kept in each look-up cache of a submission writer before it starts afresh.
const CACHE_ENTRIES_MAX: usize = 50_000;

/// A look-up cache that forgets everything when full, so memory stays bounded however large
/// the submission.
pub struct BoundedMap<K, V>(HashMap<K, V>);

impl<K, V> Default for BoundedMap<K, V> {
    fn default() -> Self {
        BoundedMap(HashMap::new())
    }
}

impl<K: Eq + Hash, V: Copy> BoundedMap<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        self.0.get(key).copied()
    }

    pub fn insert(&mut self, key: K, value: V) {
        if self.0.len() >= CACHE_ENTRIES_MAX {
            self.0.clear();
        }
        self.0.insert(key, value);
    }
}

/// What a submission writer has already looked up or created in this submission: subject keys
/// by identifier hash, identity keys by (subject, identity hash), and (subject, account) links.
#[derive(Default)]
pub struct LookupCaches {
    pub subjects: BoundedMap<KeyedHash, i64>,
    pub identities: BoundedMap<(i64, KeyedHash), i64>,
    pub memberships: BoundedMap<(i64, i64), ()>,
}

/// Who is on a record, as 16 bytes: the same people in the same roles, reported the same way,
/// give the same signature.
pub fn subjects_signature(record: &SealedRecord) -> [u8; 16] {
    let mut hasher = Sha256::new();
    for subject in &record.subjects {
        hasher.update(subject.role.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(subject.id_hash);
        hasher.update(subject.identity_hash);
    }
    let digest = hasher.finalize();
    let mut signature = [0u8; 16];
    signature.copy_from_slice(&digest[..16]);
    signature
}
