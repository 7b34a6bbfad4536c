//! Export: what the registry holds for one furnisher and one monthly cycle, written back as a
//! furnishing file, Metro 2 or JSON Lines. Identifiers and identities are opened from the vault
//! only to be written out.

use std::collections::HashMap;
use std::io::Write;
use std::ops::ControlFlow;

use registry_core::furnishing::metro2::{ExportError, export_record};
use registry_core::model::{AccountRecord, Date, FurnisherId, NationalId, Pii, ReportedIdentity, SubjectDetails};
use registry_core::report::{StoredRecord, SubjectKey, YearMonth};

use crate::vault::Purpose;
use crate::{Registry, ServiceError};

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

impl Registry {
    /// Writes every current record of `furnisher` dated in the month of `as_of`. For Metro 2,
    /// `identification_number` goes in records that came without one (default: the furnisher
    /// id). Nothing is written unless every record can be: a record Metro 2 cannot express (a
    /// non-SSN subject, a co-funded loan, a microloan) fails the export, named.
    pub fn export(
        &self,
        furnisher: &FurnisherId,
        as_of: Date,
        format: ExportFormat,
        identification_number: Option<&str>,
        out: &mut dyn Write,
    ) -> Result<ExportSummary, ServiceError> {
        let month = YearMonth::of(as_of);
        let identification = identification_number.unwrap_or(furnisher.as_str());
        let mut people: HashMap<(i64, i64), (NationalId, ReportedIdentity)> = HashMap::new();
        let mut summary = ExportSummary::default();
        let mut failures: Vec<ExportError> = Vec::new();
        let mut failed = 0u64;
        let mut output = match format {
            ExportFormat::Metro2 => Output::Metro2(Box::new(
                metro2::Writer::new(out, METRO2_FRAMING, true, &self.metro2_header(furnisher, as_of)?)
                    .map_err(crate::io_error("writing the export failed"))?,
            )),
            ExportFormat::JsonLines => Output::JsonLines(out),
        };
        let mut line = Vec::new();
        self.store.for_each_record(furnisher, month.day(1), month.last_day(), &mut |stored| {
            let record = self.open_record(stored, &mut people).map_err(crate::visit_error)?;
            let written = match &mut output {
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
            };
            written.map_err(|e| crate::visit_error(crate::io_error("writing the export failed")(e)))?;
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
        match output {
            Output::Metro2(writer) => {
                writer.finish().map_err(crate::io_error("writing the export failed"))?;
            }
            Output::JsonLines(out) => {
                writeln!(out, "{{\"trailer\":{{\"records\":{}}}}}", summary.records)
                    .map_err(crate::io_error("writing the export failed"))?;
            }
        }
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

    /// A stored record with its people opened.
    fn open_record(
        &self,
        stored: StoredRecord,
        people: &mut HashMap<(i64, i64), (NationalId, ReportedIdentity)>,
    ) -> Result<AccountRecord, ServiceError> {
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
        Ok(AccountRecord { facts: stored.facts, subjects })
    }
}

enum Output<'o> {
    Metro2(Box<metro2::Writer<&'o mut dyn Write>>),
    JsonLines(&'o mut dyn Write),
}

/// Exports are character files, one record per line (lengths still rule).
const METRO2_FRAMING: metro2::Framing = metro2::Framing { encoding: metro2::Encoding::Character, blocked: false };
