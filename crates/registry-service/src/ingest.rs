//! The ingest pipeline: archive the file (hash and encrypt), skip it if the furnisher already
//! applied the same bytes, then parse, validate and seal on one thread while the store writes
//! on another, all in one transaction. Memory is bounded by the batch queue, not the file.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::sync::mpsc;

use registry_core::furnishing::{Entry, FurnishingReader, ReadError, Rules};
use registry_core::model::{AccountRecord, FurnisherId, IdType};
use registry_store::{Begin, BatchItem, KeyedHash, NewSubmission, SealedRecord, SealedSubject, SubmissionSummary};

use crate::vault::{NonceSource, Purpose, Vault};
use crate::{Registry, ServiceError, io_error};

/// Lines per batch handed from the parsing thread to the writing thread.
const BATCH_LINES: usize = 1024;
/// Batches in flight between the threads.
const BATCHES_IN_FLIGHT: usize = 4;
/// Sealed identifiers and identities remembered per submission, so a subject reported on many
/// lines is hashed and sealed once; forgotten wholesale when full, to bound memory.
const SEAL_CACHE_ENTRIES_MAX: usize = 100_000;

/// How an ingest ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Applied: accepted records are stored (rejected ones are listed with the submission).
    Applied(SubmissionSummary),
    /// The furnisher already applied these exact bytes; nothing changed. The summary is the
    /// earlier submission's.
    Duplicate(SubmissionSummary),
    /// Rejected whole; nothing applied. The summary carries the reason.
    Rejected(SubmissionSummary),
}

impl IngestOutcome {
    pub fn summary(&self) -> &SubmissionSummary {
        match self {
            IngestOutcome::Applied(s) | IngestOutcome::Duplicate(s) | IngestOutcome::Rejected(s) => s,
        }
    }
}

/// Progress callbacks for long ingests (the CLI draws bars from them).
pub trait IngestProgress: Sync {
    /// Bytes received and archived so far.
    fn archiving(&self, _bytes: u64) {}
    /// The archived file is `bytes` long; parsing starts.
    fn parsing_started(&self, _bytes: u64) {}
    /// Bytes parsed and records read so far.
    fn parsing(&self, _bytes: u64, _records: u64) {}
}

/// Reports nothing.
pub struct NoProgress;

impl IngestProgress for NoProgress {}

impl Registry {
    /// Ingests one furnishing file as one submission of `furnisher`.
    pub fn ingest(
        &self,
        furnisher: &FurnisherId,
        file_name: Option<&str>,
        source: &mut dyn Read,
        progress: &dyn IngestProgress,
    ) -> Result<IngestOutcome, ServiceError> {
        let mut rng = NonceSource::new().map_err(io_error("no randomness"))?;
        let archived = self
            .archive
            .store(source, &self.vault, &mut rng, &mut |bytes| progress.archiving(bytes))
            .map_err(io_error("archiving the submitted file failed"))?;
        if let Some(existing) = self.store.find_applied(furnisher, &archived.content_sha256)? {
            return Ok(IngestOutcome::Duplicate(existing));
        }
        let submission = NewSubmission {
            submission_id: new_submission_id(&mut rng, self.clock.now().timestamp_millis()),
            furnisher: furnisher.clone(),
            file_name: file_name.map(str::to_owned),
            content_sha256: archived.content_sha256.clone(),
            byte_count: archived.byte_count,
            received_at: self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        let mut writer = match self.store.begin_submission(&submission)? {
            Begin::Duplicate(existing) => return Ok(IngestOutcome::Duplicate(existing)),
            Begin::Started(writer) => writer,
        };
        progress.parsing_started(archived.byte_count);
        let input = self
            .archive
            .reader(&archived.content_sha256, &self.vault)
            .map_err(io_error("reading back the archived file failed"))?;
        let rules = Rules { today: self.clock.today() };
        let line_bytes_max = self.settings.line_bytes_max;

        let (parsed, written) = std::thread::scope(|scope| {
            let (batches, received) = mpsc::sync_channel::<Vec<BatchItem>>(BATCHES_IN_FLIGHT);
            let parser = scope.spawn(|| {
                let reader = FurnishingReader::new(input, rules, line_bytes_max);
                parse_and_seal(reader, &self.vault, rng, batches, progress)
            });
            let mut written = Ok(());
            for batch in received {
                if let Err(e) = writer.write_batch(&batch) {
                    // Dropping the receiver stops the parser at its next send.
                    written = Err(e);
                    break;
                }
            }
            let parsed = parser.join().unwrap_or(Err(Stop::Panicked));
            (parsed, written)
        });
        written?;
        match parsed {
            Ok(record_count) => Ok(IngestOutcome::Applied(writer.commit(record_count)?)),
            Err(Stop::Read(ReadError::Rejected(rejection), record_count)) => {
                drop(writer);
                let summary = self.store.record_rejected_file(&submission, record_count, &rejection)?;
                tracing::info!(furnisher = %furnisher, code = rejection.code.as_str(), "submission rejected whole");
                Ok(IngestOutcome::Rejected(summary))
            }
            Err(Stop::Read(ReadError::Io(e), _)) => Err(io_error("reading the archived file failed")(e)),
            Err(Stop::WriterGone) => Err(ServiceError::Internal("the store stopped accepting records".into())),
            Err(Stop::Panicked) => Err(ServiceError::Internal("the parsing thread panicked".into())),
        }
    }
}

/// Why the parsing thread stopped early.
enum Stop {
    /// The file was rejected or could not be read; with the records read until then.
    Read(ReadError, u64),
    /// The writing side gave up (its error is reported instead).
    WriterGone,
    Panicked,
}

fn parse_and_seal<R: BufRead>(
    mut reader: FurnishingReader<R>,
    vault: &Vault,
    rng: NonceSource,
    batches: mpsc::SyncSender<Vec<BatchItem>>,
    progress: &dyn IngestProgress,
) -> Result<u64, Stop> {
    let mut sealer = Sealer { vault, rng, ids: HashMap::new(), identities: HashMap::new() };
    let mut batch = Vec::with_capacity(BATCH_LINES);
    loop {
        let entry = match reader.next_entry() {
            Ok(Some(entry)) => entry,
            Ok(None) => break,
            Err(e) => return Err(Stop::Read(e, reader.record_count())),
        };
        batch.push(match entry {
            Entry::Accepted { line, record } => BatchItem::Accepted(sealer.seal(line, record)),
            Entry::Rejected { errors, .. } => BatchItem::Rejected(errors),
        });
        if batch.len() == BATCH_LINES {
            progress.parsing(reader.bytes_read(), reader.record_count());
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
            batches.send(full).map_err(|_| Stop::WriterGone)?;
        }
    }
    progress.parsing(reader.bytes_read(), reader.record_count());
    if !batch.is_empty() {
        batches.send(batch).map_err(|_| Stop::WriterGone)?;
    }
    Ok(reader.record_count())
}

/// Hashes and seals the personal parts of records, remembering recent results.
struct Sealer<'v> {
    vault: &'v Vault,
    rng: NonceSource,
    ids: HashMap<(IdType, String), (KeyedHash, Vec<u8>)>,
    identities: HashMap<Vec<u8>, (KeyedHash, Vec<u8>)>,
}

impl Sealer<'_> {
    fn seal(&mut self, line: u64, record: AccountRecord) -> SealedRecord {
        let subjects = record
            .subjects
            .iter()
            .map(|subject| {
                let id_key = (subject.id.id_type, subject.id.id.0.clone());
                let (id_hash, id_sealed) = match self.ids.get(&id_key) {
                    Some(found) => found.clone(),
                    None => {
                        let sealed = (
                            self.vault.id_hash(subject.id.id_type, &subject.id.id),
                            self.vault.seal(Purpose::Identifier, subject.id.id.as_bytes(), &mut self.rng),
                        );
                        bounded_insert(&mut self.ids, id_key, sealed.clone());
                        sealed
                    }
                };
                let canonical = serde_json::to_vec(&subject.reported_identity()).expect("identities serialise");
                let (identity_hash, identity_sealed) = match self.identities.get(&canonical) {
                    Some(found) => found.clone(),
                    None => {
                        let sealed = (
                            self.vault.identity_hash(&canonical),
                            self.vault.seal(Purpose::Identity, &canonical, &mut self.rng),
                        );
                        bounded_insert(&mut self.identities, canonical, sealed.clone());
                        sealed
                    }
                };
                SealedSubject { role: subject.role, id_type: subject.id.id_type, id_hash, id_sealed, identity_hash, identity_sealed }
            })
            .collect();
        SealedRecord { line, facts: record.facts, subjects }
    }
}

fn bounded_insert<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= SEAL_CACHE_ENTRIES_MAX {
        map.clear();
    }
    map.insert(key, value);
}

/// `sub_` then the time in milliseconds and 32 random bits, in hex: unique, and sorting by id
/// sorts by arrival.
fn new_submission_id(rng: &mut NonceSource, millis: i64) -> String {
    format!("sub_{:012x}{:08x}", millis.max(0), rng.next_u32())
}
