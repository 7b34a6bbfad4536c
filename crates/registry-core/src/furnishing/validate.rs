//! The field, cross-field and identifier rules of the furnishing spec, applied to one record's
//! draft (a parsed JSON line, or a Metro 2 record read field by field). Every broken rule is
//! reported, not only the first, naming the field where the furnisher wrote it; a record with
//! none becomes an `AccountRecord`.

use std::borrow::Cow;
use std::str::FromStr;

use crate::furnishing::draft::{Draft, Found, Object, Origin};
use crate::furnishing::errors::{RecordError, RecordErrorCode as Code};
use crate::furnishing::json::Json;
use crate::furnishing::path::{Path, Prefix};
use crate::identity::{IdProblem, check_id};
use crate::model::{
    AMOUNT_MAX_MINOR, AccountFacts, AccountRecord, Address, AmountMinor, Currency, Date, Dispute, FundingShare, IdType, NationalId, Pii,
    Product, Rating, Role, Status, SubjectDetails, age_years, is_institution_id,
};

/// What validation needs from outside the record.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// Today's date (UTC): `as_of` may not be later.
    pub today: Date,
}

/// Limits the spec leaves open; documented in docs/furnishing-errors.md.
const ADDRESS_PART_CHARS_MAX: usize = 100;
const PHONE_CHARS_MAX: usize = 32;
const SUBJECTS_MAX: usize = 5;
/// Broken rules listed per record; a line of garbage must not turn into megabytes of errors.
pub const RECORD_ERRORS_MAX: usize = 100;
const TERM_MONTHS_MAX: u64 = 600;
const AGE_YEARS_MIN: i32 = 14;
const AGE_YEARS_MAX: i32 = 120;

/// Validates one record's draft as an account record.
pub fn validate_record(draft: &Draft<'_>, line: u64, rules: &Rules) -> Result<AccountRecord, Vec<RecordError>> {
    let mut check = Check { line, errors: Vec::new(), unlisted: 0, origin: &draft.origin };
    let record = Found::of(&draft.record);
    let Some(fields) = Fields::of(record) else {
        check.fail(Path::root(), Code::NotAnObject, format!("a record is a JSON object, got {}", record.kind()));
        return Err(check.into_errors());
    };
    let facts_and_subjects = check_record(fields, *rules, &mut check);
    match facts_and_subjects {
        Some(record) if check.errors.is_empty() => Ok(record),
        _ => {
            if check.errors.is_empty() {
                // Unreachable by construction: every `None` above records why.
                check.fail(Path::root(), Code::InvalidValue, "record could not be read".into());
            }
            Err(check.into_errors())
        }
    }
}

/// A field of an object: whether its key appeared, and its value unless null.
#[derive(Clone, Copy, Default)]
struct Slot<'r> {
    seen: bool,
    value: Option<Found<'r>>,
}

/// Slots being filled, and where the next field is expected.
struct Spread<'r, const N: usize> {
    slots: [Slot<'r>; N],
    next: usize,
}

/// An object's fields as a reader gave them: a JSON object's entries as written (unknown and
/// repeated keys included), or the fields a Metro 2 record's segments were read into.
#[derive(Clone, Copy)]
enum Fields<'r> {
    Json(&'r [(Cow<'r, str>, Json<'r>)]),
    Read(&'r Object<'r>),
}

impl<'r> Fields<'r> {
    fn of(value: Found<'r>) -> Option<Fields<'r>> {
        match value {
            Found::Json(Json::Object(entries)) => Some(Fields::Json(entries)),
            Found::Object(object) => Some(Fields::Read(object)),
            _ => None,
        }
    }
}

/// The items of a list, as a reader gave them.
#[derive(Clone, Copy)]
enum Items<'r> {
    Json(&'r [Json<'r>]),
    Read(&'r Vec<crate::furnishing::draft::Value<'r>>),
}

impl<'r> Items<'r> {
    fn of(value: Found<'r>) -> Option<Items<'r>> {
        match value {
            Found::Json(Json::Array(items)) => Some(Items::Json(items)),
            Found::List(items) => Some(Items::Read(items)),
            _ => None,
        }
    }

    fn len(self) -> usize {
        match self {
            Items::Json(items) => items.len(),
            Items::Read(items) => items.len(),
        }
    }

    fn get(self, index: usize) -> Found<'r> {
        match self {
            Items::Json(items) => Found::Json(&items[index]),
            Items::Read(items) => Found::of(&items[index]),
        }
    }
}

struct Check<'o> {
    line: u64,
    errors: Vec<RecordError>,
    /// Broken rules past `RECORD_ERRORS_MAX`, counted but not listed.
    unlisted: usize,
    /// Where the fields came from: how errors name them.
    origin: &'o Origin,
}

impl Check<'_> {
    fn fail(&mut self, at: Path<'_>, code: Code, message: String) {
        if self.errors.len() < RECORD_ERRORS_MAX {
            let field = match self.origin {
                Origin::JsonLines => at.to_string(),
                Origin::Metro2 { consumers } => crate::furnishing::metro2::map::locate(at, consumers),
            };
            self.errors.push(RecordError { line: self.line, field, code, message });
        } else {
            self.unlisted += 1;
        }
    }

    /// The errors, with one more saying how many were left out.
    fn into_errors(mut self) -> Vec<RecordError> {
        if self.unlisted > 0 {
            self.errors.push(RecordError {
                line: self.line,
                field: String::new(),
                code: Code::TooManyErrors,
                message: format!("{} more broken rules on this line are not listed", self.unlisted),
            });
        }
        self.errors
    }

    /// Spreads an object's fields into named slots; reports unknown and repeated keys (a
    /// JSON object may have them; fields a reader built have neither).
    fn slots<'r, const N: usize>(&mut self, fields: Fields<'r>, names: &[&str; N], prefix: Prefix) -> [Slot<'r>; N] {
        let mut spread = Spread { slots: [Slot::default(); N], next: 0 };
        match fields {
            Fields::Json(entries) => {
                for (position, (key, value)) in entries.iter().enumerate() {
                    self.spread(&mut spread, names, prefix, position, key, Found::Json(value));
                }
            }
            Fields::Read(object) => {
                for (position, (key, value)) in object.fields.iter().enumerate() {
                    self.spread(&mut spread, names, prefix, position, key, Found::of(value));
                }
            }
        }
        spread.slots
    }

    /// Puts one field (the `position`th of its object) in its slot. Inlined in both loops of
    /// `slots`: a call per field of every record was a tenth of Metro 2 reading (measured with
    /// callgrind, BENCHMARKS.md).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn spread<'r, const N: usize>(
        &mut self,
        spread: &mut Spread<'r, N>,
        names: &[&str; N],
        prefix: Prefix,
        position: usize,
        key: &str,
        value: Found<'r>,
    ) {
        // Furnishers usually write fields in one order: try where the last one was found first.
        let found = match names.get(spread.next) {
            Some(name) if *name == key => Some(spread.next),
            _ => names.iter().position(|name| *name == key),
        };
        if let Some(i) = found {
            spread.next = i + 1;
        }
        match found {
            Some(i) if spread.slots[i].seen => self.fail(
                Path::nested(prefix, key),
                Code::DuplicateField,
                format!("field `{}` appears more than once", Path::nested(prefix, key)),
            ),
            Some(i) => {
                spread.slots[i].seen = true;
                spread.slots[i].value = (!matches!(value, Found::Json(Json::Null))).then_some(value);
            }
            None if prefix.is_personal() => {
                // The key itself may be personal data (a name where a field name belongs).
                self.fail(
                    Path::nested(prefix, ""),
                    Code::UnknownField,
                    format!(
                        "field number {} of `{prefix}` is not one of {}; its name is not repeated here because subject details are personal data",
                        position + 1,
                        names.join(", ")
                    ),
                );
            }
            None => {
                let shown = printable(key);
                let message = match closest(key, names) {
                    Some(name) => format!("unknown field `{shown}`; did you mean `{name}`?"),
                    None => format!("unknown field `{shown}`; the fields here are {}", names.join(", ")),
                };
                self.fail(Path::nested(prefix, &shown), Code::UnknownField, message);
            }
        }
    }

    fn required<'r>(&mut self, at: Path<'_>, slot: Slot<'r>) -> Option<Found<'r>> {
        if slot.value.is_none() {
            self.fail(at, Code::MissingField, format!("`{at}` is required"));
        }
        slot.value
    }

    fn string<'r>(&mut self, at: Path<'_>, value: Found<'r>, chars_min: usize, chars_max: usize) -> Option<&'r str> {
        let Some(text) = value.text() else {
            self.fail(at, Code::WrongType, format!("`{at}` must be a string, got {}", value.kind()));
            return None;
        };
        // Most strings are ASCII: one pass over the bytes answers both questions.
        let (control, count) = if text.is_ascii() {
            (text.bytes().any(|b| b.is_ascii_control()), text.len())
        } else {
            (text.chars().any(char::is_control), text.chars().count())
        };
        if control {
            self.fail(at, Code::ControlCharacter, format!("`{at}` contains a control character"));
            return None;
        }
        if count < chars_min || count > chars_max {
            let range = if chars_min == chars_max { format!("exactly {chars_min}") } else { format!("{chars_min} to {chars_max}") };
            self.fail(at, Code::InvalidLength, format!("`{at}` must be {range} characters long, got {count}"));
            return None;
        }
        Some(text)
    }

    fn date(&mut self, at: Path<'_>, value: Found<'_>) -> Option<Date> {
        if let Found::Date(date) = value {
            return Some(date);
        }
        let Some(text) = value.text() else {
            self.fail(at, Code::WrongType, format!("`{at}` must be a date string YYYY-MM-DD, got {}", value.kind()));
            return None;
        };
        if let Some(date) = parse_date(text) {
            Some(date)
        } else {
            let shown = if at.is_personal() { String::new() } else { format!(", got {:?}", printable(text)) };
            self.fail(at, Code::InvalidDate, format!("`{at}` must be a real date written YYYY-MM-DD{shown}"));
            None
        }
    }

    fn integer(&mut self, at: Path<'_>, value: Found<'_>, min: u64, max: u64, what: &str) -> Option<u64> {
        let out_of_range = |check: &mut Check| {
            check.fail(at, Code::OutOfRange, format!("`{at}` must be {what} from {min} to {max}"));
            None
        };
        let whole = match value {
            Found::Json(Json::UInt(n)) => Some(*n),
            Found::Whole(n) => Some(n),
            _ => None,
        };
        match (whole, value) {
            (Some(n), _) if (min..=max).contains(&n) => Some(n),
            (Some(_), _) | (None, Found::Json(Json::NegInt(_))) => out_of_range(self),
            // An integral number beyond 64 bits parses as a float: too big, not of wrong type.
            (None, Found::Json(Json::Float(x))) if x.is_finite() && x.fract() == 0.0 && x.abs() >= 9.0e18 => out_of_range(self),
            (_, other) => {
                self.fail(at, Code::WrongType, format!("`{at}` must be {what}, got {}", other.kind()));
                None
            }
        }
    }

    fn amount(&mut self, at: Path<'_>, value: Found<'_>) -> Option<AmountMinor> {
        self.integer(at, value, 0, AMOUNT_MAX_MINOR, "an integer amount in minor units").map(AmountMinor)
    }

    fn code<T: FromStr>(&mut self, at: Path<'_>, value: Found<'_>, allowed: &[&str]) -> Option<T> {
        let Some(text) = value.text() else {
            self.fail(at, Code::WrongType, format!("`{at}` must be a string, got {}", value.kind()));
            return None;
        };
        if let Ok(parsed) = text.parse() {
            Some(parsed)
        } else {
            let message = if at.is_personal() {
                format!("`{at}` is not one of {}", allowed.join(", "))
            } else {
                format!("`{at}` is {:?}; allowed: {}", printable(text), allowed.join(", "))
            };
            self.fail(at, Code::InvalidValue, message);
            None
        }
    }
}

/// Parses exactly `YYYY-MM-DD` into a real calendar date.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    let shape_ok =
        b.len() == 10 && b[4] == b'-' && b[7] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> u32 { b[range].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')) };
    Date::from_ymd_opt(number(0..4) as i32, number(5..7), number(8..10))
}

/// The allowed name a misspelt one most likely meant, if any is close.
fn closest<'n>(key: &str, names: &[&'n str]) -> Option<&'n str> {
    names
        .iter()
        .map(|name| (strsim::damerau_levenshtein(key, name), *name))
        .filter(|(distance, name)| *distance <= 2 && *distance < name.len())
        .min()
        .map(|(_, name)| name)
}

/// A value shown in a message: truncated, so a huge bad value cannot blow up the rejection.
fn printable(text: &str) -> Cow<'_, str> {
    const CHARS_MAX: usize = 40;
    match text.char_indices().nth(CHARS_MAX) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|x| as_str(*x)).collect()
}

/// The fields of an account record, in the order of the furnishing spec.
pub const RECORD_FIELDS: [&str; 21] = [
    "account",
    "as_of",
    "product",
    "opened",
    "closed",
    "currency",
    "credit_limit",
    "original_amount",
    "term_months",
    "scheduled_payment",
    "actual_payment",
    "balance",
    "past_due",
    "status",
    "payment_history",
    "first_delinquency",
    "last_payment",
    "special_comment",
    "dispute",
    "subjects",
    "funding",
];

fn check_record(fields: Fields<'_>, rules: Rules, check: &mut Check) -> Option<AccountRecord> {
    let [
        account,
        as_of,
        product,
        opened,
        closed,
        currency,
        credit_limit,
        original_amount,
        term_months,
        scheduled_payment,
        actual_payment,
        balance,
        past_due,
        status,
        payment_history,
        first_delinquency,
        last_payment,
        special_comment,
        dispute,
        subjects,
        funding,
    ] = check.slots(fields, &RECORD_FIELDS, Prefix::default());
    let f = Path::field;

    // The fields checked for every record, `delete` included.
    let status: Option<Status> =
        check.required(f("status"), status).and_then(|v| check.code(f("status"), v, &names(Status::ALL, Status::as_str)));
    let account = check.required(f("account"), account).and_then(|v| check.string(f("account"), v, 1, 30)).map(str::to_owned);
    let as_of = check.required(f("as_of"), as_of).and_then(|v| check.date(f("as_of"), v));
    if let Some(date) = as_of
        && date > rules.today
    {
        check.fail(f("as_of"), Code::DateInFuture, format!("`as_of` {date} is after today ({})", rules.today));
    }
    let product: Option<Product> =
        check.required(f("product"), product).and_then(|v| check.code(f("product"), v, &names(Product::ALL, Product::as_str)));
    let opened = check.required(f("opened"), opened).and_then(|v| check.date(f("opened"), v));
    if let (Some(opened), Some(as_of)) = (opened, as_of)
        && opened > as_of
    {
        check.fail(f("opened"), Code::DateOrder, format!("`opened` {opened} is after `as_of` {as_of}"));
    }
    let currency = check.required(f("currency"), currency).and_then(|v| {
        let code = check.string(f("currency"), v, 3, 3)?;
        let parsed = Currency::from_code(code);
        if parsed.is_none() {
            check.fail(f("currency"), Code::InvalidCurrency, format!("`currency` {code:?} is not an ISO 4217 code"));
        }
        parsed
    });
    let balance = check.required(f("balance"), balance).and_then(|v| check.amount(f("balance"), v));
    let past_due = check.required(f("past_due"), past_due).and_then(|v| check.amount(f("past_due"), v));
    if let (Some(balance), Some(past_due)) = (balance, past_due)
        && past_due > balance
    {
        check.fail(f("past_due"), Code::PastDueExceedsBalance, format!("`past_due` {} is more than `balance` {}", past_due.0, balance.0));
    }
    let subjects = check.required(f("subjects"), subjects).and_then(|v| check_subjects(v, as_of, check));

    let is_delete = status == Some(Status::Delete);
    let mut facts_rest = RestOfFacts::default();
    if !is_delete {
        facts_rest = check_rest(
            RestSlots {
                closed,
                credit_limit,
                original_amount,
                term_months,
                scheduled_payment,
                actual_payment,
                payment_history,
                first_delinquency,
                last_payment,
                special_comment,
                dispute,
                funding,
            },
            Known { status, product, opened, as_of, balance, past_due },
            check,
        )?;
    }

    Some(AccountRecord {
        facts: AccountFacts {
            account: account?,
            as_of: as_of?,
            product: product?,
            opened: opened?,
            closed: facts_rest.closed,
            currency: currency?,
            credit_limit: facts_rest.credit_limit,
            original_amount: facts_rest.original_amount,
            term_months: facts_rest.term_months,
            scheduled_payment: facts_rest.scheduled_payment,
            actual_payment: facts_rest.actual_payment,
            balance: balance?,
            past_due: past_due?,
            status: status?,
            payment_history: facts_rest.payment_history,
            first_delinquency: facts_rest.first_delinquency,
            last_payment: facts_rest.last_payment,
            special_comment: facts_rest.special_comment,
            dispute: facts_rest.dispute,
            funding: facts_rest.funding,
            reporter_id: None,
        },
        subjects: subjects?,
    })
}

struct RestSlots<'r> {
    closed: Slot<'r>,
    credit_limit: Slot<'r>,
    original_amount: Slot<'r>,
    term_months: Slot<'r>,
    scheduled_payment: Slot<'r>,
    actual_payment: Slot<'r>,
    payment_history: Slot<'r>,
    first_delinquency: Slot<'r>,
    last_payment: Slot<'r>,
    special_comment: Slot<'r>,
    dispute: Slot<'r>,
    funding: Slot<'r>,
}

/// The always-checked fields that the remaining rules refer to (absent when invalid).
struct Known {
    status: Option<Status>,
    product: Option<Product>,
    opened: Option<Date>,
    as_of: Option<Date>,
    balance: Option<AmountMinor>,
    past_due: Option<AmountMinor>,
}

#[derive(Default)]
struct RestOfFacts {
    closed: Option<Date>,
    credit_limit: Option<AmountMinor>,
    original_amount: Option<AmountMinor>,
    term_months: Option<u16>,
    scheduled_payment: Option<AmountMinor>,
    actual_payment: Option<AmountMinor>,
    payment_history: String,
    first_delinquency: Option<Date>,
    last_payment: Option<Date>,
    special_comment: Option<String>,
    dispute: Dispute,
    funding: Vec<FundingShare>,
}

/// The fields a `delete` record may leave out, and the cross-field rules.
fn check_rest(slots: RestSlots<'_>, known: Known, check: &mut Check) -> Option<RestOfFacts> {
    let f = Path::field;
    let closed = slots.closed.value.and_then(|v| check.date(f("closed"), v));
    if let Some(closed) = closed {
        if let Some(opened) = known.opened
            && closed < opened
        {
            check.fail(f("closed"), Code::DateOrder, format!("`closed` {closed} is before `opened` {opened}"));
        }
        if let Some(as_of) = known.as_of
            && closed > as_of
        {
            check.fail(f("closed"), Code::DateOrder, format!("`closed` {closed} is after `as_of` {as_of}"));
        }
    }
    let amount = |check: &mut Check, name: &'static str, slot: Slot<'_>| slot.value.and_then(|v| check.amount(f(name), v));
    let credit_limit = amount(check, "credit_limit", slots.credit_limit);
    let original_amount = amount(check, "original_amount", slots.original_amount);
    let scheduled_payment = amount(check, "scheduled_payment", slots.scheduled_payment);
    let actual_payment = amount(check, "actual_payment", slots.actual_payment);
    let term_months = slots
        .term_months
        .value
        .and_then(|v| check.integer(f("term_months"), v, 1, TERM_MONTHS_MAX, "a whole number of months").map(|n| n as u16));
    let payment_history = match slots.payment_history.value {
        None => Some(String::new()),
        Some(v) => {
            check.string(f("payment_history"), v, 0, 24).and_then(|text| match text.bytes().position(|c| Rating::from_char(c).is_none()) {
                None => Some(text.to_owned()),
                Some(i) => {
                    check.fail(
                        f("payment_history"),
                        Code::InvalidPaymentHistory,
                        format!(
                            "`payment_history` character {} is {:?}; allowed: {}",
                            i + 1,
                            text[i..].chars().next().unwrap_or(' '),
                            Rating::CHARACTERS
                        ),
                    );
                    None
                }
            })
        }
    };
    let first_delinquency = slots.first_delinquency.value.and_then(|v| check.date(f("first_delinquency"), v));
    if let (Some(first), Some(as_of)) = (first_delinquency, known.as_of)
        && first > as_of
    {
        check.fail(f("first_delinquency"), Code::DateOrder, format!("`first_delinquency` {first} is after `as_of` {as_of}"));
    }
    let last_payment = slots.last_payment.value.and_then(|v| check.date(f("last_payment"), v));
    let special_comment = slots.special_comment.value.and_then(|v| check.string(f("special_comment"), v, 2, 2)).map(str::to_owned);
    let dispute = match slots.dispute.value {
        None => Some(Dispute::None),
        Some(v) => check.code(f("dispute"), v, &names(Dispute::ALL, Dispute::as_str)),
    };
    let funding = match slots.funding.value {
        None => Some(Vec::new()),
        Some(v) => check_funding(v, check),
    };

    // Cross-field rules, each judged only on fields that are themselves valid.
    if let Some(status) = known.status {
        if status.requires_zero_balance() {
            for (name, amount) in [("balance", known.balance), ("past_due", known.past_due)] {
                if let Some(amount) = amount
                    && amount.0 != 0
                {
                    check.fail(f(name), Code::BalanceNotZero, format!("`{name}` must be 0 when `status` is {status}, got {}", amount.0));
                }
            }
        }
        if status == Status::Current
            && let Some(past_due) = known.past_due
            && past_due.0 != 0
        {
            check.fail(f("past_due"), Code::PastDueNotZero, format!("`past_due` must be 0 when `status` is current, got {}", past_due.0));
        }
        if (status.is_delinquent() || status.is_derogatory()) && slots.first_delinquency.value.is_none() {
            check.fail(
                f("first_delinquency"),
                Code::FirstDelinquencyRequired,
                format!("`first_delinquency` is required when `status` is {status}"),
            );
        }
        if status.is_delinquent() && known.past_due == Some(AmountMinor(0)) {
            check.fail(f("past_due"), Code::PastDueRequired, format!("`past_due` must be more than 0 when `status` is {status}"));
        }
        if status.is_open() && slots.closed.value.is_some() {
            check.fail(f("closed"), Code::ClosedWithOpenStatus, format!("an account with `closed` set cannot have `status` {status}"));
        }
    }
    if let Some(product) = known.product {
        if product.is_revolving() && slots.credit_limit.value.is_none() {
            check.fail(f("credit_limit"), Code::CreditLimitRequired, format!("`credit_limit` is required for product {product}"));
        }
        if product.is_amortising() {
            if slots.original_amount.value.is_none() {
                check.fail(
                    f("original_amount"),
                    Code::OriginalAmountRequired,
                    format!("`original_amount` is required for product {product}"),
                );
            }
            if slots.term_months.value.is_none() {
                check.fail(f("term_months"), Code::TermMonthsRequired, format!("`term_months` is required for product {product}"));
            }
        }
    }

    Some(RestOfFacts {
        closed,
        credit_limit,
        original_amount,
        term_months,
        scheduled_payment,
        actual_payment,
        payment_history: payment_history?,
        first_delinquency,
        last_payment,
        special_comment,
        dispute: dispute?,
        funding: funding?,
    })
}

fn check_funding(value: Found<'_>, check: &mut Check) -> Option<Vec<FundingShare>> {
    let Some(items) = Items::of(value) else {
        check.fail(Path::field("funding"), Code::WrongType, format!("`funding` must be an array, got {}", value.kind()));
        return None;
    };
    let before = check.errors.len();
    let mut shares: Vec<FundingShare> = Vec::with_capacity(items.len());
    let mut total_bp = Some(0u64);
    for i in 0..items.len() {
        let item = items.get(i);
        let prefix = Prefix::item("funding", i);
        let at = |name| Path::nested(prefix, name);
        let Some(fields) = Fields::of(item) else {
            check.fail(at(""), Code::WrongType, format!("`{prefix}` must be an object, got {}", item.kind()));
            continue;
        };
        let [institution, share_bp] = check.slots(fields, &["institution", "share_bp"], prefix);
        let institution = check.required(at("institution"), institution).and_then(|v| {
            let text = check.string(at("institution"), v, 1, 64)?;
            if !is_institution_id(text) {
                check.fail(
                    at("institution"),
                    Code::InvalidInstitution,
                    format!("`{prefix}.institution` must be 1 to 64 ASCII letters, digits, '.', '_' or '-'"),
                );
                return None;
            }
            Some(text.to_owned())
        });
        let share_bp = check
            .required(at("share_bp"), share_bp)
            .and_then(|v| check.integer(at("share_bp"), v, 1, 10_000, "a whole number of basis points"));
        match share_bp {
            Some(share) => total_bp = total_bp.map(|t| t + share),
            None => total_bp = None,
        }
        if let (Some(institution), Some(share_bp)) = (institution, share_bp) {
            if shares.iter().any(|s| s.institution == institution) {
                check.fail(at("institution"), Code::DuplicateFunder, format!("institution {institution:?} is listed more than once"));
            }
            shares.push(FundingShare { institution, share_bp: share_bp as u16 });
        }
    }
    // Judged whenever every share could be read, whatever else is wrong.
    if let Some(total) = total_bp
        && total != 10_000
    {
        check.fail(Path::field("funding"), Code::FundingTotal, format!("funding shares must add up to 10000 basis points, got {total}"));
    }
    if check.errors.len() > before {
        return None;
    }
    Some(shares)
}

const SUBJECT_FIELDS: [&str; 8] = ["role", "id_type", "id", "family_name", "given_name", "birth_date", "phone", "address"];

fn check_subjects(value: Found<'_>, as_of: Option<Date>, check: &mut Check) -> Option<Vec<SubjectDetails>> {
    let Some(items) = Items::of(value) else {
        check.fail(Path::field("subjects"), Code::WrongType, format!("`subjects` must be an array, got {}", value.kind()));
        return None;
    };
    let before = check.errors.len();
    if items.len() == 0 || items.len() > SUBJECTS_MAX {
        check.fail(
            Path::field("subjects"),
            Code::SubjectCount,
            format!("a record lists 1 to {SUBJECTS_MAX} subjects, got {}", items.len()),
        );
    }
    let mut subjects: Vec<SubjectDetails> = Vec::with_capacity(items.len());
    let mut roles = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        let (subject, role) = check_subject(items.get(i), i, as_of, check);
        roles.push(role);
        let Some(subject) = subject else { continue };
        if subjects.iter().any(|s| s.id == subject.id) {
            check.fail(
                Path::nested(Prefix::item("subjects", i), "id"),
                Code::InvalidValue,
                "the same person is listed twice on one record".into(),
            );
        }
        subjects.push(subject);
    }
    // Judged on the roles that could be read, so a broken subject does not hide this rule.
    let primaries = roles.iter().filter(|r| **r == Some(Role::Primary)).count();
    let all_roles_known = roles.iter().all(Option::is_some);
    if primaries > 1 || (all_roles_known && items.len() > 0 && primaries != 1) {
        check.fail(Path::field("subjects"), Code::PrimaryCount, format!("exactly one subject must have role primary, got {primaries}"));
    }
    if check.errors.len() > before {
        return None;
    }
    Some(subjects)
}

/// One subject, if valid, and its role, if that much could be read.
fn check_subject(value: Found<'_>, index: usize, as_of: Option<Date>, check: &mut Check) -> (Option<SubjectDetails>, Option<Role>) {
    let prefix = Prefix::item("subjects", index);
    let at = |name| Path::nested(prefix, name);
    let Some(fields) = Fields::of(value) else {
        check.fail(at(""), Code::WrongType, format!("`{prefix}` must be an object, got {}", value.kind()));
        return (None, None);
    };
    let before = check.errors.len();
    let [role, id_type, id, family_name, given_name, birth_date, phone, address] = check.slots(fields, &SUBJECT_FIELDS, prefix);
    let role: Option<Role> = check.required(at("role"), role).and_then(|v| check.code(at("role"), v, &names(Role::ALL, Role::as_str)));
    let id_type: Option<IdType> =
        check.required(at("id_type"), id_type).and_then(|v| check.code(at("id_type"), v, &names(IdType::ALL, IdType::as_str)));
    let id = check.required(at("id"), id).and_then(|v| check.string(at("id"), v, 1, 64));
    let family_name = check.required(at("family_name"), family_name).and_then(|v| check.string(at("family_name"), v, 1, 50));
    let given_name = check.required(at("given_name"), given_name).and_then(|v| check.string(at("given_name"), v, 1, 50));
    let birth_date = if let Some(v) = birth_date.value {
        check.date(at("birth_date"), v)
    } else {
        if role == Some(Role::Primary) {
            check.fail(at("birth_date"), Code::BirthDateRequired, format!("`{prefix}.birth_date` is required for the primary subject"));
        }
        None
    };
    if let (Some(birth), Some(as_of)) = (birth_date, as_of) {
        let age = age_years(birth, as_of);
        if !(AGE_YEARS_MIN..=AGE_YEARS_MAX).contains(&age) {
            check.fail(
                at("birth_date"),
                Code::AgeOutOfRange,
                format!(
                    "`{prefix}` would be {} on `as_of`; a subject is {AGE_YEARS_MIN} to {AGE_YEARS_MAX} years old",
                    if age < AGE_YEARS_MIN { "too young" } else { "too old" }
                ),
            );
        }
    }
    if let (Some(id_type), Some(id)) = (id_type, id) {
        match check_id(id_type, id) {
            Ok(Some(embedded)) => {
                if let Some(birth) = birth_date
                    && birth != embedded
                {
                    check.fail(
                        at("birth_date"),
                        Code::IdentifierBirthDateMismatch,
                        format!("`{prefix}.birth_date` differs from the birth date in the cn_rid (characters 7-14)"),
                    );
                }
            }
            Ok(None) => {}
            Err(IdProblem::Format(rule)) => {
                check.fail(at("id"), Code::InvalidIdentifier, format!("`{prefix}.id` is not a valid {id_type}: {rule}"));
            }
            Err(IdProblem::Checksum) => {
                check.fail(at("id"), Code::IdentifierChecksum, format!("`{prefix}.id` fails the {id_type} check digit"));
            }
            Err(IdProblem::EmbeddedDate) => {
                check.fail(
                    at("id"),
                    Code::InvalidIdentifier,
                    format!("`{prefix}.id` is not a valid cn_rid: characters 7-14 are not a date YYYYMMDD"),
                );
            }
        }
    }
    let phone = phone.value.and_then(|v| {
        let text = check.string(at("phone"), v, 1, PHONE_CHARS_MAX)?;
        if !text.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            check.fail(at("phone"), Code::InvalidPhone, format!("`{prefix}.phone` may hold only digits and '+'"));
            return None;
        }
        Some(text.to_owned())
    });
    let address = address.value.and_then(|v| check_address(v, prefix, check));
    if check.errors.len() > before {
        return (None, role);
    }
    let subject = (|| {
        Some(SubjectDetails {
            role: role?,
            id: NationalId { id_type: id_type?, id: Pii(id?.to_owned()) },
            family_name: Pii(family_name?.to_owned()),
            given_name: Pii(given_name?.to_owned()),
            birth_date: birth_date.map(Pii),
            phone: phone.map(Pii),
            address: address.map(Pii),
        })
    })();
    (subject, role)
}

const ADDRESS_FIELDS: [&str; 6] = ["line1", "line2", "city", "region", "postal_code", "country"];

fn check_address(value: Found<'_>, subject: Prefix, check: &mut Check) -> Option<Address> {
    let prefix = subject.child("address");
    let at = |name| Path::nested(prefix, name);
    let Some(fields) = Fields::of(value) else {
        check.fail(at(""), Code::WrongType, format!("`{prefix}` must be an object, got {}", value.kind()));
        return None;
    };
    let before = check.errors.len();
    let [line1, line2, city, region, postal_code, country] = check.slots(fields, &ADDRESS_FIELDS, prefix);
    let mut part = |name: &'static str, slot: Slot<'_>, required: bool| -> Option<String> {
        let value = if required { check.required(at(name), slot)? } else { slot.value? };
        check.string(at(name), value, 1, ADDRESS_PART_CHARS_MAX).map(str::to_owned)
    };
    let line1 = part("line1", line1, true);
    let line2 = part("line2", line2, false);
    let city = part("city", city, true);
    let region = part("region", region, false);
    let postal_code = part("postal_code", postal_code, false);
    let country = part("country", country, true);
    if let Some(code) = &country
        && !is_country_code(code)
    {
        check.fail(at("country"), Code::InvalidCountry, format!("`{prefix}.country` must be an ISO 3166-1 alpha-2 code like CN"));
    }
    if check.errors.len() > before {
        return None;
    }
    Some(Address { line1: line1?, line2, city: city?, region, postal_code, country: country? })
}

fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) && iso_currency::Country::from_str(code).is_ok()
}
