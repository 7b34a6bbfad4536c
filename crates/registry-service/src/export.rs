//! Export: what the registry holds for one furnisher and one monthly cycle, written back as a
//! furnishing file, Metro 2 or JSON Lines. Identifiers and identities are opened from the vault
//! only to be written out, and handed over only once the read is logged.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;

use registry_core::furnishing::metro2::{ExportError, export_record};
use registry_core::model::{AccountRecord, Date, FurnisherId, NationalId, Pii, ReportedIdentity, SubjectDetails};
use registry_core::report::{StoredRecord, SubjectKey, YearMonth};

use crate::audit::Access;
use crate::disclosure::{Destination, Staged, Unlogged};
use crate::vault::Purpose;
use crate::{Registry, ServiceError, io_error};

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    JsonLines,
    Metro2,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    pub records: u64,
    /// Amounts whose minor units Metro 2 cannot carry (it holds whole units; cents are dropped,
    /// as the CRRG says, not rounded).
    pub amounts_truncated: u64,
}

/// Records named in the error when some cannot be written; the rest are counted.
const FAILURES_LISTED: usize = 5;
/// People remembered while exporting, so one on many records is opened once.
const PEOPLE_CACHED_MAX: usize = 16_384;

/// A furnisher's monthly cycle to export.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    pub furnisher: FurnisherId,
    /// Any day of the cycle's month.
    pub as_of: Date,
    pub format: ExportFormat,
    /// Metro 2: goes in records that came without one (default: the furnisher id).
    pub identification_number: Option<String>,
}

impl Registry {
    /// Writes every current record of the furnisher dated in the month of `as_of` to
    /// `destination`, for the reader `access` names. The file is written privately first and
    /// handed over only once the read is logged (one entry for the whole cycle): nothing is
    /// written, and nothing logged, unless every record can be. A record Metro 2 cannot
    /// express (a non-SSN subject, a co-funded loan, a microloan) fails the export, named.
    pub fn export(&self, access: &Access, request: &ExportRequest, destination: Destination<'_>) -> Result<ExportSummary, ServiceError> {
        let month = YearMonth::of(request.as_of);
        let furnisher = &request.furnisher;
        let identification = request.identification_number.as_deref().unwrap_or(furnisher.as_str());
        let mut staged = Staged::for_destination(&destination)?;
        let file = BufWriter::new(staged.file().try_clone().map_err(io_error("opening the output failed"))?);
        let output = match request.format {
            ExportFormat::Metro2 => Output::Metro2(Box::new(
                metro2::Writer::new(file, METRO2_FRAMING, true, &self.metro2_header(furnisher, request.as_of)?)
                    .map_err(io_error("writing the export failed"))?,
            )),
            ExportFormat::JsonLines => Output::JsonLines(file),
        };
        // The cycle's people, in one entry naming nobody: a furnisher's cycle is thousands.
        let mut output = Unlogged::new(output, Vec::new());
        let mut people: HashMap<(i64, i64), (NationalId, ReportedIdentity)> = HashMap::new();
        let mut summary = ExportSummary::default();
        let mut failures: Vec<ExportError> = Vec::new();
        let mut failed = 0u64;
        let mut line = Vec::new();
        self.store.for_each_record(furnisher, month.day(1), month.last_day(), &mut |stored| {
            let record = self.open_record(stored, &mut people).map_err(crate::visit_error)?;
            let written = output.absorb(record, |output, record| match output {
                Output::Metro2(writer) => match export_record(&record, identification) {
                    Ok(exported) if failed == 0 => {
                        summary.amounts_truncated += u64::from(exported.amounts_truncated);
                        writer.record(&exported.base, &exported.appended)
                    }
                    Ok(_) => Ok(()),
                    Err(e) => {
                        failed += 1;
                        if failures.len() < FAILURES_LISTED {
                            failures.push(e);
                        }
                        Ok(())
                    }
                },
                Output::JsonLines(out) => {
                    let mut record = record;
                    // The furnishing format has no field for it: the sender is the furnisher.
                    record.facts.reporter_id = None;
                    line.clear();
                    serde_json::to_writer(&mut line, &record).expect("records serialise");
                    line.push(b'\n');
                    out.write_all(&line)
                }
            });
            written.map_err(|e| crate::visit_error(io_error("writing the export failed")(e)))?;
            summary.records += 1;
            Ok(ControlFlow::Continue(()))
        })?;
        if failed > 0 {
            let listed: Vec<String> = failures.iter().map(ToString::to_string).collect();
            let more = if failed > listed.len() as u64 { format!("; and {} more", failed - listed.len() as u64) } else { String::new() };
            return Err(ServiceError::NotExpressible(format!(
                "{failed} of {} records cannot be written as Metro 2: {}{more}",
                summary.records,
                listed.join("; ")
            )));
        }
        if summary.records == 0 {
            return Err(ServiceError::NotFound(format!("{furnisher} has no records dated in {month}")));
        }
        let records = summary.records;
        let staged = output.try_map(|output| {
            let mut file = match output {
                Output::Metro2(writer) => writer.finish()?,
                Output::JsonLines(mut out) => {
                    writeln!(out, "{{\"trailer\":{{\"records\":{records}}}}}")?;
                    out
                }
            };
            file.flush()?;
            Ok(staged)
        });
        self.deliver(access, staged.map_err(io_error("writing the export failed"))?, destination)?;
        Ok(summary)
    }

    /// A Metro 2 header for a furnisher's cycle: the registry does not hold the furnisher's
    /// postal address, so the reporter address says where the file came from.
    fn metro2_header(&self, furnisher: &FurnisherId, as_of: Date) -> Result<metro2::SegmentBuf, ServiceError> {
        use metro2::layout::header::{
            ACTIVITY_DATE, DATE_CREATED, REPORTER_ADDRESS, REPORTER_NAME, SOFTWARE_VENDOR_NAME, SOFTWARE_VERSION_NUMBER,
        };
        let date = |d: Date| {
            use chrono::Datelike;
            metro2::Date::new(d.year() as u16, d.month() as u8, d.day() as u8)
        };
        let mut header = metro2::SegmentBuf::new(metro2::SegmentKind::Header, metro2::Encoding::Character);
        let name: String = furnisher.as_str().chars().take(40).collect();
        let set = |header: &mut metro2::SegmentBuf| -> Result<(), metro2::FieldError> {
            header.set_date(ACTIVITY_DATE, date(as_of))?;
            header.set_date(DATE_CREATED, date(self.clock.today()))?;
            header.set_text(REPORTER_NAME, &name)?;
            header.set_text(REPORTER_ADDRESS, "EXPORTED BY CREDIT-REGISTRY")?;
            header.set_text(SOFTWARE_VENDOR_NAME, "credit-registry")?;
            header.set_text(SOFTWARE_VERSION_NUMBER, env!("CARGO_PKG_VERSION"))?;
            Ok(())
        };
        set(&mut header).map_err(|e| ServiceError::Internal(format!("the export header: {e}")))?;
        Ok(header)
    }

    /// A stored record with its people opened (not yet anyone's).
    fn open_record(
        &self,
        stored: StoredRecord,
        people: &mut HashMap<(i64, i64), (NationalId, ReportedIdentity)>,
    ) -> Result<Unlogged<AccountRecord>, ServiceError> {
        let mut subjects = Vec::with_capacity(stored.subjects.len());
        for link in &stored.subjects {
            let key = (link.subject, link.identity);
            if !people.contains_key(&key) {
                let sealed = self
                    .store
                    .sealed_link(SubjectKey(link.subject), link.identity)?
                    .ok_or_else(|| ServiceError::Internal("a record names a subject the store does not hold".into()))?;
                let id = String::from_utf8(self.vault.open(Purpose::Identifier, &sealed.id_sealed)?)
                    .map_err(|_| ServiceError::Internal("a sealed identifier is not text".into()))?;
                let identity: ReportedIdentity = serde_json::from_slice(&self.vault.open(Purpose::Identity, &sealed.identity_sealed)?)
                    .map_err(|_| ServiceError::Internal("a sealed identity is not in the expected form".into()))?;
                if people.len() >= PEOPLE_CACHED_MAX {
                    people.clear();
                }
                people.insert(key, (NationalId { id_type: sealed.id_type, id: Pii(id) }, identity));
            }
            let (id, identity) = &people[&key];
            subjects.push(SubjectDetails {
                role: link.role,
                id: id.clone(),
                family_name: identity.family_name.clone(),
                given_name: identity.given_name.clone(),
                birth_date: identity.birth_date.clone(),
                phone: identity.phone.clone(),
                address: identity.address.clone(),
            });
        }
        // Folded into the cycle's file, whose one log entry names nobody.
        Ok(Unlogged::new(AccountRecord { facts: stored.facts, subjects }, Vec::new()))
    }
}

/// The export being written, into the staged file.
enum Output {
    Metro2(Box<metro2::Writer<BufWriter<File>>>),
    JsonLines(BufWriter<File>),
}

/// Exports are character files, one record per line (lengths still rule).
const METRO2_FRAMING: metro2::Framing = metro2::Framing { encoding: metro2::Encoding::Character, blocked: false };
