//! The access log: every read of personal data appends an entry, and the entries are the leaves
//! of a Merkle tree in the manner of Certificate Transparency (RFC 6962 / RFC 9162): leaf hash
//! SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right), the tree over entries 0..n
//! as RFC 6962 §2.1 defines it. Each append stores the subtrees it completes and a tree head
//! signed with Ed25519 (the configured `log_signing_key`), so a consumer can be given an
//! inclusion proof for each of their entries and anyone holding two heads a consistency proof
//! between them; `verify_log` recomputes everything from the stored entries.
//!
//! Proof shapes, their verification and the node arithmetic are the `ct-merkle` crate's; what is
//! here is the part it leaves to the caller when the tree lives in storage: computing a node's
//! hash from the complete subtrees the store keeps.

use std::collections::HashMap;

use base64::Engine;
use ed25519_dalek::{Signature, Signer, Verifier, VerifyingKey};
use registry_core::report::SubjectKey;
use registry_store::governance::{LogAppend, LogEntryRow, LogHash, LogNode, LogTip, TreeHeadRow};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Registry, ServiceError};

type Proofs = Sha256;

/// Entries `verify_log` reads at a time.
const LOG_PAGE: u32 = 2048;

/// Who read: the key's id and name and its role; the command line reads as the operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    /// The API key's public id; absent for the operator's own command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    pub name: String,
    pub role: String,
}

impl Actor {
    /// The operator at the command line (`credit-registry report`, `export`).
    pub fn command_line() -> Actor {
        Actor { key_id: None, name: "command-line".into(), role: "operator".into() }
    }
}

impl Access {
    /// A read by the operator at the command line.
    pub fn command_line(action: AccessAction, purpose: Option<String>) -> Access {
        Access { actor: Actor::command_line(), action, purpose, consent_id: None }
    }
}

/// What kind of read it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessAction {
    /// A lender's inquiry, under a consent.
    Inquiry,
    /// The consumer reading their own report.
    SelfView,
    /// The operator's audited look at one subject (API or command line).
    DrillDown,
    /// A furnisher's export of its own cycle.
    Export,
    /// Retention deleted an account whose negative information expired (the subject is the
    /// account's first person; `purpose` says which rule).
    RetentionPurge,
    /// The operator scored every subject (`score batch`, `score train --from-registry`): one
    /// entry per run, its date in `purpose`.
    ScoreBatch,
    /// The operator decrypted an archived furnishing file (`archive get`): one entry, the
    /// file's content hash in `purpose`.
    ArchiveRead,
}

/// One entry of the access log, exactly as hashed (its JSON, fields in this order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessEntry {
    /// Position in the log (leaf index), from 0.
    pub seq: u64,
    /// When, UTC, RFC 3339.
    pub at: String,
    pub actor: Actor,
    pub action: AccessAction,
    /// Whose data (registry id), if one subject's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_id: Option<String>,
}

/// A read about to happen, to be logged.
#[derive(Clone, Debug)]
pub struct Access {
    pub actor: Actor,
    pub action: AccessAction,
    pub purpose: Option<String>,
    pub consent_id: Option<String>,
}

/// A signed tree head, as published: size, root, time and an Ed25519 signature over
/// `tree_head_message`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedTreeHead {
    pub size: u64,
    /// Base64 of the 32-byte root hash.
    pub root: String,
    pub signed_at: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub signature: String,
    /// Base64 of the 32-byte Ed25519 public key that verifies it.
    pub public_key: String,
}

/// Proof that entry `seq` is leaf `seq` of the tree of `tree_size` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InclusionProofDoc {
    pub seq: u64,
    pub tree_size: u64,
    /// The entry exactly as hashed into the tree.
    pub entry: String,
    /// Base64 of SHA-256(0x00 ‖ entry).
    pub leaf_hash: String,
    /// RFC 9162 §2.1.3 inclusion path, base64 hashes, leaf to root.
    pub path: Vec<String>,
    pub tree_head: SignedTreeHead,
}

/// Proof that the tree of `from` leaves is a prefix of the tree of `to` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsistencyProofDoc {
    pub from: u64,
    pub to: u64,
    /// RFC 9162 §2.1.4 consistency path, base64 hashes.
    pub path: Vec<String>,
    pub from_head: SignedTreeHead,
    pub to_head: SignedTreeHead,
}

/// What `verify_log` checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogVerified {
    pub entries: u64,
    pub tree_heads: u64,
    /// Base64 root of the whole log (absent when empty).
    pub root: Option<String>,
}

/// The first thing `verify_log` found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LogFault {
    /// The first entry that was altered, removed or moved (or, for a bad head, the head's size).
    pub seq: u64,
    pub problem: String,
}

pub fn leaf_hash(entry: &[u8]) -> LogHash {
    Sha256::new_with_prefix([0u8]).chain_update(entry).finalize().into()
}

pub fn parent_hash(left: &LogHash, right: &LogHash) -> LogHash {
    Sha256::new_with_prefix([1u8]).chain_update(left).chain_update(right).finalize().into()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bytes a tree head's signature covers.
pub fn tree_head_message(size: u64, root: &LogHash, signed_at: &str) -> Vec<u8> {
    format!("credit-registry access log v1\n{size}\n{}\n{signed_at}\n", b64(root)).into_bytes()
}

/// Root of the tree whose complete subtrees, left to right, are `frontier` (RFC 6962: the
/// largest power-of-two subtree on the left, the rest recursively on the right).
fn root_of(frontier: &[LogHash]) -> Option<LogHash> {
    let (last, rest) = frontier.split_last()?;
    Some(rest.iter().rev().fold(*last, |right, left| parent_hash(left, &right)))
}

/// Appends a leaf to a tree given by its frontier: the nodes that become complete, and the new
/// frontier.
fn push_leaf(tip: &LogTip, leaf: LogHash) -> (Vec<LogNode>, Vec<LogNode>) {
    let mut frontier = tip.frontier.clone();
    let mut node = LogNode { level: 0, index: tip.size, hash: leaf };
    let mut created = vec![node];
    // Equal-sized neighbours merge, as a binary counter carries.
    while let Some(left) = frontier.last().copied() {
        if left.level != node.level {
            break;
        }
        frontier.pop();
        node = LogNode { level: node.level + 1, index: node.index >> 1, hash: parent_hash(&left.hash, &node.hash) };
        created.push(node);
    }
    frontier.push(node);
    (created, frontier)
}

/// The complete subtrees whose hashes give the hash of leaves `lo..hi`, per RFC 6962's split.
fn cover(lo: u64, hi: u64, out: &mut Vec<(u32, u64)>) {
    let size = hi - lo;
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        out.push((size.trailing_zeros(), lo >> size.trailing_zeros()));
        return;
    }
    let split = 1u64 << (size - 1).ilog2();
    cover(lo, lo + split, out);
    cover(lo + split, hi, out);
}

fn range_hash(lo: u64, hi: u64, nodes: &HashMap<(u32, u64), LogHash>) -> Result<LogHash, ServiceError> {
    let size = hi - lo;
    if size.is_power_of_two() && lo.is_multiple_of(size) {
        let id = (size.trailing_zeros(), lo >> size.trailing_zeros());
        return nodes.get(&id).copied().ok_or_else(|| ServiceError::Internal(format!("the access log is missing its node {id:?}")));
    }
    let split = 1u64 << (size - 1).ilog2();
    Ok(parent_hash(&range_hash(lo, lo + split, nodes)?, &range_hash(lo + split, hi, nodes)?))
}

/// The leaves under node `index` of ct-merkle's array layout (RFC 9420 array-based trees) in a
/// tree of `size` leaves: the node's aligned range, cut at the tree's right edge.
fn node_range(index: u64, size: u64) -> (u64, u64) {
    let level = index.trailing_ones();
    let lo = (index >> (level + 1)) << level;
    (lo, (lo + (1u64 << level)).min(size))
}

impl Registry {
    /// Base64 of the Ed25519 public key that verifies the log's tree heads.
    pub fn log_public_key(&self) -> String {
        b64(self.log_signer.verifying_key().as_bytes())
    }

    /// Appends one entry for `access` per subject named (one naming nobody when `subjects` is
    /// empty), all in one transaction under the log's lock, each new size with its signed
    /// head. Returns the entries' numbers.
    pub(crate) fn log_reads(&self, access: &Access, subjects: &[SubjectKey]) -> Result<Vec<u64>, ServiceError> {
        let at = self.now().to_string();
        let named: Vec<Option<SubjectKey>> = if subjects.is_empty() { vec![None] } else { subjects.iter().copied().map(Some).collect() };
        let appended = self.governance.append_log(&mut |tip| {
            let mut tip = tip.clone();
            let mut append =
                LogAppend { entries: Vec::with_capacity(named.len()), nodes: Vec::new(), heads: Vec::with_capacity(named.len()) };
            for &subject in &named {
                let entry = AccessEntry {
                    seq: tip.size,
                    at: at.clone(),
                    actor: access.actor.clone(),
                    action: access.action,
                    subject: subject.map(SubjectKey::registry_id),
                    purpose: access.purpose.clone(),
                    consent_id: access.consent_id.clone(),
                };
                let text = serde_json::to_string(&entry).map_err(|e| registry_store::StoreError::Corrupt(e.to_string()))?;
                let (nodes, frontier) = push_leaf(&tip, leaf_hash(text.as_bytes()));
                let root = root_of(&frontier.iter().map(|n| n.hash).collect::<Vec<_>>()).unwrap_or_default();
                let size = tip.size + 1;
                let signature = self.log_signer.sign(&tree_head_message(size, &root, &at));
                append.entries.push(LogEntryRow { seq: tip.size, subject, entry: text });
                append.nodes.extend(nodes);
                append.heads.push(TreeHeadRow { size, root, signed_at: at.clone(), signature: signature.to_bytes().to_vec() });
                tip = LogTip { size, frontier };
            }
            Ok(append)
        })?;
        Ok(appended.entries.iter().map(|e| e.seq).collect())
    }

    fn published(&self, head: &TreeHeadRow) -> SignedTreeHead {
        SignedTreeHead {
            size: head.size,
            root: b64(&head.root),
            signed_at: head.signed_at.clone(),
            signature: b64(&head.signature),
            public_key: self.log_public_key(),
        }
    }

    /// The latest signed tree head (`None` while nothing has been read).
    pub fn tree_head(&self, size: Option<u64>) -> Result<Option<SignedTreeHead>, ServiceError> {
        Ok(self.governance.tree_head(size)?.map(|head| self.published(&head)))
    }

    /// The hashes of the nodes at ct-merkle's `indices` in a tree of `size` leaves.
    fn node_hashes(&self, indices: &[u64], size: u64) -> Result<Vec<LogHash>, ServiceError> {
        let ranges: Vec<(u64, u64)> = indices.iter().map(|&i| node_range(i, size)).collect();
        let mut wanted = Vec::new();
        for &(lo, hi) in &ranges {
            cover(lo, hi, &mut wanted);
        }
        let nodes: HashMap<(u32, u64), LogHash> =
            self.governance.log_nodes(&wanted)?.into_iter().map(|n| ((n.level, n.index), n.hash)).collect();
        ranges.iter().map(|&(lo, hi)| range_hash(lo, hi, &nodes)).collect()
    }

    /// The inclusion proof of entry `seq` in the tree of `size` leaves (default: the latest head).
    pub fn inclusion_proof(&self, seq: u64, size: Option<u64>) -> Result<InclusionProofDoc, ServiceError> {
        let head = self
            .governance
            .tree_head(size)?
            .ok_or_else(|| ServiceError::NotFound("the access log has no tree head of that size".into()))?;
        if seq >= head.size {
            return Err(ServiceError::NotFound(format!("entry {seq} is not in the tree of {} entries", head.size)));
        }
        let entry = self.governance.log_entry(seq)?.ok_or_else(|| ServiceError::NotFound(format!("no access log entry {seq}")))?;
        let path = self.node_hashes(&ct_merkle::indices_for_inclusion_proof(head.size, seq), head.size)?;
        Ok(InclusionProofDoc {
            seq,
            tree_size: head.size,
            leaf_hash: b64(&leaf_hash(entry.entry.as_bytes())),
            entry: entry.entry,
            path: path.iter().map(|h| b64(h)).collect(),
            tree_head: self.published(&head),
        })
    }

    /// The consistency proof between the signed heads of `from` and `to` entries.
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProofDoc, ServiceError> {
        if from == 0 || from > to {
            return Err(ServiceError::InvalidInput(
                "a consistency proof goes from a tree of 1 or more entries to one at least as large".into(),
            ));
        }
        let head = |size| {
            self.governance
                .tree_head(Some(size))?
                .ok_or_else(|| ServiceError::NotFound(format!("the access log never had a signed head of {size} entries")))
        };
        let (from_head, to_head) = (head(from)?, head(to)?);
        let path = self.node_hashes(&ct_merkle::indices_for_consistency_proof(from, to - from), to)?;
        Ok(ConsistencyProofDoc {
            from,
            to,
            path: path.iter().map(|h| b64(h)).collect(),
            from_head: self.published(&from_head),
            to_head: self.published(&to_head),
        })
    }

    /// Every entry about one subject, oldest first (what the consumer sees of their data).
    pub fn subject_accesses(&self, subject: SubjectKey) -> Result<Vec<AccessEntry>, ServiceError> {
        self.governance
            .subject_log(subject)?
            .iter()
            .map(|row| {
                serde_json::from_str(&row.entry)
                    .map_err(|_| ServiceError::Internal(format!("access log entry {} is not readable", row.seq)))
            })
            .collect()
    }

    /// Recomputes the tree from the stored entries: every entry in place and numbered in order,
    /// every stored subtree and every signed head matching what the entries give, every
    /// signature valid. `Err(LogFault)` names the first entry altered, removed or moved.
    pub fn verify_log(&self) -> Result<Result<LogVerified, LogFault>, ServiceError> {
        let verifying_key = self.log_signer.verifying_key();
        let heads = self.governance.tree_heads()?;
        let mut heads_at: HashMap<u64, &TreeHeadRow> = heads.iter().map(|h| (h.size, h)).collect();
        let mut tip = LogTip::default();
        let mut fault: Option<LogFault> = None;
        let mut stored_nodes = Vec::new();
        // Page by page, so that no store connection is held while the subtrees are compared.
        let mut next = 0u64;
        'pages: loop {
            let page = self.governance.log_entries(next, LOG_PAGE)?;
            let Some(last) = page.last() else { break };
            next = last.seq + 1;
            for row in page {
                let expected = tip.size;
                let problem = if row.seq == expected {
                    match serde_json::from_str::<AccessEntry>(&row.entry) {
                        Err(_) => Some("the entry is not a readable log entry".to_string()),
                        Ok(entry) if entry.seq != expected => {
                            Some(format!("the entry says it is entry {}, but it is stored as entry {expected}", entry.seq))
                        }
                        Ok(_) => None,
                    }
                } else {
                    Some(format!("entry {expected} is missing (the next stored entry is numbered {})", row.seq))
                };
                if let Some(problem) = problem {
                    fault = Some(LogFault { seq: expected, problem });
                    break 'pages;
                }
                let (created, frontier) = push_leaf(&tip, leaf_hash(row.entry.as_bytes()));
                stored_nodes.extend(created.iter().map(|n| (n.level, n.index, n.hash)));
                tip = LogTip { size: expected + 1, frontier };
                // A signed head for this size must sign this root.
                if let Some(head) = heads_at.remove(&tip.size) {
                    let root = root_of(&tip.frontier.iter().map(|n| n.hash).collect::<Vec<_>>()).unwrap_or_default();
                    if head.root != root {
                        fault = Some(LogFault {
                            seq: expected,
                            problem: format!(
                                "the signed head of {} entries does not match the entries: one of the first {} was altered",
                                tip.size, tip.size
                            ),
                        });
                        break 'pages;
                    }
                }
            }
            // Compare the stored subtrees a page at a time, so memory stays bounded.
            if let Some(bad) = self.first_bad_node(&std::mem::take(&mut stored_nodes))? {
                fault = Some(bad);
                break;
            }
        }
        // (Every page's subtrees were compared inside the loop: none are left here.)
        if let Some(fault) = fault {
            return Ok(Err(fault));
        }
        // Heads beyond the stored entries mean entries at the end were removed.
        if let Some(head) = heads.iter().find(|h| h.size > tip.size) {
            return Ok(Err(LogFault {
                seq: tip.size,
                problem: format!(
                    "a signed head covers {} entries but only {} are stored: entries from {} on were removed",
                    head.size, tip.size, tip.size
                ),
            }));
        }
        for head in &heads {
            let valid = Signature::from_slice(&head.signature).ok().is_some_and(|signature| {
                verifying_key.verify(&tree_head_message(head.size, &head.root, &head.signed_at), &signature).is_ok()
            });
            if !valid {
                return Ok(Err(LogFault {
                    seq: head.size.saturating_sub(1),
                    problem: format!("the signed head of {} entries does not carry a valid signature by the log's key", head.size),
                }));
            }
        }
        let root = root_of(&tip.frontier.iter().map(|n| n.hash).collect::<Vec<_>>()).map(|r| b64(&r));
        Ok(Ok(LogVerified { entries: tip.size, tree_heads: heads.len() as u64, root }))
    }

    /// The first stored subtree hash that differs from the recomputed one, as a fault at its
    /// first leaf.
    fn first_bad_node(&self, recomputed: &[(u32, u64, LogHash)]) -> Result<Option<LogFault>, ServiceError> {
        let ids: Vec<(u32, u64)> = recomputed.iter().map(|&(level, index, _)| (level, index)).collect();
        let stored: HashMap<(u32, u64), LogHash> =
            self.governance.log_nodes(&ids)?.into_iter().map(|n| ((n.level, n.index), n.hash)).collect();
        Ok(recomputed.iter().find(|(level, index, hash)| stored.get(&(*level, *index)) != Some(hash)).map(|&(level, index, _)| LogFault {
            seq: index << level,
            problem: "a stored hash of the tree does not match the entries".to_string(),
        }))
    }
}

/// Checks an inclusion proof the way a consumer would: with `ct-merkle`'s verifier against the
/// signed head, and the head's signature against the public key in it.
pub fn check_inclusion(proof: &InclusionProofDoc) -> Result<(), String> {
    let root = decode_hash(&proof.tree_head.root)?;
    check_head_signature(&proof.tree_head)?;
    let digests: Vec<LogHash> = proof.path.iter().map(|h| decode_hash(h)).collect::<Result<_, _>>()?;
    let digests: Vec<sha2::digest::Output<Proofs>> = digests.iter().map(|d| (*d).into()).collect();
    let inclusion = ct_merkle::InclusionProof::<Proofs>::from_digests(digests.iter());
    ct_merkle::RootHash::<Proofs>::new(root.into(), proof.tree_size)
        .verify_inclusion(&proof.entry.as_bytes(), proof.seq, &inclusion)
        .map_err(|e| format!("the inclusion proof does not verify: {e:?}"))
}

fn decode_hash(text: &str) -> Result<LogHash, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| "a hash is 32 bytes in base64".to_string())
}

fn check_head_signature(head: &SignedTreeHead) -> Result<(), String> {
    let decode = |t: &str| base64::engine::general_purpose::STANDARD.decode(t).map_err(|_| "not base64".to_string());
    let key: [u8; 32] = decode(&head.public_key)?.try_into().map_err(|_| "a public key is 32 bytes".to_string())?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| "not an Ed25519 public key".to_string())?;
    let signature = Signature::from_slice(&decode(&head.signature)?).map_err(|_| "not an Ed25519 signature".to_string())?;
    key.verify(&tree_head_message(head.size, &decode_hash(&head.root)?, &head.signed_at), &signature)
        .map_err(|_| "the tree head's signature does not verify".to_string())
}

#[cfg(test)]
mod tests {
    use ct_merkle::mem_backed_tree::MemoryBackedTree;

    use super::*;

    /// The stored-subtree computation gives the same root and proofs as ct-merkle's in-memory
    /// tree, for every size and index up to 40.
    #[test]
    fn stored_subtrees_give_the_in_memory_trees_roots_and_proofs() {
        let mut tree = MemoryBackedTree::<Sha256, Vec<u8>>::new();
        let mut tip = LogTip::default();
        let mut nodes: HashMap<(u32, u64), LogHash> = HashMap::new();
        for n in 0..40u64 {
            let entry = format!("entry {n}").into_bytes();
            tree.push(entry.clone());
            let (created, frontier) = push_leaf(&tip, leaf_hash(&entry));
            nodes.extend(created.iter().map(|c| ((c.level, c.index), c.hash)));
            tip = LogTip { size: n + 1, frontier };
            let size = n + 1;
            let root = root_of(&tip.frontier.iter().map(|f| f.hash).collect::<Vec<_>>()).unwrap();
            assert_eq!(&root[..], &tree.root().as_bytes()[..], "root of {size}");
            assert_eq!(range_hash(0, size, &nodes).unwrap(), root);
            for seq in 0..size {
                let ours: Vec<u8> = ct_merkle::indices_for_inclusion_proof(size, seq)
                    .iter()
                    .flat_map(|&i| {
                        let (lo, hi) = node_range(i, size);
                        range_hash(lo, hi, &nodes).unwrap()
                    })
                    .collect();
                assert_eq!(ours, tree.prove_inclusion(seq as usize).as_bytes(), "inclusion of {seq} in {size}");
            }
        }
        for old in 1..40u64 {
            let additions = 40 - old;
            let ours: Vec<u8> = ct_merkle::indices_for_consistency_proof(old, additions)
                .iter()
                .flat_map(|&i| {
                    let (lo, hi) = node_range(i, 40);
                    range_hash(lo, hi, &nodes).unwrap()
                })
                .collect();
            assert_eq!(ours, tree.prove_consistency(additions as usize).as_bytes(), "consistency {old} → 40");
        }
    }

    #[test]
    fn cover_splits_as_rfc_6962_does() {
        let mut out = Vec::new();
        cover(0, 7, &mut out);
        assert_eq!(out, vec![(2, 0), (1, 2), (0, 6)]);
        out.clear();
        cover(4, 7, &mut out);
        assert_eq!(out, vec![(1, 2), (0, 6)]);
    }
}
