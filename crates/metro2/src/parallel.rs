//! Validation on several threads. Framing is sequential (a record's length is only known once
//! the one before it is read), so one thread reads and frames, copying data records into
//! batches; workers check batches; the reading thread reports problems in file order. Header,
//! trailer and misplaced headers are checked by the reading thread, once every batch before
//! them is done, so the result is the same as [`crate::validate`]'s.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Arc, Mutex, mpsc};

use crate::problem::{Problem, Rule};
use crate::read::{Mode, ReadError, Reader, Record, parse_record};
use crate::validate::{Sink, Summary, Totals, Validator, check_data};

/// A batch's bytes: big enough that handing it over costs little against checking it.
const BATCH_BYTES: usize = 1 << 20;

enum Entry {
    Data {
        number: u64,
        offset: u64,
        range: Range<usize>,
    },
    /// A data record that cannot be read into segments: passed through in order.
    Unreadable(Problem),
}

struct Batch {
    seq: u64,
    encoding: crate::layout::Encoding,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// What checking a batch found.
pub(crate) struct Outcome {
    seq: u64,
    pub problems: Vec<Problem>,
    pub totals: Totals,
    pub data_records: u64,
    pub data_records_with_problems: u64,
}

fn check_batch(batch: Batch) -> Outcome {
    let mut outcome =
        Outcome { seq: batch.seq, problems: Vec::new(), totals: Totals::default(), data_records: 0, data_records_with_problems: 0 };
    let mut segments = Vec::new();
    for entry in batch.entries {
        outcome.data_records += 1;
        match entry {
            Entry::Data { number, offset, range } => {
                let bytes = &batch.bytes[range];
                let Record::Data(record) = parse_record(bytes, batch.encoding, &mut segments, number, offset) else {
                    unreachable!("the reader classified this record as data")
                };
                outcome.totals.count(&record);
                if !check_data(&record, &mut Sink::new(number, offset, &mut outcome.problems)) {
                    outcome.data_records_with_problems += 1;
                }
            }
            Entry::Unreadable(problem) => {
                outcome.totals.counts[crate::layout::trailer::TOTAL_BASE_RECORDS] += 1;
                outcome.data_records_with_problems += 1;
                outcome.problems.push(problem);
            }
        }
    }
    outcome
}

/// Batches sent and not yet reported, reported in order as they come back.
struct InFlight {
    sent: u64,
    next: u64,
    early: BTreeMap<u64, Outcome>,
    done: mpsc::Receiver<Outcome>,
}

impl InFlight {
    fn take(&mut self, outcome: Outcome, validator: &mut Validator, on_problem: &mut impl FnMut(&Problem)) {
        self.early.insert(outcome.seq, outcome);
        while let Some(outcome) = self.early.remove(&self.next) {
            for problem in &outcome.problems {
                on_problem(problem);
            }
            validator.absorb(outcome.data_records, outcome.data_records_with_problems, outcome.problems.len() as u64, &outcome.totals);
            self.next += 1;
        }
    }

    /// Reports what has come back, without waiting.
    fn poll(&mut self, validator: &mut Validator, on_problem: &mut impl FnMut(&Problem)) {
        while let Ok(outcome) = self.done.try_recv() {
            self.take(outcome, validator, on_problem);
        }
    }

    /// Waits for every batch sent.
    fn drain(&mut self, validator: &mut Validator, on_problem: &mut impl FnMut(&Problem)) {
        while self.next < self.sent {
            let outcome = self.done.recv().expect("workers live while batches are in flight");
            self.take(outcome, validator, on_problem);
        }
    }
}

/// Validates a whole file on `threads` worker threads (plus the reading one); the same result
/// and problems, in the same order, as [`crate::validate`].
pub fn validate_parallel<R: Read>(input: R, mode: Mode, threads: usize, mut on_problem: impl FnMut(&Problem)) -> io::Result<Summary> {
    if threads <= 1 {
        return crate::validate::validate(input, mode, on_problem);
    }
    std::thread::scope(|scope| {
        let (work, work_queue) = mpsc::sync_channel::<Batch>(threads * 2);
        let work_queue = Arc::new(Mutex::new(work_queue));
        let (done_sender, done) = mpsc::channel::<Outcome>();
        for _ in 0..threads {
            let work_queue = Arc::clone(&work_queue);
            let done_sender = done_sender.clone();
            scope.spawn(move || {
                loop {
                    let batch = work_queue.lock().expect("no worker panics holding the queue").recv();
                    let Ok(batch) = batch else { return };
                    if done_sender.send(check_batch(batch)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_sender);

        let mut reader = Reader::new(input, mode);
        let mut validator = Validator::new(mode);
        let mut in_flight = InFlight { sent: 0, next: 0, early: BTreeMap::new(), done };
        let mut batch: Option<Batch> = None;
        let mut problems = Vec::new();
        let send = |batch: &mut Option<Batch>, in_flight: &mut InFlight| {
            if let Some(full) = batch.take() {
                in_flight.sent += 1;
                work.send(full).expect("workers live while the reader sends");
            }
        };
        loop {
            match reader.next_record() {
                Ok(Some(located)) => match &located.record {
                    Record::Data(record) => {
                        let seq = in_flight.sent;
                        let current = batch.get_or_insert_with(|| Batch {
                            seq,
                            encoding: record.encoding,
                            bytes: Vec::with_capacity(BATCH_BYTES + 2048),
                            entries: Vec::new(),
                        });
                        current.encoding = record.encoding;
                        let start = current.bytes.len();
                        current.bytes.extend_from_slice(record.bytes);
                        let range = start..current.bytes.len();
                        current.entries.push(Entry::Data { number: located.number, offset: located.offset, range });
                        if current.bytes.len() >= BATCH_BYTES {
                            send(&mut batch, &mut in_flight);
                            in_flight.poll(&mut validator, &mut on_problem);
                        }
                    }
                    Record::Unreadable(problem) if problem.rule != Rule::MisplacedHeader => {
                        let seq = in_flight.sent;
                        // The encoding is set by the batch's data records, if any.
                        let encoding = crate::layout::Encoding::Character;
                        batch
                            .get_or_insert_with(|| Batch { seq, encoding, bytes: Vec::new(), entries: Vec::new() })
                            .entries
                            .push(Entry::Unreadable(problem.clone()));
                    }
                    _ => {
                        // Header, trailer, misplaced header: checked after all before them.
                        send(&mut batch, &mut in_flight);
                        in_flight.drain(&mut validator, &mut on_problem);
                        validator.check(&located, &mut problems);
                        for problem in problems.drain(..) {
                            on_problem(&problem);
                        }
                    }
                },
                Ok(None) => break,
                Err(ReadError::Framing(problem)) => {
                    send(&mut batch, &mut in_flight);
                    in_flight.drain(&mut validator, &mut on_problem);
                    validator.stopped(&problem);
                    on_problem(&problem);
                    break;
                }
                Err(ReadError::Io(e)) => return Err(e),
            }
        }
        send(&mut batch, &mut in_flight);
        in_flight.drain(&mut validator, &mut on_problem);
        drop(work);
        Ok(validator.finish(&reader))
    })
}
