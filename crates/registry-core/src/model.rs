//! The registry's domain model: what one furnished account record says, as types.
//!
//! Owns the closed code lists of the furnishing spec (products, statuses, roles, identifier
//! types, ratings) and their classifications. Parsing from JSON lives in `furnishing`; storage
//! in `registry-store`.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A calendar date (no time zone): furnishing dates are dates of account information.
pub type Date = chrono::NaiveDate;

/// A moment as the registry writes it: UTC, to the second, RFC 3339 (`2026-12-06T02:35:12Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(chrono::DateTime<chrono::Utc>);

impl Timestamp {
    /// `at`, to the second.
    pub fn new(at: chrono::DateTime<chrono::Utc>) -> Timestamp {
        use chrono::Timelike;
        Timestamp(at.with_nanosecond(0).unwrap_or(at))
    }

    pub fn date(self) -> Date {
        self.0.date_naive()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    /// Any RFC 3339 time, kept to the second in UTC.
    fn from_str(text: &str) -> Result<Timestamp, chrono::ParseError> {
        Ok(Timestamp::new(chrono::DateTime::parse_from_rfc3339(text)?.with_timezone(&chrono::Utc)))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Personal data (names, identifiers, birth dates, contact details). `Debug` never shows the
/// value, so a stray `{:?}` in a log line or error cannot leak it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Pii<T>(pub T);

impl<T> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> Deref for Pii<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// The largest amount the furnishing spec allows, in minor units.
pub const AMOUNT_MAX_MINOR: u64 = 1_000_000_000_000_000;

/// A non-negative amount in the minor unit of its record's currency (fen, cents).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct AmountMinor(pub u64);

/// An ISO 4217 currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub fn from_code(code: &str) -> Option<Currency> {
        iso_currency::Currency::from_code(code).map(Currency)
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the minor unit (2 for CNY and USD, 0 for JPY); `None` for
    /// codes without one (gold, SDR).
    pub fn exponent(self) -> Option<u16> {
        self.0.exponent()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown currency {code:?}")))
    }
}

code_list! {
    /// Kind of credit (furnishing spec, `product`).
    Product {
        CreditCard = "credit_card",
        RevolvingLine = "revolving_line",
        Microloan = "microloan",
        InstallmentLoan = "installment_loan",
        Bnpl = "bnpl",
        AutoLoan = "auto_loan",
        StudentLoan = "student_loan",
        Mortgage = "mortgage",
        Other = "other",
    }
}

/// Metro 2 portfolio type of a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Portfolio {
    Revolving,
    Installment,
    Mortgage,
    Open,
}

impl Product {
    pub fn portfolio(self) -> Portfolio {
        match self {
            Product::CreditCard | Product::RevolvingLine => Portfolio::Revolving,
            Product::Microloan | Product::InstallmentLoan | Product::Bnpl | Product::AutoLoan | Product::StudentLoan => {
                Portfolio::Installment
            }
            Product::Mortgage => Portfolio::Mortgage,
            Product::Other => Portfolio::Open,
        }
    }

    pub fn is_revolving(self) -> bool {
        self.portfolio() == Portfolio::Revolving
    }

    /// Installment products and mortgages carry an original amount and a term.
    pub fn is_amortising(self) -> bool {
        matches!(self.portfolio(), Portfolio::Installment | Portfolio::Mortgage)
    }
}

code_list! {
    /// Account status as of the record's date (furnishing spec, `status`).
    Status {
        Current = "current",
        Dpd30 = "dpd30",
        Dpd60 = "dpd60",
        Dpd90 = "dpd90",
        Dpd120 = "dpd120",
        Dpd150 = "dpd150",
        Dpd180 = "dpd180",
        Paid = "paid",
        PaidWasSurrender = "paid_was_surrender",
        PaidWasCollection = "paid_was_collection",
        PaidWasRepossession = "paid_was_repossession",
        PaidWasChargedOff = "paid_was_charged_off",
        PaidWasForeclosure = "paid_was_foreclosure",
        GovernmentClaim = "government_claim",
        DeedInLieu = "deed_in_lieu",
        Collection = "collection",
        Foreclosure = "foreclosure",
        VoluntarySurrender = "voluntary_surrender",
        Repossession = "repossession",
        ChargedOff = "charged_off",
        Transferred = "transferred",
        Delete = "delete",
    }
}

/// The class column of the furnishing spec's status table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    /// `current`.
    OpenGood,
    /// `dpd30` … `dpd180`.
    OpenDelinquent,
    /// `paid`.
    ClosedGood,
    /// `paid_was_*`, `government_claim`, `deed_in_lieu`, `collection`, `foreclosure`,
    /// `voluntary_surrender`, `repossession`, `charged_off`.
    Derogatory,
    /// `transferred`.
    ClosedNeutral,
    /// `delete`: a correction that removes the account.
    Delete,
}

impl Status {
    pub fn class(self) -> StatusClass {
        use Status::*;
        match self {
            Current => StatusClass::OpenGood,
            Dpd30 | Dpd60 | Dpd90 | Dpd120 | Dpd150 | Dpd180 => StatusClass::OpenDelinquent,
            Paid => StatusClass::ClosedGood,
            PaidWasSurrender | PaidWasCollection | PaidWasRepossession | PaidWasChargedOff | PaidWasForeclosure | GovernmentClaim
            | DeedInLieu | Collection | Foreclosure | VoluntarySurrender | Repossession | ChargedOff => StatusClass::Derogatory,
            Transferred => StatusClass::ClosedNeutral,
            Delete => StatusClass::Delete,
        }
    }

    /// The payment rating this status gives its record's month, if any.
    pub fn rating(self) -> Option<Rating> {
        use Status::*;
        Some(match self {
            Current => Rating::Current,
            Dpd30 => Rating::Late30,
            Dpd60 => Rating::Late60,
            Dpd90 => Rating::Late90,
            Dpd120 => Rating::Late120,
            Dpd150 => Rating::Late150,
            Dpd180 => Rating::Late180,
            Collection => Rating::Collection,
            Foreclosure => Rating::Foreclosure,
            VoluntarySurrender => Rating::VoluntarySurrender,
            Repossession => Rating::Repossession,
            ChargedOff => Rating::ChargedOff,
            _ => return None,
        })
    }

    /// `current` or `dpd*`: the statuses of an account still running.
    pub fn is_open(self) -> bool {
        matches!(self.class(), StatusClass::OpenGood | StatusClass::OpenDelinquent)
    }

    pub fn is_delinquent(self) -> bool {
        self.class() == StatusClass::OpenDelinquent
    }

    pub fn is_derogatory(self) -> bool {
        self.class() == StatusClass::Derogatory
    }

    /// Statuses of an account paid or transferred: nothing is owed any more.
    pub fn requires_zero_balance(self) -> bool {
        use Status::*;
        matches!(
            self,
            Paid | PaidWasSurrender | PaidWasCollection | PaidWasRepossession | PaidWasChargedOff | PaidWasForeclosure | Transferred
        )
    }
}

/// One month's payment rating (Metro 2 payment history profile character).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rating {
    Current,
    Late30,
    Late60,
    Late90,
    Late120,
    Late150,
    Late180,
    /// `B`: no payment history available before this month.
    NoHistoryBefore,
    /// `D`: no payment history available this month.
    NoHistory,
    /// `E`: zero balance and current.
    ZeroBalance,
    Collection,
    Foreclosure,
    VoluntarySurrender,
    Repossession,
    ChargedOff,
}

/// How late a rated month was, for the report's late counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lateness {
    None,
    Days30,
    Days60,
    Days90Plus,
}

impl Rating {
    /// Characters allowed in `payment_history`.
    pub const CHARACTERS: &'static str = "0123456BDEGHJKL";

    pub fn from_char(c: u8) -> Option<Rating> {
        use Rating::*;
        Some(match c {
            b'0' => Current,
            b'1' => Late30,
            b'2' => Late60,
            b'3' => Late90,
            b'4' => Late120,
            b'5' => Late150,
            b'6' => Late180,
            b'B' => NoHistoryBefore,
            b'D' => NoHistory,
            b'E' => ZeroBalance,
            b'G' => Collection,
            b'H' => Foreclosure,
            b'J' => VoluntarySurrender,
            b'K' => Repossession,
            b'L' => ChargedOff,
            _ => return None,
        })
    }

    pub fn as_char(self) -> char {
        use Rating::*;
        match self {
            Current => '0',
            Late30 => '1',
            Late60 => '2',
            Late90 => '3',
            Late120 => '4',
            Late150 => '5',
            Late180 => '6',
            NoHistoryBefore => 'B',
            NoHistory => 'D',
            ZeroBalance => 'E',
            Collection => 'G',
            Foreclosure => 'H',
            VoluntarySurrender => 'J',
            Repossession => 'K',
            ChargedOff => 'L',
        }
    }

    pub fn lateness(self) -> Lateness {
        use Rating::*;
        match self {
            Current | NoHistoryBefore | NoHistory | ZeroBalance => Lateness::None,
            Late30 => Lateness::Days30,
            Late60 => Lateness::Days60,
            Late90 | Late120 | Late150 | Late180 | Collection | Foreclosure | VoluntarySurrender | Repossession | ChargedOff => {
                Lateness::Days90Plus
            }
        }
    }
}

impl Serialize for Rating {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_char(self.as_char())
    }
}

code_list! {
    /// Compliance condition (Metro 2 XB/XC/XH).
    Dispute {
        None = "none",
        Disputed = "disputed",
        ResolvedConsumerDisagrees = "resolved_consumer_disagrees",
        Resolved = "resolved",
    }
}

// `code_list!` declares the enum and takes no `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for Dispute {
    fn default() -> Self {
        Dispute::None
    }
}

code_list! {
    /// A subject's relation to an account (Metro 2 ECOA code).
    Role {
        Primary = "primary",
        Joint = "joint",
        Cosigner = "cosigner",
        AuthorizedUser = "authorized_user",
        Terminated = "terminated",
        Deceased = "deceased",
    }
}

code_list! {
    /// Kind of national identifier.
    IdType {
        CnRid = "cn_rid",
        Ssn = "ssn",
        NlBsn = "nl_bsn",
        Other = "other",
    }
}

/// A national identifier, already validated for its type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NationalId {
    pub id_type: IdType,
    pub id: Pii<String>,
}

/// A postal address as the furnisher holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// What a furnisher says about one person on one account record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectDetails {
    pub role: Role,
    #[serde(flatten)]
    pub id: NationalId,
    pub family_name: Pii<String>,
    pub given_name: Pii<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Pii<Date>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Pii<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Pii<Address>>,
}

/// The identifying part of a subject's details, without role and identifier: what the registry
/// keeps (encrypted) as one "identity as reported" of a subject.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReportedIdentity {
    pub family_name: Pii<String>,
    pub given_name: Pii<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<Pii<Date>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Pii<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Pii<Address>>,
}

impl SubjectDetails {
    /// Whether this subject is reported exactly as `identity` (cheaper than building one).
    pub fn same_identity(&self, identity: &ReportedIdentity) -> bool {
        self.family_name == identity.family_name
            && self.given_name == identity.given_name
            && self.birth_date == identity.birth_date
            && self.phone == identity.phone
            && self.address == identity.address
    }

    pub fn reported_identity(&self) -> ReportedIdentity {
        ReportedIdentity {
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            birth_date: self.birth_date.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
        }
    }
}

/// One funder's share of a co-lent loan's principal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundingShare {
    pub institution: String,
    pub share_bp: u16,
}

/// Everything a record says about the account itself, without the people on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFacts {
    pub account: String,
    pub as_of: Date,
    pub product: Product,
    pub opened: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Date>,
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<AmountMinor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_amount: Option<AmountMinor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_months: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_payment: Option<AmountMinor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_payment: Option<AmountMinor>,
    pub balance: AmountMinor,
    pub past_due: AmountMinor,
    pub status: Status,
    /// Ratings of the 24 months before `as_of`, most recent first; only `Rating::CHARACTERS`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub payment_history: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_delinquency: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_payment: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_comment: Option<String>,
    #[serde(default, skip_serializing_if = "is_no_dispute")]
    pub dispute: Dispute,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funding: Vec<FundingShare>,
    /// The furnisher's own reporting identifier as a Metro 2 file gave it (Identification
    /// Number, field 5), kept as given; JSON Lines records have none (the sender is the furnisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_id: Option<String>,
}

// serde's `skip_serializing_if` hands over a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_no_dispute(dispute: &Dispute) -> bool {
    *dispute == Dispute::None
}

/// One line of a furnishing file, validated: an account as of one date and its subjects.
/// Serialises to exactly the furnishing format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    #[serde(flatten)]
    pub facts: AccountFacts,
    pub subjects: Vec<SubjectDetails>,
}

/// Registry-side name of a furnisher (the authenticated sender; `--furnisher` on the CLI) or of
/// a funding institution: 1–64 ASCII letters, digits, `.`, `_` or `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FurnisherId(String);

/// Why a furnisher id was refused.
#[derive(Debug, thiserror::Error)]
#[error("a furnisher id is 1 to 64 ASCII letters, digits, '.', '_' or '-'")]
pub struct InvalidFurnisherId;

impl FurnisherId {
    pub fn parse(text: &str) -> Result<FurnisherId, InvalidFurnisherId> {
        if is_institution_id(text) { Ok(FurnisherId(text.to_owned())) } else { Err(InvalidFurnisherId) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FurnisherId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FurnisherId {
    type Err = InvalidFurnisherId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FurnisherId::parse(s)
    }
}

/// The shape shared by furnisher ids and funding institution ids.
pub fn is_institution_id(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The last day of the month of `date`.
pub fn month_end(date: Date) -> Date {
    use chrono::Datelike;
    let first = Date::from_ymd_opt(date.year(), date.month(), 1).expect("day 1 exists");
    let next = first.checked_add_months(chrono::Months::new(1)).expect("dates in range");
    next.pred_opt().expect("a month has a last day")
}

/// Months from `earlier`'s month to `later`'s month (0 for the same month).
pub fn months_between(earlier: Date, later: Date) -> i32 {
    use chrono::Datelike;
    (later.year() - earlier.year()) * 12 + later.month() as i32 - earlier.month() as i32
}

/// Whole years of age on `on` for someone born on `birth`.
pub fn age_years(birth: Date, on: Date) -> i32 {
    // Born after `on`: not yet alive, which every age rule rejects.
    on.years_since(birth).map_or(-1, |years| years as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn every_status_has_a_class_and_ratings_match_the_spec_table() {
        let rated: String = Status::ALL.iter().filter_map(|s| s.rating()).map(Rating::as_char).collect();
        assert_eq!(rated, "0123456GHJKL");
        assert!(Status::PaidWasChargedOff.is_derogatory());
        assert!(!Status::PaidWasChargedOff.is_open());
        assert!(Status::Dpd180.is_open() && Status::Dpd180.is_delinquent());
        assert_eq!(Status::Transferred.class(), StatusClass::ClosedNeutral);
        assert!(Status::Transferred.requires_zero_balance());
        assert!(!Status::ChargedOff.requires_zero_balance());
    }

    #[test]
    fn rating_characters_round_trip() {
        for c in Rating::CHARACTERS.bytes() {
            assert_eq!(Rating::from_char(c).unwrap().as_char() as u8, c);
        }
        assert!(Rating::from_char(b'7').is_none());
        assert!(Rating::from_char(b'Z').is_none());
    }

    #[test]
    fn ages_count_whole_years() {
        assert_eq!(age_years(d("2000-06-15"), d("2014-06-14")), 13);
        assert_eq!(age_years(d("2000-06-15"), d("2014-06-15")), 14);
        assert_eq!(age_years(d("2000-02-29"), d("2001-02-28")), 0);
        assert_eq!(age_years(d("2000-02-29"), d("2001-03-01")), 1);
        assert_eq!(age_years(d("2020-01-01"), d("2019-01-01")), -1);
    }

    #[test]
    fn month_helpers() {
        assert_eq!(month_end(d("2024-02-10")), d("2024-02-29"));
        assert_eq!(month_end(d("2021-12-01")), d("2021-12-31"));
        assert_eq!(months_between(d("2020-11-30"), d("2021-02-01")), 3);
        assert_eq!(months_between(d("2021-02-01"), d("2021-02-28")), 0);
    }

    #[test]
    fn pii_debug_is_redacted() {
        let id = NationalId { id_type: IdType::Ssn, id: Pii("123456789".into()) };
        assert!(!format!("{id:?}").contains("1234"));
    }

    #[test]
    fn furnisher_ids() {
        assert!(FurnisherId::parse("bank-harbor").is_ok());
        assert!(FurnisherId::parse("").is_err());
        assert!(FurnisherId::parse("a b").is_err());
        assert!(FurnisherId::parse(&"x".repeat(65)).is_err());
    }
}
