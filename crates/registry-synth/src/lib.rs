//! A synthetic credit market, deterministic by seed: people with a latent credit risk, eight
//! furnishers (a payment platform with a credit line and co-funded microloans, banks, a
//! consumer-finance company, an online microlender) and their monthly furnishing files.
//! docs/synthetic-population.md documents the model and its parameters.
//!
//! Two markets: the Chinese one above (resident identity numbers, CNY), and a US one of what
//! Metro 2 can express (social security numbers, USD, no co-funding, microloans and pay-later
//! written as instalment loans). Files are JSON Lines or Metro 2.
//!
//! Memory does not grow with the population: people are simulated one at a time and their
//! records streamed into one open file per furnisher and month.

mod accounts;
mod corrupt;
pub mod defects;
mod metro2_files;
mod people;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use registry_core::model::{AccountFacts, AccountRecord, Currency, Product, Role, Status};
use registry_core::report::YearMonth;
use serde::{Deserialize, Serialize};

pub use accounts::FURNISHERS;
pub use corrupt::{KINDS as CORRUPTIONS, TEXTUAL_KINDS};
pub use metro2_files::KINDS as METRO2_CORRUPTIONS;
pub use people::{Person, make_ssn};

use accounts::{AccountNumbers, MonthConditions, initial_accounts, open_new};

/// How the records are split into files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileLayout {
    /// One file per furnisher and month: `payplat/payplat-2024-05.jsonl`.
    PerFurnisher,
    /// One file per month holding every furnisher's records, as if one furnisher sent them:
    /// `all/all-2024-05.jsonl` (for benchmarks).
    Combined,
}

/// Whose credit market is simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Market {
    /// Resident identity numbers, CNY, co-funded microloans and pay-later.
    Cn,
    /// Social security numbers, USD: what Metro 2 can express.
    Us,
}

/// The files' format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    JsonLines,
    /// Metro 2 character files (the US market only: Metro 2 identifies people by SSN).
    Metro2,
}

impl FileFormat {
    fn extension(self) -> &'static str {
        match self {
            FileFormat::JsonLines => "jsonl",
            FileFormat::Metro2 => "metro2",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Params {
    pub subjects: u32,
    pub seed: u64,
    /// Monthly cycles written.
    pub months: u32,
    /// The last cycle's month.
    pub end_month: YearMonth,
    /// Months simulated before the first written cycle, so histories start mature.
    pub warmup_months: u32,
    /// Share of records replaced by a deliberately broken one (0 to 1).
    pub invalid_share: f64,
    /// Share of records of the Chinese market given a data-quality defect that passes
    /// validation (0 to 1), each listed in the manifest (`planted`).
    pub defect_share: f64,
    pub layout: FileLayout,
    pub market: Market,
    pub format: FileFormat,
}

impl Params {
    /// A clean population of the Chinese market in JSON Lines, one file per furnisher and
    /// cycle, a year of warm-up: what most tests and benchmarks start from, changing a field or
    /// two with `Params { seed: 9, ..Params::new(…) }`.
    pub fn new(subjects: u32, months: u32, end_month: YearMonth) -> Params {
        Params {
            subjects,
            seed: 1,
            months,
            end_month,
            warmup_months: 12,
            invalid_share: 0.0,
            defect_share: 0.0,
            layout: FileLayout::PerFurnisher,
            market: Market::Cn,
            format: FileFormat::JsonLines,
        }
    }

    pub fn first_month(&self) -> YearMonth {
        self.end_month.plus(1 - self.months as i32)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ManifestFile {
    pub furnisher: String,
    pub month: String,
    /// Relative to the output directory.
    pub path: String,
    pub records: u64,
}

/// A subject worth looking at in the demo.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Example {
    pub id_type: String,
    pub id: String,
    pub name: String,
    pub why: String,
}

/// What was generated: the files in the order to ingest them, and examples.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub subjects: u32,
    pub first_month: String,
    pub end_month: String,
    pub invalid_share: f64,
    pub records: u64,
    /// Broken records written, by the error code each provokes.
    pub invalid_records: BTreeMap<String, u64>,
    pub files: Vec<ManifestFile>,
    pub examples: Vec<Example>,
    /// The data-quality defects planted (`Params::defect_share`), by evaluator and record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planted: Vec<defects::Planted>,
    /// The institutions file written beside the files (the Chinese market's co-funders'
    /// supervisory figures), relative to the output directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institutions: Option<String>,
}

pub const MANIFEST_FILE: &str = "manifest.json";

/// The supervisory figures written for the co-funders of the Chinese market.
pub const INSTITUTIONS_FILE: &str = "institutions.toml";

/// The co-funder whose co-lending with the platform the institutions file puts over 25 % of its
/// tier-1 capital (a small rural bank with a large platform book).
pub const OVEREXPOSED_BANK: &str = "bank-river";

/// Share of records re-sent, corrected, in the next month's file.
const CORRECTION_SHARE: f64 = 0.002;

/// A ChaCha8 stream for one purpose and one item, independent of every other, so that a
/// person is the same whatever else is generated.
pub(crate) fn rng_for(seed: u64, purpose: &str, item: u64) -> ChaCha8Rng {
    // FNV-1a over the purpose, mixed with seed and item: a stable, well-spread 64-bit key.
    let mut key = 0xcbf2_9ce4_8422_2325u64;
    for byte in purpose.bytes() {
        key = (key ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ key.rotate_left(17));
    rng.set_stream(item);
    rng
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Whether person `index` (even) is married to `index + 1`: they share a mortgage.
fn married(seed: u64, index: u32, subjects: u32) -> bool {
    index.is_multiple_of(2) && index + 1 < subjects && rng_for(seed, "marriage", u64::from(index)).random_bool(0.35)
}

/// Generates the population into `out` and returns (and writes) its manifest. `progress` is
/// called with the number of people simulated so far.
pub fn generate(params: &Params, out: &Path, progress: &mut dyn FnMut(u32)) -> io::Result<Manifest> {
    if !(0.0..=1.0).contains(&params.invalid_share) || !(0.0..=1.0).contains(&params.defect_share) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the invalid and defect shares are fractions from 0 to 1"));
    }
    if params.format == FileFormat::Metro2 && params.market != Market::Us {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "Metro 2 identifies people by social security number: it writes the US market only",
        ));
    }
    // People are born up to 70 years before the start; their identity numbers hold 4-digit years.
    let start_year = params.first_month().plus(-(params.warmup_months as i32)).year();
    if start_year < 1950 || params.end_month.year() > 2999 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "the simulated months must fall between 1950 and 2999"));
    }
    fs::create_dir_all(out)?;
    let first_month = params.first_month();
    let start_month = first_month.plus(-(params.warmup_months as i32));
    let start = start_month.day(1);
    let mut files = Files::new(out, params.layout, params.format);
    let mut examples = Examples::default();
    // Each funder's parts of the platform's open loans in the last month, in fen.
    let mut funded_at_end: BTreeMap<String, u128> = BTreeMap::new();
    let plants_defects = params.market == Market::Cn && params.defect_share > 0.0;
    let defect_kinds = defects::plantable();
    let mut defect_tally = defects::Tally::default();
    let mut planted: Vec<defects::Planted> = Vec::new();

    for index in 0..params.subjects {
        let person = Person::generate(params.seed, index, start, params.market);
        let spouse = married(params.seed, index, params.subjects).then(|| Person::generate(params.seed, index + 1, start, params.market));
        let mut rng = rng_for(params.seed, "simulate", u64::from(index));
        let mut numbers = AccountNumbers::new(index);
        let mut accounts = initial_accounts(&person, spouse.as_ref(), start, &mut numbers, &mut rng);
        let mut hardship_months = 0u32;
        let mut seen = SubjectSeen::default();
        // Defects are chosen with a stream of their own, so the market around them is the one
        // the seed makes.
        let mut defect_rng = rng_for(params.seed, "defect", u64::from(index));
        // The platform reports someone else's family name for a few people (one identifier, a
        // different name: the identity evaluator's kind).
        let wrong_name = plants_defects && defect_rng.random_bool((params.defect_share * 4.0).min(1.0));
        let mut last_written: HashMap<String, registry_core::model::AccountFacts> = HashMap::new();
        let mut pending: defects::Pending = HashMap::new();
        let mut furnishers_reporting: BTreeSet<usize> = BTreeSet::new();
        let mut platform_account: Option<(String, registry_core::model::Date)> = None;

        for offset in 0..(params.warmup_months + params.months) as i32 {
            let month = start_month.plus(offset);
            if hardship_months > 0 {
                hardship_months -= 1;
            } else if rng.random_bool((0.004 * (0.6 * person.risk).exp()).min(0.2)) {
                hardship_months = 3 + rng.random_range(0..8u32);
            }
            let conditions = MonthConditions { risk: person.risk, hardship: hardship_months > 0 };
            open_new(&mut accounts, &person, month, &conditions, &mut numbers, &mut rng);
            let written = month >= first_month;
            for account in &mut accounts {
                let as_of = month.day(FURNISHERS[account.furnisher].cycle_day);
                let Some(mut facts) = account.step(as_of, &conditions, &mut rng) else { continue };
                if params.market == Market::Us {
                    as_american(&mut facts);
                }
                if !written {
                    continue;
                }
                let mut subjects = vec![person.as_reported_by(params.seed, account.furnisher, Role::Primary, params.market)];
                if let (Some(joint), Some(spouse)) = (account.joint, spouse.as_ref())
                    && spouse.index == joint
                {
                    subjects.push(spouse.as_reported_by(params.seed, account.furnisher, Role::Joint, params.market));
                }
                seen.observe(&facts, account.furnisher, &subjects, &person, month == params.end_month);
                if month == params.end_month && facts.status.is_open() && facts.closed.is_none() {
                    for share in &facts.funding {
                        *funded_at_end.entry(share.institution.clone()).or_default() +=
                            registry_core::supervision::funding_part(facts.balance, share.share_bp);
                    }
                }
                if wrong_name && account.furnisher == accounts::PAYPLAT {
                    subjects[0].family_name = registry_core::model::Pii(person.someone_elses_family_name().to_owned());
                }
                let mut record = AccountRecord { facts, subjects };
                let settled = record.facts.status.requires_zero_balance();
                let furnisher_id = FURNISHERS[account.furnisher].id;
                let number = record.facts.account.clone();
                let mut plan = None;
                if let Some(kind) = pending.remove(&number) {
                    defects::on_next(kind, &mut record, last_written.get(&number));
                    planted.push(defects::Planted {
                        evaluator: kind.into(),
                        furnisher: furnisher_id.into(),
                        account: number.clone(),
                        as_of: record.facts.as_of,
                    });
                    plan = Some(defects::Plant::Here);
                } else if plants_defects && defect_rng.random_bool(params.defect_share) {
                    for kind in defect_tally.order(&defect_kinds, &mut defect_rng) {
                        if defects::needs_next_month(kind) && month >= params.end_month {
                            continue;
                        }
                        let mut candidate = record.clone();
                        let Some(plant) = defects::plant(kind, furnisher_id, &mut candidate, last_written.get(&number), &mut defect_rng)
                        else {
                            continue;
                        };
                        *defect_tally.counts.entry(kind).or_default() += 1;
                        match &plant {
                            defects::Plant::Here => planted.push(defects::Planted {
                                evaluator: kind.into(),
                                furnisher: furnisher_id.into(),
                                account: number.clone(),
                                as_of: candidate.facts.as_of,
                            }),
                            defects::Plant::OnNext | defects::Plant::Skip => {
                                pending.insert(number.clone(), if matches!(plant, defects::Plant::Skip) { "DELIV-GAP-1" } else { kind });
                            }
                            defects::Plant::Extra(next) => planted.push(defects::Planted {
                                evaluator: kind.into(),
                                furnisher: furnisher_id.into(),
                                account: number.clone(),
                                as_of: next.facts.as_of,
                            }),
                        }
                        record = candidate;
                        plan = Some(plant);
                        break;
                    }
                }
                if matches!(plan, Some(defects::Plant::Skip)) {
                    continue;
                }
                // A planted record is written as it is: not broken on purpose, not corrected.
                let valid =
                    files.write(account.furnisher, month, &record, if plan.is_some() { 0.0 } else { params.invalid_share }, &mut rng)?;
                if let Some(defects::Plant::Extra(next)) = &plan {
                    files.write(account.furnisher, month.plus(1), next, 0.0, &mut rng)?;
                }
                if valid {
                    last_written.insert(number.clone(), record.facts.clone());
                    furnishers_reporting.insert(account.furnisher);
                    if account.furnisher == accounts::PAYPLAT && platform_account.as_ref().is_none_or(|(a, _)| number <= *a) {
                        platform_account = Some((number.clone(), record.facts.as_of));
                    }
                }
                // Now and then a furnisher corrects last month's record in this month's file.
                if valid && month < params.end_month && !settled && rng.random_bool(CORRECTION_SHARE) && plan.is_none() {
                    record.facts.balance.0 += 100;
                    files.write(account.furnisher, month.plus(1), &record, 0.0, &mut rng)?;
                }
            }
            accounts.retain(|a| !a.is_done());
        }
        if wrong_name
            && furnishers_reporting.len() >= 3
            && let Some((account, as_of)) = platform_account
        {
            planted.push(defects::Planted {
                evaluator: "IDENT-NAME-1".into(),
                furnisher: FURNISHERS[accounts::PAYPLAT].id.into(),
                account,
                as_of,
            });
        }
        examples.consider(&person, &seen);
        progress(index + 1);
    }
    let mut manifest = files.finish(params, examples.into_list())?;
    manifest.planted = planted;
    if params.market == Market::Cn {
        fs::write(out.join(INSTITUTIONS_FILE), institutions_file(&funded_at_end))?;
        manifest.institutions = Some(INSTITUTIONS_FILE.to_owned());
    }
    let text = serde_json::to_string_pretty(&manifest).map_err(io::Error::other)?;
    fs::write(out.join(MANIFEST_FILE), text)?;
    Ok(manifest)
}

/// A record of the US market: dollars, no co-funding, microloans and pay-later as the
/// instalment loans Metro 2 calls them, and no zero "amount paid" (Metro 2 cannot tell it from
/// none).
fn as_american(facts: &mut AccountFacts) {
    facts.currency = Currency::from_code("USD").expect("USD is ISO 4217");
    if matches!(facts.product, Product::Microloan | Product::Bnpl) {
        facts.product = Product::InstallmentLoan;
    }
    facts.funding.clear();
    facts.actual_payment = facts.actual_payment.filter(|a| a.0 > 0);
}

/// Supervisory figures for the market's funders, sized from what each funds of the platform's
/// loans in the last month so that the story holds at any population size: every bank's
/// co-lending with the platform is 12.5 % of its tier-1 capital and 10 % of its loans, but
/// `OVEREXPOSED_BANK`'s is 40 % of its tier-1 capital; the platform holds a capital of 40 % of
/// what it funds itself. Amounts in fen, rounded up to whole ten-thousands of yuan.
fn institutions_file(funded: &BTreeMap<String, u128>) -> String {
    let yuan_10k = |fen: u128| fen.div_ceil(1_000_000).max(1) * 1_000_000;
    let mut text = String::from(
        "# Supervisory figures of the synthetic market's institutions (tier-1 capital and total\n\
         # loans, in fen), as a supervisor has them from the institutions' returns, not from the\n\
         # registry. Written by `credit-registry generate`; see docs/supervision.md.\n",
    );
    for (institution, fen) in funded {
        let (tier1, loans) = match institution.as_str() {
            "payplat" => (yuan_10k(fen * 10 / 4), None),
            OVEREXPOSED_BANK => (yuan_10k(fen * 10 / 4), Some(yuan_10k(fen * 10))),
            _ => (yuan_10k(fen * 8), Some(yuan_10k(fen * 10))),
        };
        text.push_str(&format!("\n[{institution}]\ntier1_capital = {{ CNY = {tier1} }}\n"));
        if let Some(loans) = loans {
            text.push_str(&format!("total_loans = {{ CNY = {loans} }}\n"));
        }
    }
    text
}

/// What one person's written records showed, for picking demo examples.
#[derive(Default)]
struct SubjectSeen {
    lenders_open_at_end: HashSet<usize>,
    charged_off: bool,
    co_funded: bool,
    joint: bool,
    name_variant: bool,
    ever_late: bool,
    records: u32,
}

impl SubjectSeen {
    fn observe(
        &mut self,
        facts: &registry_core::model::AccountFacts,
        furnisher: usize,
        subjects: &[registry_core::model::SubjectDetails],
        person: &Person,
        last_month: bool,
    ) {
        self.records += 1;
        if last_month && facts.status.is_open() {
            self.lenders_open_at_end.insert(furnisher);
        }
        self.charged_off |= facts.status == Status::ChargedOff;
        self.co_funded |= facts.funding.len() > 1;
        self.joint |= subjects.len() > 1;
        self.ever_late |= facts.status.is_delinquent();
        self.name_variant |= subjects[0].family_name.0 != person.family();
    }
}

#[derive(Default)]
struct Examples {
    chosen: Vec<(&'static str, Example)>,
    /// Lenders of the "multi" example, which keeps the person with the most.
    multi_lenders: usize,
}

impl Examples {
    fn consider(&mut self, person: &Person, seen: &SubjectSeen) {
        let make = |why: String| Example {
            id_type: person.id.id_type.to_string(),
            id: person.id.id.0.clone(),
            name: format!("{} {}", person.family(), person.given),
            why,
        };
        let lenders = seen.lenders_open_at_end.len();
        let most_so_far = self.multi_lenders;
        let mut offer = |slot: &'static str, wanted: bool, why: String, better: bool| {
            let existing = self.chosen.iter().position(|(s, _)| *s == slot);
            match existing {
                None if wanted => self.chosen.push((slot, make(why))),
                Some(i) if wanted && better => self.chosen[i] = (slot, make(why)),
                _ => {}
            }
        };
        offer("multi", lenders >= 5, format!("open accounts at {lenders} lenders"), lenders > most_so_far);
        offer("clean", !seen.ever_late && seen.records >= 48 && lenders >= 2, "never late, several lenders".into(), false);
        offer("charged_off", seen.charged_off, "a charged-off loan".into(), false);
        offer("co_funded", seen.co_funded, "a microloan co-funded by banks".into(), false);
        offer("joint", seen.joint, "a joint mortgage with a spouse".into(), false);
        offer("variant", seen.name_variant, "furnishers spell the name differently".into(), false);
        if lenders >= 5 {
            self.multi_lenders = self.multi_lenders.max(lenders);
        }
    }

    fn into_list(self) -> Vec<Example> {
        self.chosen.into_iter().map(|(_, e)| e).collect()
    }
}

struct OpenFile {
    path: String,
    furnisher: String,
    month: YearMonth,
    sink: Sink,
    records: u64,
    long_line_written: bool,
}

enum Sink {
    JsonLines(BufWriter<File>),
    Metro2(Box<metro2::Writer<BufWriter<File>>>),
}

/// The output files, opened on first use and closed with their trailers at the end.
struct Files {
    out: PathBuf,
    layout: FileLayout,
    format: FileFormat,
    open: HashMap<(usize, YearMonth), OpenFile>,
    invalid: BTreeMap<String, u64>,
    line: String,
}

impl Files {
    fn new(out: &Path, layout: FileLayout, format: FileFormat) -> Files {
        Files { out: out.to_owned(), layout, format, open: HashMap::new(), invalid: BTreeMap::new(), line: String::new() }
    }

    /// Writes `record`, or with probability `invalid_share` a broken version of it; returns
    /// whether the record was written as it is.
    fn write(
        &mut self,
        furnisher: usize,
        month: YearMonth,
        record: &AccountRecord,
        invalid_share: f64,
        rng: &mut ChaCha8Rng,
    ) -> io::Result<bool> {
        let key = match self.layout {
            FileLayout::PerFurnisher => (furnisher, month),
            FileLayout::Combined => (usize::MAX, month),
        };
        if !self.open.contains_key(&key) {
            let name = match self.layout {
                FileLayout::PerFurnisher => FURNISHERS[furnisher].id,
                FileLayout::Combined => "all",
            };
            fs::create_dir_all(self.out.join(name))?;
            let path = format!("{name}/{name}-{month}.{}", self.format.extension());
            let writer = BufWriter::with_capacity(64 * 1024, File::create(self.out.join(&path))?);
            let sink = match self.format {
                FileFormat::JsonLines => Sink::JsonLines(writer),
                FileFormat::Metro2 => {
                    let cycle_day = if self.layout == FileLayout::PerFurnisher { FURNISHERS[furnisher].cycle_day } else { 31 };
                    let header = metro2_files::header(name, month.day(cycle_day))?;
                    let framing = metro2::Framing { encoding: metro2::Encoding::Character, blocked: false };
                    Sink::Metro2(Box::new(metro2::Writer::new(writer, framing, true, &header)?))
                }
            };
            self.open.insert(key, OpenFile { path, furnisher: name.to_string(), month, sink, records: 0, long_line_written: false });
        }
        let file = self.open.get_mut(&key).expect("opened above");
        let broken = invalid_share > 0.0 && rng.random_bool(invalid_share);
        let writer = match &mut file.sink {
            Sink::Metro2(writer) => {
                let (mut base, mut appended) = metro2_files::segments(record, FURNISHERS[furnisher].id)?;
                if broken {
                    let code = metro2_files::corrupt(&mut base, &mut appended, rng)?;
                    *self.invalid.entry(code.to_string()).or_default() += 1;
                }
                writer.record(&base, &appended)?;
                file.records += 1;
                return Ok(!broken);
            }
            Sink::JsonLines(writer) => writer,
        };
        self.line.clear();
        serde_json::to_writer(string_writer(&mut self.line), record).map_err(io::Error::other)?;
        if broken {
            let (code, lines) = corrupt::corrupt(&self.line, !file.long_line_written, rng);
            file.long_line_written |= code == "line_too_long";
            *self.invalid.entry(code.to_string()).or_default() += 1;
            for line in lines {
                writer.write_all(line.as_bytes())?;
                writer.write_all(b"\n")?;
                file.records += 1;
            }
            Ok(false)
        } else {
            writer.write_all(self.line.as_bytes())?;
            writer.write_all(b"\n")?;
            file.records += 1;
            Ok(true)
        }
    }

    fn finish(self, params: &Params, examples: Vec<Example>) -> io::Result<Manifest> {
        let mut files = Vec::new();
        let mut records = 0;
        for (_, file) in self.open {
            match file.sink {
                Sink::JsonLines(mut writer) => {
                    writeln!(writer, "{{\"trailer\":{{\"records\":{}}}}}", file.records)?;
                    writer.flush()?;
                }
                Sink::Metro2(writer) => {
                    writer.finish()?.flush()?;
                }
            }
            records += file.records;
            files.push(ManifestFile { furnisher: file.furnisher, month: file.month.to_string(), path: file.path, records: file.records });
        }
        // Ingest order: month by month, so a correction sent later is applied later.
        files.sort_by(|a, b| a.month.cmp(&b.month).then_with(|| a.furnisher.cmp(&b.furnisher)));
        Ok(Manifest {
            seed: params.seed,
            subjects: params.subjects,
            first_month: params.first_month().to_string(),
            end_month: params.end_month.to_string(),
            invalid_share: params.invalid_share,
            records,
            invalid_records: self.invalid,
            files,
            examples,
            planted: Vec::new(),
            institutions: None,
        })
    }
}

/// Lets serde_json write straight into a reused `String` buffer.
fn string_writer(line: &mut String) -> impl Write + '_ {
    struct StringWriter<'a>(&'a mut String);
    impl Write for StringWriter<'_> {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            // serde_json only ever writes valid UTF-8.
            let text = std::str::from_utf8(bytes).map_err(io::Error::other)?;
            self.0.push_str(text);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    StringWriter(line)
}
