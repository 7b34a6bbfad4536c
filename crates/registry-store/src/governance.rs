//! Who may read what, and the record of every read: API keys and the access log (a Merkle
//! tree of log entries, its complete subtrees and its signed heads), consents, inquiries, flags
//! and disputes. The `Governance` trait and the rows that cross it; each backend implements it
//! in its own `governance.rs`.
//!
//! The store holds rows; what a key may do and how the tree is hashed and signed is the
//! service's (`registry-service/src/audit.rs`, `keys.rs`).

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
    pub role: String,
    /// A consumer key's subject.
    pub subject: Option<SubjectKey>,
    pub secret_sha256: LogHash,
    pub created_at: String,
    pub revoked_at: Option<String>,
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

/// A signed statement of the tree's size and root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeHeadRow {
    pub size: u64,
    pub root: LogHash,
    pub signed_at: String,
    pub signature: Vec<u8>,
}

/// A consumer's consent for one lender and purpose. Dates `YYYY-MM-DD`, times RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRow {
    pub consent_id: String,
    pub subject: SubjectKey,
    pub lender: String,
    pub purpose: String,
    pub granted_at: String,
    /// The last day the consent may be used.
    pub expires: String,
    pub revoked_at: Option<String>,
}

/// An inquiry made on a subject's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InquiryRow {
    pub subject: SubjectKey,
    pub made_on: String,
    pub lender: String,
    pub purpose: String,
    pub consent_id: String,
}

/// A security freeze or fraud alert on a subject's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagRow {
    pub flag_id: String,
    pub subject: SubjectKey,
    /// `freeze` or `fraud_alert`.
    pub kind: String,
    pub starts: String,
    pub ends: Option<String>,
    pub created_at: String,
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
    pub opened_on: String,
    pub deadline: String,
    /// `open`, `confirmed` or `corrected`.
    pub status: String,
    pub resolved_at: Option<String>,
    pub resolution: Option<String>,
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

/// What one append writes: the entry, the subtrees it completes and the new signed head.
#[derive(Clone, Debug)]
pub struct LogAppend {
    pub entry: LogEntryRow,
    pub nodes: Vec<LogNode>,
    pub head: TreeHeadRow,
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
    fn has_live_key(&self, role: &str, name: &str) -> StoreResult<bool>;
    /// Marks a key revoked; false if there is no such key or it was revoked already.
    fn revoke_key(&self, key_id: &str, at: &str) -> StoreResult<bool>;

    /// Appends one entry: `build` gets the log's tip (under the log's write lock, so appends
    /// are serialised) and returns what to write; all of it is written in one transaction.
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
    fn revoke_consent(&self, subject: SubjectKey, consent_id: &str, at: &str) -> StoreResult<bool>;

    fn insert_inquiry(&self, inquiry: &InquiryRow) -> StoreResult<()>;
    /// A subject's inquiries, oldest first.
    fn inquiries(&self, subject: SubjectKey) -> StoreResult<Vec<InquiryRow>>;

    fn insert_flag(&self, flag: &FlagRow) -> StoreResult<()>;
    /// A subject's freezes and fraud alerts, oldest first, ended ones too.
    fn flags(&self, subject: SubjectKey) -> StoreResult<Vec<FlagRow>>;
    /// Makes `ends` the flag's last day when it had none or a later one; false if there is no
    /// such flag or it had ended by then already.
    fn end_flag(&self, subject: SubjectKey, flag_id: &str, ends: &str) -> StoreResult<bool>;

    fn insert_dispute(&self, dispute: &DisputeRow) -> StoreResult<()>;
    /// A subject's disputes, oldest first.
    fn subject_disputes(&self, subject: SubjectKey) -> StoreResult<Vec<DisputeRow>>;
    /// A furnisher's disputes (open ones only, or all), oldest first.
    fn furnisher_disputes(&self, furnisher: &str, open_only: bool) -> StoreResult<Vec<DisputeRow>>;
    /// Closes an open dispute of the furnisher's; false if it has no such open dispute.
    fn resolve_dispute(&self, furnisher: &str, dispute_id: &str, status: &str, at: &str, resolution: &str) -> StoreResult<bool>;
}

/// A stored hash, which must be 32 bytes.
pub(crate) fn hash_from(bytes: Vec<u8>, what: &str) -> StoreResult<LogHash> {
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

pub(crate) const CONSENT_COLUMNS: &str = "consent_id, subject_key, lender, purpose, granted_at, expires, revoked_at";
pub(crate) const INQUIRY_COLUMNS: &str = "subject_key, made_on, lender, purpose, consent_id";
pub(crate) const FLAG_COLUMNS: &str = "flag_id, subject_key, kind, starts, ends, created_at";
pub(crate) const DISPUTE_COLUMNS: &str =
    "dispute_id, subject_key, furnisher, account, field, reason, opened_on, deadline, status, resolved_at, resolution";

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
