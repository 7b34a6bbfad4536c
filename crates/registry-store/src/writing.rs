//! What every backend's submission writer shares: bounded look-up caches and the signature of
//! who is on a record.

use std::collections::HashMap;
use std::hash::Hash;

use sha2::{Digest, Sha256};

use crate::{KeyedHash, SealedRecord};

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
