//! The ingest pipeline: archive the file (hash and encrypt), skip it if the furnisher already
//! applied the same bytes, then parse, validate and seal on one thread while the store writes
//! on another, all in one transaction. Memory is bounded by the batch queue, not the file.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::sync::mpsc;

use registry_core::furnishing::metro2::{Metro2Options, Metro2Reader};
use registry_core::furnishing::{Entries, Entry, Format, FurnishingReader, ReadError, Rules};
use std::sync::Arc;

use registry_core::model::{AccountRecord, FurnisherId, IdType, ReportedIdentity, SubjectDetails};
use registry_store::{BatchItem, Begin, KeyedHash, NewSubmission, SealedRecord, SealedSubject, SubmissionSummary};

use crate::quality::FactsBatch;
use crate::vault::{NonceSource, Purpose, Vault};
use crate::{Registry, ServiceError, io_error};

/// Lines per batch handed from the parsing thread to the writing thread.
const BATCH_LINES: usize = 1024;
/// Batches in flight between the threads.
const BATCHES_IN_FLIGHT: usize = 4;
/// Batches the evaluators may lag behind the parser (shared with the writer, so each costs
/// only the time it is kept: about 1 MB). More than the writer's, so that a slow patch of
/// look-ups does not hold the parser and the writer back.
const EVALUATION_BATCHES_IN_FLIGHT: usize = 16;
/// People remembered per identifier type and submission, so a subject reported on many lines is
/// hashed and sealed once; forgotten wholesale when full, to bound memory (about 0.5 KiB each).
const SEAL_CACHE_ENTRIES_MAX: usize = 16_384;

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

/// How a file is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngestOptions {
    /// The file's format; `None` tells it from the content ([`Format::detect`]).
    pub format: Option<Format>,
    /// How Metro 2 files are read (strict or lenient, and their amounts' currency).
    pub metro2: Metro2Options,
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
    /// Ingests one furnishing file, JSON Lines or Metro 2, as one submission of `furnisher`.
    pub fn ingest(
        &self,
        furnisher: &FurnisherId,
        file_name: Option<&str>,
        source: &mut dyn Read,
        options: &IngestOptions,
        progress: &dyn IngestProgress,
    ) -> Result<IngestOutcome, ServiceError> {
        let started = std::time::Instant::now();
        let mut rng = NonceSource::new().map_err(io_error("no randomness"))?;
        let archived = self
            .archive
            .store(source, &self.vault, &mut rng, &mut |bytes| progress.archiving(bytes))
            .map_err(io_error("archiving the submitted file failed"))?;
        if let Some(existing) = self.store.find_applied(furnisher, &archived.content_sha256)? {
            return Ok(IngestOutcome::Duplicate(existing));
        }
        let mut input =
            self.archive.reader(&archived.content_sha256, &self.vault).map_err(io_error("reading back the archived file failed"))?;
        let format = match options.format {
            Some(format) => format,
            None => Format::detect(input.fill_buf().map_err(io_error("reading back the archived file failed"))?),
        };
        let submission = NewSubmission {
            submission_id: new_submission_id(&mut rng, self.clock.now().timestamp_millis()),
            furnisher: furnisher.clone(),
            file_name: file_name.map(str::to_owned),
            content_sha256: archived.content_sha256.clone(),
            byte_count: archived.byte_count,
            received_at: self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            format,
        };
        let mut writer = match self.store.begin_submission(&submission)? {
            Begin::Duplicate(existing) => return Ok(IngestOutcome::Duplicate(existing)),
            Begin::Started(writer) => writer,
        };
        let archived_ms = started.elapsed().as_millis();
        progress.parsing_started(archived.byte_count);
        let rules = Rules { today: self.clock.today() };
        let line_bytes_max = self.settings.line_bytes_max;

        let (written, finished, evaluated) = std::thread::scope(|scope| {
            let (batches, received) = mpsc::sync_channel::<Arc<Vec<BatchItem>>>(BATCHES_IN_FLIGHT);
            // The evaluators read what was stored before this submission, on their own thread,
            // while the writer stores it; they finish before it commits, so no backend needs a
            // snapshot that outlives a commit (a distributed one has none across its workers).
            let (facts, to_evaluate) = mpsc::sync_channel::<FactsBatch>(EVALUATION_BATCHES_IN_FLIGHT);
            let lookup = self.store.prior_lookup(furnisher);
            let evaluator = scope.spawn(move || self.evaluate_submission(furnisher, lookup?, to_evaluate));
            let parser = scope.spawn(move || match format {
                Format::JsonLines => {
                    let reader = FurnishingReader::new(input, rules, line_bytes_max);
                    parse_and_seal(reader, &self.vault, rng, Outputs { batches, facts }, progress)
                }
                Format::Metro2 => {
                    let reader = Metro2Reader::new(input, rules, options.metro2);
                    parse_and_seal(reader, &self.vault, rng, Outputs { batches, facts }, progress)
                }
            });
            let mut written = Ok(());
            for batch in received {
                if let Err(e) = writer.write_batch(Arc::clone(&batch)) {
                    // Dropping the receiver stops the parser at its next send.
                    written = Err(e);
                    break;
                }
                tracing::debug!(lines = batch.len(), "batch written");
            }
            let parsed = parser.join().unwrap_or(Err(Stop::Panicked));
            let evaluated = evaluator.join().unwrap_or_else(|_| Err(ServiceError::Internal("the evaluating thread panicked".into())));
            let written_ms = started.elapsed().as_millis();
            let finished = match (&written, parsed) {
                (Ok(()), Ok(record_count)) => Ok(writer.commit(record_count).map(|summary| (summary, record_count, written_ms))),
                (_, parsed) => {
                    drop(writer);
                    Err(parsed.err())
                }
            };
            (written, finished, evaluated)
        });
        written?;
        match finished {
            Ok(committed) => {
                let (summary, record_count, written_ms) = committed?;
                let committed_ms = started.elapsed().as_millis() - written_ms;
                // The records are in; what the evaluators found is stored beside them. If that
                // fails, the submission stands and `credit-registry quality` evaluates it later.
                let stored = evaluated.and_then(|evaluation| self.store_evaluation(furnisher, &summary.submission_id, &evaluation));
                if let Err(e) = stored {
                    tracing::warn!(furnisher = %furnisher, error = %e, "evaluating the submission's data quality failed; run `credit-registry quality`");
                }
                tracing::info!(
                    furnisher = %furnisher,
                    records = record_count,
                    bytes = archived.byte_count,
                    archived_ms,
                    written_ms = written_ms - archived_ms,
                    committed_ms,
                    findings_stored_ms = started.elapsed().as_millis() - written_ms - committed_ms,
                    "submission applied"
                );
                Ok(IngestOutcome::Applied(summary))
            }
            Err(Some(Stop::Read(ReadError::Rejected(rejection), record_count))) => {
                let summary = self.store.record_rejected_file(&submission, record_count, &rejection)?;
                tracing::info!(furnisher = %furnisher, code = rejection.code.as_str(), "submission rejected whole");
                Ok(IngestOutcome::Rejected(summary))
            }
            Err(Some(Stop::Read(ReadError::Io(e), _))) => Err(io_error("reading the archived file failed")(e)),
            Err(Some(Stop::WriterGone)) => Err(ServiceError::Internal("the store stopped accepting records".into())),
            Err(Some(Stop::Panicked)) => Err(ServiceError::Internal("the parsing thread panicked".into())),
            Err(None) => Err(ServiceError::Internal("the writer failed, then the parser did not".into())),
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

/// Where the parsing thread sends what it read: each sealed batch to the writer and, shared
/// rather than copied, to the evaluators.
struct Outputs {
    batches: mpsc::SyncSender<Arc<Vec<BatchItem>>>,
    facts: mpsc::SyncSender<FactsBatch>,
}

fn parse_and_seal(
    mut reader: impl Entries,
    vault: &Vault,
    rng: NonceSource,
    outputs: Outputs,
    progress: &dyn IngestProgress,
) -> Result<u64, Stop> {
    let mut sealer = Sealer { vault, rng, recent: Default::default() };
    let mut batch = Vec::with_capacity(BATCH_LINES);
    // The evaluators are a side job: if they stop (an error, reported after), the ingest goes on.
    let mut evaluating = true;
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
            let full = Arc::new(std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES)));
            if evaluating {
                evaluating = outputs.facts.send(Arc::clone(&full)).is_ok();
            }
            outputs.batches.send(full).map_err(|_| Stop::WriterGone)?;
        }
    }
    progress.parsing(reader.bytes_read(), reader.record_count());
    if !batch.is_empty() {
        let last = Arc::new(batch);
        if evaluating {
            let _gone = outputs.facts.send(Arc::clone(&last));
        }
        outputs.batches.send(last).map_err(|_| Stop::WriterGone)?;
    }
    Ok(reader.record_count())
}

/// Hashes and seals the personal parts of records. A person appears on many records of a file
/// (one per account, one per month in a backfill), so the results for recently seen people
/// are kept, by identifier; a different identity for the same person is sealed afresh.
struct Sealer<'v> {
    vault: &'v Vault,
    rng: NonceSource,
    /// One map per identifier type, so look-ups borrow the identifier instead of copying it.
    recent: [HashMap<String, SealedPerson>; IdType::ALL.len()],
}

struct SealedPerson {
    id_hash: KeyedHash,
    id_sealed: Arc<[u8]>,
    identity: ReportedIdentity,
    identity_hash: KeyedHash,
    identity_sealed: Arc<[u8]>,
}

impl Sealer<'_> {
    fn seal(&mut self, line: u64, record: AccountRecord) -> SealedRecord {
        let subjects = record.subjects.iter().map(|subject| self.seal_subject(subject)).collect();
        SealedRecord { line, facts: record.facts, subjects }
    }

    fn seal_subject(&mut self, subject: &SubjectDetails) -> SealedSubject {
        let id_type = subject.id.id_type;
        let known = self.recent[id_type as usize].get(subject.id.id.as_str());
        let person = match known {
            Some(person) if subject.same_identity(&person.identity) => person,
            known => {
                let (id_hash, id_sealed) = match known {
                    Some(person) => (person.id_hash, person.id_sealed.clone()),
                    None => (
                        self.vault.id_hash(id_type, &subject.id.id),
                        self.vault.seal(Purpose::Identifier, subject.id.id.as_bytes(), &mut self.rng).into(),
                    ),
                };
                let identity = subject.reported_identity();
                let canonical = serde_json::to_vec(&identity).expect("identities serialise");
                let person = SealedPerson {
                    id_hash,
                    id_sealed,
                    identity_hash: self.vault.identity_hash(&canonical),
                    identity_sealed: self.vault.seal(Purpose::Identity, &canonical, &mut self.rng).into(),
                    identity,
                };
                let recent = &mut self.recent[id_type as usize];
                if recent.len() >= SEAL_CACHE_ENTRIES_MAX {
                    recent.clear();
                }
                recent.insert(subject.id.id.0.clone(), person);
                &recent[subject.id.id.as_str()]
            }
        };
        SealedSubject {
            role: subject.role,
            id_type,
            id_hash: person.id_hash,
            id_sealed: person.id_sealed.clone(),
            identity_hash: person.identity_hash,
            identity_sealed: person.identity_sealed.clone(),
        }
    }
}

/// `sub_` then the time in milliseconds and 32 random bits, in hex: unique, and sorting by id
/// sorts by arrival.
fn new_submission_id(rng: &mut NonceSource, millis: i64) -> String {
    format!("sub_{:012x}{:08x}", millis.max(0), rng.next_u32())
}
