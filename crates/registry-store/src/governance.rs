//! Who may read what, and the record of every read: API keys and the access log (a Merkle
//! tree of log entries, its complete subtrees and its signed heads), consents, inquiries, flags
//! and disputes. The `Governance` trait and the rows that cross it; each backend implements it
//! in its own `governance.rs`.
//!
//! The store holds rows; what a key may do and how the tree is hashed and signed is the
//! service's (`registry-service/src/audit.rs`, `keys.rs`).

use registry_core::governance::{DisputeStatus, FlagKind, PrincipalRole};
use registry_core::model::{Date, Timestamp};
use registry_core::report::SubjectKey;

use crate::{StoreError, StoreResult};

/// A SHA-256 hash of the log: a leaf, a subtree or a root.
pub type LogHash = [u8; 32];

/// An API key as stored: the secret only as its SHA-256 hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKeyRow {
    /// The public part of the key, which names it in lists and logs.
    pub key_id: String,
    pub name: String,
    pub role: PrincipalRole,
    /// A consumer key's subject.
    pub subject: Option<SubjectKey>,
    pub secret_sha256: LogHash,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// One entry of the access log: position, whose data was read (if anyone's), and the entry
/// itself (canonical JSON, the exact bytes that are hashed into the tree).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntryRow {
    pub seq: u64,
    pub subject: Option<SubjectKey>,
    pub entry: String,
}

/// The hash of the complete subtree at `level` (2^level leaves) starting at leaf
/// `index << level`. Level 0 is the leaf hashes. A complete subtree never changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogNode {
    pub level: u32,
    pub index: u64,
    pub hash: LogHash,
}

/// A signed statement of the tree's size and root. `signed_at` is text, not a `Timestamp`:
/// it is part of what the signature covers, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHeadRow {
    pub size: u64,
    pub root: LogHash,
    pub signed_at: String,
    pub signature: Vec<u8>,
}

/// A consumer's consent for one lender and purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRow {
    pub consent_id: String,
    pub subject: SubjectKey,
    pub lender: String,
    pub purpose: String,
    pub granted_at: Timestamp,
    /// The last day the consent may be used.
    pub expires: Date,
    pub revoked_at: Option<Timestamp>,
}

/// An inquiry made on a subject's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InquiryRow {
    pub subject: SubjectKey,
    pub made_on: Date,
    pub lender: String,
    pub purpose: String,
    pub consent_id: String,
}

/// A security freeze or fraud alert on a subject's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagRow {
    pub flag_id: String,
    pub subject: SubjectKey,
    pub kind: FlagKind,
    pub starts: Date,
    /// The last day in force; `None` until lifted.
    pub ends: Option<Date>,
    pub created_at: Timestamp,
}

/// A consumer's dispute of an account or one of its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisputeRow {
    pub dispute_id: String,
    pub subject: SubjectKey,
    pub furnisher: String,
    pub account: String,
    pub field: Option<String>,
    pub reason: String,
    pub opened_on: Date,
    pub deadline: Date,
    pub status: DisputeStatus,
    pub resolved_at: Option<Timestamp>,
    pub resolution: Option<String>,
}

/// A furnisher's answer to one of its disputes.
pub struct DisputeAnswer<'a> {
    /// `Confirmed` or `Corrected`.
    pub status: DisputeStatus,
    pub at: Timestamp,
    pub note: &'a str,
}

/// A governance table's row as both backends' drivers give it: each column by position, in
/// the order of the table's column list (`KEY_COLUMNS`, `CONSENT_COLUMNS`, …). The rows above
/// are decoded from it in one place (their `read`), whichever backend read them.
pub(crate) trait Columns {
    fn text(&self, at: usize) -> StoreResult<String>;
    fn maybe_text(&self, at: usize) -> StoreResult<Option<String>>;
    fn int(&self, at: usize) -> StoreResult<i64>;
    fn maybe_int(&self, at: usize) -> StoreResult<Option<i64>>;
    fn bytes(&self, at: usize) -> StoreResult<Vec<u8>>;

    /// Column `at` parsed as a `T` (a role, a date, a time), or `Corrupt` naming `what`.
    fn parsed<T: std::str::FromStr>(&self, at: usize, what: &str) -> StoreResult<T> {
        let text = self.text(at)?;
        text.parse().map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not valid")))
    }

    fn maybe_parsed<T: std::str::FromStr>(&self, at: usize, what: &str) -> StoreResult<Option<T>> {
        match self.maybe_text(at)? {
            Some(text) => text.parse().map(Some).map_err(|_| StoreError::Corrupt(format!("{what} {text:?} is not valid"))),
            None => Ok(None),
        }
    }
}

/// `Columns` for a driver's row type, whose fallible getter by position (rusqlite's `get`,
/// postgres's `try_get`) decodes each column type the trait asks for.
macro_rules! columns_for_driver_row {
    ($row:ty, $get:ident, $map_err:path) => {
        impl $crate::governance::Columns for $row {
            fn text(&self, at: usize) -> $crate::StoreResult<String> {
                self.$get(at).map_err($map_err)
            }
            fn maybe_text(&self, at: usize) -> $crate::StoreResult<Option<String>> {
                self.$get(at).map_err($map_err)
            }
            fn int(&self, at: usize) -> $crate::StoreResult<i64> {
                self.$get(at).map_err($map_err)
            }
            fn maybe_int(&self, at: usize) -> $crate::StoreResult<Option<i64>> {
                self.$get(at).map_err($map_err)
            }
            fn bytes(&self, at: usize) -> $crate::StoreResult<Vec<u8>> {
                self.$get(at).map_err($map_err)
            }
        }
    };
}
pub(crate) use columns_for_driver_row;

pub(crate) const KEY_COLUMNS: &str = "key_id, name, role, subject_key, secret_sha256, created_at, revoked_at";
pub(crate) const LOG_ENTRY_COLUMNS: &str = "seq, subject_key, entry";
pub(crate) const TREE_HEAD_COLUMNS: &str = "size, root, signed_at, signature";
pub(crate) const CONSENT_COLUMNS: &str = "consent_id, subject_key, lender, purpose, granted_at, expires, revoked_at";
pub(crate) const INQUIRY_COLUMNS: &str = "subject_key, made_on, lender, purpose, consent_id";
pub(crate) const FLAG_COLUMNS: &str = "flag_id, subject_key, kind, starts, ends, created_at";
pub(crate) const DISPUTE_COLUMNS: &str =
    "dispute_id, subject_key, furnisher, account, field, reason, opened_on, deadline, status, resolved_at, resolution";

impl ApiKeyRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<ApiKeyRow> {
        Ok(ApiKeyRow {
            key_id: row.text(0)?,
            name: row.text(1)?,
            role: row.parsed(2, "a key's role")?,
            subject: row.maybe_int(3)?.map(SubjectKey),
            secret_sha256: hash_from(row.bytes(4)?, "a key's secret hash")?,
            created_at: row.parsed(5, "a key's creation time")?,
            revoked_at: row.maybe_parsed(6, "a key's revocation time")?,
        })
    }
}

impl LogEntryRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<LogEntryRow> {
        Ok(LogEntryRow { seq: row.int(0)? as u64, subject: row.maybe_int(1)?.map(SubjectKey), entry: row.text(2)? })
    }
}

impl TreeHeadRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<TreeHeadRow> {
        Ok(TreeHeadRow {
            size: row.int(0)? as u64,
            root: hash_from(row.bytes(1)?, "a tree head's root")?,
            signed_at: row.text(2)?,
            signature: row.bytes(3)?,
        })
    }
}

impl ConsentRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<ConsentRow> {
        Ok(ConsentRow {
            consent_id: row.text(0)?,
            subject: SubjectKey(row.int(1)?),
            lender: row.text(2)?,
            purpose: row.text(3)?,
            granted_at: row.parsed(4, "a consent's time")?,
            expires: row.parsed(5, "a consent's expiry")?,
            revoked_at: row.maybe_parsed(6, "a consent's revocation time")?,
        })
    }
}

impl InquiryRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<InquiryRow> {
        Ok(InquiryRow {
            subject: SubjectKey(row.int(0)?),
            made_on: row.parsed(1, "an inquiry's date")?,
            lender: row.text(2)?,
            purpose: row.text(3)?,
            consent_id: row.text(4)?,
        })
    }
}

impl FlagRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<FlagRow> {
        Ok(FlagRow {
            flag_id: row.text(0)?,
            subject: SubjectKey(row.int(1)?),
            kind: row.parsed(2, "a flag's kind")?,
            starts: row.parsed(3, "a flag's start")?,
            ends: row.maybe_parsed(4, "a flag's end")?,
            created_at: row.parsed(5, "a flag's time")?,
        })
    }
}

impl DisputeRow {
    pub(crate) fn read(row: &impl Columns) -> StoreResult<DisputeRow> {
        Ok(DisputeRow {
            dispute_id: row.text(0)?,
            subject: SubjectKey(row.int(1)?),
            furnisher: row.text(2)?,
            account: row.text(3)?,
            field: row.maybe_text(4)?,
            reason: row.text(5)?,
            opened_on: row.parsed(6, "a dispute's opening date")?,
            deadline: row.parsed(7, "a dispute's deadline")?,
            status: row.parsed(8, "a dispute's status")?,
            resolved_at: row.maybe_parsed(9, "a dispute's answer time")?,
            resolution: row.maybe_text(10)?,
        })
    }
}

/// One row of the governance tables, for `copy` (`SqliteGovernance::dump` →
/// `PostgresStore::load`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GovernanceRow {
    Key(ApiKeyRow),
    Entry(LogEntryRow),
    Node(LogNode),
    Head(TreeHeadRow),
    Consent(ConsentRow),
    Inquiry(InquiryRow),
    Flag(FlagRow),
    Dispute(DisputeRow),
}

/// The log as an append finds it: its size and the complete subtrees that make up its right
/// edge (the binary decomposition of `size`, largest first).
#[derive(Clone, Debug, Default)]
pub struct LogTip {
    pub size: u64,
    pub frontier: Vec<LogNode>,
}

/// What one append writes: its entries (one or more, numbered on from the tip), the subtrees
/// they complete and a signed head for each new size.
#[derive(Clone, Debug)]
pub struct LogAppend {
    pub entries: Vec<LogEntryRow>,
    pub nodes: Vec<LogNode>,
    pub heads: Vec<TreeHeadRow>,
}

/// The complete subtrees of a tree of `size` leaves, left to right (largest first).
pub fn frontier_ids(size: u64) -> Vec<(u32, u64)> {
    let mut ids = Vec::new();
    let mut start = 0u64;
    for level in (0..64u32).rev() {
        if size & (1u64 << level) != 0 {
            ids.push((level, start >> level));
            start += 1u64 << level;
        }
    }
    ids
}

pub trait Governance: Send + Sync {
    fn migrate_governance(&self) -> StoreResult<()>;

    /// Stores a new key. Key ids are random; a clash is an error, never an overwrite.
    fn insert_key(&self, key: &ApiKeyRow) -> StoreResult<()>;
    fn key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>>;
    /// Every key, revoked ones too, oldest first (by creation time, then id).
    fn keys(&self) -> StoreResult<Vec<ApiKeyRow>>;
    /// Whether a key of `role` named `name` is live (not revoked).
    fn has_live_key(&self, role: PrincipalRole, name: &str) -> StoreResult<bool>;
    /// Marks a key revoked; false if there is no such key or it was revoked already.
    fn revoke_key(&self, key_id: &str, at: Timestamp) -> StoreResult<bool>;

    /// Appends entries: `build` gets the log's tip (under the log's write lock, so appends are
    /// serialised) and returns what to write; all of it is written in one transaction.
    fn append_log(&self, build: &mut dyn FnMut(&LogTip) -> StoreResult<LogAppend>) -> StoreResult<LogAppend>;
    /// The stored hashes of the given complete subtrees (absent ones are left out).
    fn log_nodes(&self, ids: &[(u32, u64)]) -> StoreResult<Vec<LogNode>>;
    fn log_entry(&self, seq: u64) -> StoreResult<Option<LogEntryRow>>;
    /// Every entry about one subject, in log order.
    fn subject_log(&self, subject: SubjectKey) -> StoreResult<Vec<LogEntryRow>>;
    /// Up to `limit` entries numbered `from` or more, by number (the auditor checks that the
    /// numbers are what their positions say).
    fn log_entries(&self, from: u64, limit: u32) -> StoreResult<Vec<LogEntryRow>>;
    /// The signed head of the tree at `size`, or the latest one.
    fn tree_head(&self, size: Option<u64>) -> StoreResult<Option<TreeHeadRow>>;
    /// Every signed head, by size.
    fn tree_heads(&self) -> StoreResult<Vec<TreeHeadRow>>;

    fn insert_consent(&self, consent: &ConsentRow) -> StoreResult<()>;
    fn consent(&self, subject: SubjectKey, consent_id: &str) -> StoreResult<Option<ConsentRow>>;
    /// A subject's consents, oldest first.
    fn consents(&self, subject: SubjectKey) -> StoreResult<Vec<ConsentRow>>;
    /// False if the subject has no such consent or it was revoked already.
    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: Timestamp) -> StoreResult<bool>;

    fn insert_inquiry(&self, inquiry: &InquiryRow) -> StoreResult<()>;
    /// A subject's inquiries, oldest first.
    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>>;

    fn insert_flag(&self, flag: &FlagRow) -> StoreResult<()>;
    /// A subject's freezes and fraud alerts, oldest first, ended ones too.
    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>>;
    /// Makes `ends` the flag's last day when it had none or a later one; false if there is no
    /// such flag or it had ended by then already.
    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: Date) -> StoreResult<bool>;

    fn insert_dispute(&self, dispute: &DisputeRow) -> StoreResult<()>;
    /// A subject's disputes, oldest first.
    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>>;
    /// A furnisher's disputes (open ones only, or all), oldest first.
    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>>;
    /// Closes an open dispute of the furnisher's; false if it has no such open dispute.
    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, answer: &DisputeAnswer<'_>) -> StoreResult<bool>;
}

/// A stored hash, which must be 32 bytes.
pub(crate) fn hash_from(bytes: Vec<u8>, what: &str) -> StoreResult<LogHash> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

#[cfg(test)]
mod tests {
    use super::frontier_ids;

    #[test]
    fn frontier_is_the_binary_decomposition_of_the_size() {
        assert_eq!(frontier_ids(0), vec![]);
        assert_eq!(frontier_ids(1), vec![(0, 0)]);
        assert_eq!(frontier_ids(6), vec![(2, 0), (1, 2)]);
        assert_eq!(frontier_ids(7), vec![(2, 0), (1, 2), (0, 6)]);
        assert_eq!(frontier_ids(8), vec![(3, 0)]);
    }
}
