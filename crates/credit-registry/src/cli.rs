//! The command line, as clap types. Every flag says what it does in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use registry_core::model::{Currency, Date, FurnisherId, IdType};
use registry_core::report::YearMonth;
use registry_core::supervision::{BorrowerList, Section};

#[derive(Debug, Parser)]
#[command(
    name = "credit-registry",
    version,
    about = "A consumer credit registry: furnishers submit account data, lenders and consumers read consolidated credit reports.",
    long_about = "A consumer credit registry: furnishers submit account data each cycle (JSON Lines, see \
                  shared/spec/furnishing.md, or Metro 2), the registry validates it, matches identities and keeps full \
                  history, and builds consolidated credit reports.\n\n\
                  Data lives in an embedded store under --data-dir; keys for protecting identifiers are \
                  generated there on first use unless configured.\n\n\
                  Exit status: 0 success (also when some records were rejected), 2 when an input file was \
                  rejected whole or the subject was not found, 64 for a usage error, 1 for anything else.",
    after_help = "Start with `credit-registry demo`.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory of the registry: database, keys, file archive, optional config.toml
    /// [default: ./registry-data]
    #[arg(long, global = true, env = "CREDIT_REGISTRY_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep the registry in the PostgreSQL database at this URL (postgres://USER@HOST:PORT/DB)
    /// instead of the embedded store; the data directory then holds only the file archive, and
    /// the keys must be configured (see `registry-keys`)
    #[arg(long, global = true, env = "CREDIT_REGISTRY_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Configuration file (TOML, see docs/configuration.md) [default: DIR/config.toml when it exists]
    #[arg(long, global = true, env = "CREDIT_REGISTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log more to stderr (-v: info, -vv: debug); CREDIT_REGISTRY_LOG takes a full filter
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic population, ingest it, serve the API and print what to try
    Demo(DemoArgs),
    /// Write a synthetic population as furnishing files, one per furnisher and month
    Generate(GenerateArgs),
    /// Ingest furnishing files (JSON Lines or Metro 2), each as one submission of the furnisher
    Ingest(IngestArgs),
    /// Write what the registry holds for a furnisher and monthly cycle as a furnishing file
    Export(ExportArgs),
    /// Metro 2 tools: check a file without ingesting it
    #[command(subcommand)]
    Metro2(Metro2Command),
    /// Print one subject's credit report
    Report(ReportArgs),
    /// Serve the HTTP API
    Serve(ServeArgs),
    /// Show a stored submission's result and every rejection
    Submission(SubmissionArgs),
    /// Show every stored version of an account's records, corrections included
    History(HistoryArgs),
    /// List, extract or purge archived submission files
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// Bring the database schema to this build's version (every command also does this on
    /// start-up; safe to run twice, or on two servers at once)
    Migrate(MigrateArgs),
    /// Rewrite the stored records so that each account's months sit side by side (after bulk
    /// loads, before batch scoring; PostgreSQL: CLUSTER). Submissions wait while it runs;
    /// reports go on. Nothing changes but where rows lie
    Compact(MigrateArgs),
    /// Print a new pair of registry keys (identifier hashing, data encryption) for config.toml:
    /// a PostgreSQL registry takes its keys from configuration, the same on every server
    RegistryKeys(RegistryKeysArgs),
    /// Copy an embedded registry into an empty PostgreSQL database, in one transaction, keys
    /// unchanged; prints the keys the PostgreSQL servers must be configured with
    Copy(CopyArgs),
    /// Create, list and revoke the API keys callers send as `Authorization: Bearer KEY`
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check the access log: every read of personal data, in a signed Merkle tree
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Apply the jurisdiction's retention of negative information (`serve` does it daily)
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Explainable credit scores: train a points scorecard, evaluate it
    #[command(subcommand)]
    Score(ScoreCommand),
    /// The supervisor's view of the whole market in a month: who lends what and how
    /// concentrated (market), who really funds the loans (co_lending), who borrows from many
    /// lenders (borrowers), where delinquency rises (credit_risk). Aggregates name no person;
    /// `--list` names people, each an audited read. docs/supervision.md explains every measure
    Supervise(SuperviseArgs),
    /// Data quality: evaluate stored records with the published evaluators (plausibility checks
    /// validation cannot make: re-aging, revived charge-offs, skipped delinquency …) and list
    /// the findings; `scorecard` per furnisher, `evaluators` the catalogue. docs/data-quality.md
    Quality(QualityArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScoreCommand {
    /// Fit a scorecard (one points table per attribute) to a labelled CSV file or to the
    /// registry's own history: both a boosted additive model and a weight-of-evidence logistic
    /// regression are fitted over the same bins, and the more accurate out of sample is kept.
    /// Writes MODEL.json and its model card beside it (MODEL.card.md)
    Train {
        /// CSV with a header; every column but the target and the ignored ones is an attribute
        #[arg(long, value_name = "FILE.csv", required_unless_present = "from_registry", conflicts_with = "from_registry")]
        data: Option<PathBuf>,
        /// The label column: 1 = bad (the event to predict), 0 = good
        #[arg(long, value_name = "COLUMN", required_unless_present = "from_registry", conflicts_with = "from_registry")]
        target: Option<String>,
        /// Columns to leave out (row identifiers, attributes the law forbids), comma-separated
        #[arg(long, value_name = "COL,…", value_delimiter = ',')]
        ignore: Vec<String>,
        /// Attributes whose risk may only rise (`COL:increasing`) or fall (`COL:decreasing`) with
        /// their value, comma-separated (registry attributes have theirs from the catalogue)
        #[arg(long, value_name = "COL:DIRECTION,…", value_delimiter = ',')]
        monotone: Vec<String>,
        /// Build the development sample from the registry: the attribute catalogue as of
        /// --as-of, labelled bad when any account goes 90+ days past due (or worse) within
        /// --horizon-months
        #[arg(long, requires = "as_of")]
        from_registry: bool,
        /// The observation date of --from-registry
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<Date>,
        /// The outcome window of --from-registry, 1 to 24 months
        #[arg(long, value_name = "MONTHS", default_value_t = 12)]
        horizon_months: u32,
        /// Also write the development sample of --from-registry as CSV (attributes and `bad`),
        /// to evaluate or compare with other tools
        #[arg(long, value_name = "FILE.csv", requires = "from_registry")]
        sample_out: Option<PathBuf>,
        /// Compare the two fits by K-fold cross-validation and print each fold [default: one
        /// 80/20 split]
        #[arg(long, value_name = "K")]
        folds: Option<usize>,
        /// The model's id, shown with every score [default: from the data or the date]
        #[arg(long, value_name = "ID")]
        model_id: Option<String>,
        /// Where to write the model (JSON)
        #[arg(long, value_name = "MODEL.json")]
        out: PathBuf,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Score a labelled CSV file with a model: AUC, Gini, KS, bad rates by score band and the
    /// calibration table (predicted against observed bad rates, by tenth of the population)
    Evaluate {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        #[arg(long, value_name = "COLUMN")]
        target: String,
        /// Width of the score bands, in points
        #[arg(long, value_name = "POINTS", default_value_t = 50)]
        band_width: i64,
        /// Print {"auc", "gini", "ks", "rows", "bands", "calibration"} as JSON
        #[arg(long)]
        json: bool,
    },
    /// The population stability index between two samples' scores: each file's `score` column
    /// (two `score batch` outputs, say) or, with --model, the scores of its attribute columns
    Stability {
        /// The reference sample (the development sample, last quarter's scores)
        #[arg(long, value_name = "FILE.csv")]
        expected: PathBuf,
        /// The sample to compare with it
        #[arg(long, value_name = "FILE.csv")]
        actual: PathBuf,
        /// Score the files' attribute columns with this model instead of reading `score`
        #[arg(long, value_name = "MODEL.json")]
        model: Option<PathBuf>,
        /// Width of the score bands, in points
        #[arg(long, value_name = "POINTS", default_value_t = 50)]
        band_width: i64,
        #[arg(long)]
        json: bool,
    },
    /// Score every subject in the registry with the model in force (configuration
    /// `score_model`, or the shipped model) and write one CSV row per subject
    Batch {
        /// The date to score as of [default: today, UTC]
        #[arg(long, value_name = "DATE", value_parser = parse_date)]
        as_of: Option<Date>,
        /// Write here [default: standard output]
        #[arg(long, value_name = "FILE.csv")]
        out: Option<PathBuf>,
        /// Also write every catalogue attribute (a sample for `score stability --model` or for
        /// training elsewhere)
        #[arg(long)]
        attributes: bool,
        /// Print a summary as JSON on standard output (needs --out)
        #[arg(long, requires = "out")]
        json: bool,
    },
    /// Print a model's card (Markdown): data, period, performance, points tables, exclusions
    Card {
        #[arg(long, value_name = "MODEL.json")]
        model: PathBuf,
    },
    /// Print the attribute catalogue: name, reason code, monotonicity, definition
    Attributes,
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Delete every account whose negative information is past retention today, each deletion
    /// recorded in the access log
    Run {
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once (it is stored only as a hash)
    Create {
        /// operator, furnisher, lender, consumer or supervisor
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Who holds it; a furnisher key's name is its furnisher id, a lender's its lender name
        #[arg(long, value_name = "NAME")]
        name: String,
        /// A consumer key's subject, as ID_TYPE:ID (for example cn_rid:11010519491231002X)
        #[arg(long, value_name = "ID_TYPE:ID")]
        subject: Option<String>,
        /// Print {"key": …, "key_id": …, …} as JSON
        #[arg(long)]
        json: bool,
    },
    /// List every key (never the secret), revoked ones too
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key: its next request is refused
    Revoke {
        /// The key id, as listed (the 16 hex digits after `crk_`)
        #[arg(value_name = "KEY_ID")]
        key_id: String,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the access log's Merkle tree from storage and check every signed head; exits
    /// 2 naming the first entry that was altered, removed or reordered
    Verify {
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the latest signed tree head and the public key that verifies it
    Head,
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Data directory of the embedded registry to copy (its keys.toml, or the configured keys)
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// URL of the empty PostgreSQL database to copy into (postgres://USER@HOST:PORT/DB)
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Print the outcome (rows copied and the keys) as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RegistryKeysArgs {
    /// Print the keys as one JSON object instead of TOML lines
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PopulationArgs {
    /// Number of people in the population
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=50_000_000))]
    pub subjects: u32,

    /// Seed: the same seed and parameters give byte-identical files
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Monthly cycles to write
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=240))]
    pub months: u32,

    /// Month of the last cycle, YYYY-MM [default: the month before today]
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub end_month: Option<YearMonth>,

    /// Months simulated before the first written cycle, so histories start mature
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(0..=240))]
    pub warmup_months: u32,

    /// Share of records deliberately broken (0 to 1), covering every furnishing rule
    #[arg(long, default_value_t = 0.01, value_parser = parse_share)]
    pub invalid_share: f64,

    /// Share of records (Chinese market) given a data-quality defect that passes validation but
    /// an evaluator should flag (0 to 1), every evaluator's kind; listed in the manifest
    #[arg(long, default_value_t = 0.002, value_parser = parse_share)]
    pub defect_share: f64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub population: PopulationArgs,

    /// Address to serve the API on; if taken, a free port is used instead
    /// [default: 127.0.0.1:8080, or `listen` in the configuration]
    #[arg(long, value_name = "ADDR", env = "CREDIT_REGISTRY_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Stop after ingesting, without serving
    #[arg(long)]
    pub no_serve: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// JSON Lines furnishing files (shared/spec/furnishing.md)
    Jsonl,
    /// Metro 2 character files, one record per line (docs/metro2.md)
    Metro2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormat {
    /// Tell from the content: `{` starts JSON Lines, a record descriptor word Metro 2
    Auto,
    /// JSON Lines (shared/spec/furnishing.md)
    Jsonl,
    /// Metro 2: character (with or without block descriptor words) or packed
    Metro2,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Layout {
    /// One file per furnisher and month
    PerFurnisher,
    /// One file per month with every furnisher's records (for benchmarks)
    Combined,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub population: PopulationArgs,

    /// Directory to write into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// File format. Metro 2 writes a US market (SSN-identified people, USD, no co-funding,
    /// no microloans or pay-later) that JSON Lines also writes with `--market us`
    #[arg(long, value_enum, default_value_t = OutputFormat::Jsonl)]
    pub format: OutputFormat,

    /// Market simulated: `cn` (resident identity numbers, CNY, co-funded microloans) or `us`
    /// (what Metro 2 can express) [default: cn for JSON Lines, us for Metro 2]
    #[arg(long, value_enum)]
    pub market: Option<Market>,

    /// How records are split into files
    #[arg(long, value_enum, default_value_t = Layout::PerFurnisher)]
    pub layout: Layout,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The sending furnisher (1-64 letters, digits, '.', '_', '-'); records are its accounts
    #[arg(long, value_name = "ID")]
    pub furnisher: FurnisherId,

    /// Furnishing files; `-` reads standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print one JSON document ({"files": [...]}) on stdout instead of text
    #[arg(long)]
    pub json: bool,

    /// Format of the files
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub format: InputFormat,

    /// Metro 2: read line by line as the CFPB's evaluator does (record lengths and trailer
    /// ignored, a line that is no record rejected and skipped) instead of trusting record
    /// lengths and reconciling header and trailer
    #[arg(long)]
    pub lenient: bool,

    /// Metro 2: currency of the files' whole-unit amounts (ISO 4217)
    #[arg(long, value_name = "CODE", default_value = "USD", value_parser = parse_currency)]
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Market {
    /// Chinese: resident identity numbers, CNY, co-funded microloans and pay-later
    Cn,
    /// US: social security numbers, USD, what Metro 2 can express
    Us,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// JSON Lines (shared/spec/furnishing.md)
    Jsonl,
    /// Metro 2 character file, one record per line; the trailer is computed
    Metro2,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The furnisher whose records to write
    #[arg(long, value_name = "ID")]
    pub furnisher: FurnisherId,

    /// A date in the cycle: every record dated in its calendar month is written (the file's
    /// activity date, in Metro 2)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Date,

    /// File format
    #[arg(long, value_enum, default_value_t = ExportFormat::Metro2)]
    pub format: ExportFormat,

    /// Write here (replaced only once the whole file is written) [default: standard output]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Metro 2: Identification Number for records that came without one (at most 20
    /// characters) [default: the furnisher id]
    #[arg(long, value_name = "TEXT")]
    pub identification_number: Option<String>,

    /// Print what was written as one JSON document (needs --out: the file is not on stdout)
    #[arg(long, requires = "out")]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Metro2Command {
    /// Check a Metro 2 file without ingesting it and list every problem: record number, byte
    /// offset, segment, field, value and rule. Exit 0 when valid, 2 when not
    Validate(Metro2ValidateArgs),
}

#[derive(Debug, Args)]
pub struct Metro2ValidateArgs {
    /// The file; `-` reads standard input
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Print one JSON document (summary and every problem) instead of text
    #[arg(long)]
    pub json: bool,

    /// Read line by line as the CFPB's evaluator does (record lengths and trailer ignored)
    #[arg(long)]
    pub lenient: bool,

    /// Threads checking records [default: the machine's cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["id", "registry_id"])))]
pub struct ReportArgs {
    /// Kind of national identifier
    #[arg(long, value_name = "TYPE", value_parser = parse_id_type, requires = "id")]
    pub id_type: Option<IdType>,

    /// The national identifier
    #[arg(long, value_name = "ID", requires = "id_type")]
    pub id: Option<String>,

    /// The registry's own id of the subject (S…, as shown in reports)
    #[arg(long, value_name = "S…", conflicts_with_all = ["id", "id_type"])]
    pub registry_id: Option<String>,

    /// Report date YYYY-MM-DD: only records on or before it count [default: today, UTC]
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,

    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080, or `listen` in the configuration]
    #[arg(long, value_name = "ADDR", env = "CREDIT_REGISTRY_LISTEN")]
    pub listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct SubmissionArgs {
    /// The furnisher that sent it
    #[arg(long, value_name = "ID")]
    pub furnisher: FurnisherId,

    /// The submission id printed at ingest (sub_…)
    #[arg(value_name = "SUBMISSION")]
    pub submission_id: String,

    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The furnisher of the account
    #[arg(long, value_name = "ID")]
    pub furnisher: FurnisherId,

    /// The furnisher's account number
    #[arg(long, value_name = "ACCOUNT")]
    pub account: String,

    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QualityArgs {
    #[command(subcommand)]
    pub command: Option<QualityCommand>,
    #[command(flatten)]
    pub run: QualityRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Per furnisher: hits per 10,000 records by evaluator and month, with the trend, from the
    /// stored findings (furnishers ranked by high-severity hits when none is named)
    Scorecard {
        /// Only this furnisher's
        #[arg(long, value_name = "ID")]
        furnisher: Option<FurnisherId>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// The catalogue of evaluators: id, category, what hits, why it matters, the harm, the
    /// innocent explanation, fields, severity, source
    Evaluators {
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// Print the catalogue as the Markdown of docs/data-quality.md
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
    },
}

/// `quality` without a subcommand: evaluate the store (or a furnisher's, or a month's records)
/// again, keep what it finds, and list it.
#[derive(Debug, Args)]
pub struct QualityRunArgs {
    /// Only this furnisher's records
    #[arg(long, value_name = "ID")]
    pub furnisher: Option<FurnisherId>,
    /// Only records dated in this month
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: Option<YearMonth>,
    /// List the stored findings without evaluating again
    #[arg(long)]
    pub stored: bool,
    /// Findings to list (the JSON's page); 0 lists only the counts
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub limit: u64,
    /// Findings to skip before the page
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u64,
    /// Print the findings document as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// The reference month: accounts as their latest record on or before its last day shows
    /// them, if that record is from this month or the two before
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: YearMonth,

    /// Only these sections (market, co_lending, borrowers, credit_risk), comma-separated
    /// [default: all four]
    #[arg(long, value_name = "SECTION,…", value_delimiter = ',', value_parser = parse_section)]
    pub section: Vec<Section>,

    /// Instead of the measures, the people on a drill-down list: over_microloan_cap (open
    /// microloans above the cap) or stacking (accounts opened at two or more lenders in the
    /// month's last 30 days). Each person listed is a read recorded in the access log
    #[arg(long, value_name = "LIST", value_parser = parse_list, conflicts_with_all = ["section", "csv"])]
    pub list: Option<BorrowerList>,

    /// Print the document as JSON (shared/spec/supervision.md)
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,

    /// Also write one CSV file per table into DIR (created if missing), for spreadsheets
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// List archived files (content hash, size, when archived)
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Write an archived file, decrypted, to a path: a read of personal data, recorded in the
    /// access log before the file is written, owner-only (0600)
    Get {
        /// Content hash (SHA-256, hex) as listed
        #[arg(value_name = "SHA256")]
        content_sha256: String,
        /// Where to write the file
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Delete archived files older than the retention period now
    Purge,
}

fn parse_date(text: &str) -> Result<Date, String> {
    registry_core::furnishing::parse_date(text).ok_or_else(|| format!("{text:?} is not a date YYYY-MM-DD"))
}

fn parse_month(text: &str) -> Result<YearMonth, String> {
    YearMonth::parse(text)
        .filter(|m| (1950..=2999).contains(&m.year()))
        .ok_or_else(|| format!("{text:?} is not a month YYYY-MM between 1950 and 2999"))
}

fn parse_section(text: &str) -> Result<Section, String> {
    text.parse().map_err(|()| {
        let allowed: Vec<&str> = Section::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not a section ({})", allowed.join(", "))
    })
}

fn parse_list(text: &str) -> Result<BorrowerList, String> {
    text.parse().map_err(|()| {
        let allowed: Vec<&str> = BorrowerList::ALL.iter().map(|s| s.as_str()).collect();
        format!("{text:?} is not a list ({})", allowed.join(", "))
    })
}

fn parse_id_type(text: &str) -> Result<IdType, String> {
    text.parse().map_err(|()| {
        let allowed: Vec<&str> = IdType::ALL.iter().map(|t| t.as_str()).collect();
        format!("{text:?} is not an identifier type; one of {}", allowed.join(", "))
    })
}

fn parse_currency(text: &str) -> Result<Currency, String> {
    Currency::from_code(text).ok_or_else(|| format!("{text:?} is not an ISO 4217 currency code"))
}

fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("{text:?} is not a share from 0 to 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
