//! The furnishers and the month-by-month life of an account: balances, payments, delinquency
//! that rolls 30 → 60 → … → charge-off or cures, payoff and closure. Each month's state
//! becomes one furnishing record.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::model::{AccountFacts, AmountMinor, Currency, Date, Dispute, FundingShare, Product, Status};

use crate::normal;
use crate::people::Person;

/// A furnisher of the synthetic market.
pub struct Furnisher {
    pub id: &'static str,
    pub description: &'static str,
    /// Day of the month its cycle closes (31: the month's last day).
    pub cycle_day: u32,
    prefix: &'static str,
}

pub const PAYPLAT: usize = 0;
pub const HARBOR: usize = 1;
pub const JADE: usize = 2;
pub const LOTUS: usize = 3;
pub const SUMMIT: usize = 4;
pub const RIVER: usize = 5;
pub const BRIGHT: usize = 6;
pub const SWIFT: usize = 7;

pub const FURNISHERS: [Furnisher; 8] = [
    Furnisher {
        id: "payplat",
        description: "payment platform: in-app revolving credit line and co-funded online microloans",
        cycle_day: 31,
        prefix: "PP",
    },
    Furnisher {
        id: "bank-harbor",
        description: "large state-owned bank: credit cards, mortgages, instalment loans",
        cycle_day: 31,
        prefix: "HB",
    },
    Furnisher { id: "bank-jade", description: "joint-stock bank: credit cards, auto loans, instalment loans", cycle_day: 31, prefix: "JD" },
    Furnisher { id: "bank-lotus", description: "city commercial bank: credit cards, mortgages", cycle_day: 25, prefix: "LT" },
    Furnisher {
        id: "bank-summit",
        description: "joint-stock bank: credit cards, instalment and student loans",
        cycle_day: 31,
        prefix: "SM",
    },
    Furnisher { id: "bank-river", description: "rural commercial bank: mortgages, instalment loans", cycle_day: 31, prefix: "RV" },
    Furnisher { id: "cfc-bright", description: "consumer-finance company: instalment loans and pay-later", cycle_day: 31, prefix: "BR" },
    Furnisher { id: "swiftloan", description: "online microlender", cycle_day: 20, prefix: "SW" },
];

/// Banks that co-fund the platform's microloans (with a trust company that furnishes nothing).
pub const CO_FUNDERS: [&str; 6] = ["bank-harbor", "bank-jade", "bank-lotus", "bank-summit", "bank-river", "trust-east"];

/// A person this hungry for credit borrows near the top of what the platforms lend: a few of
/// them owe more in microloans than the 300,000-yuan cap allows, which supervision is there to
/// see. (Hunger is about normal; some 1.5 % of people are above this.)
const HEAVY_BORROWER_HUNGER: f64 = 2.2;

/// One platform loan in this many funds less of itself than the 30 % floor: the practice the
/// 2021 rules ended, which supervision is there to see.
const BELOW_FLOOR_EVERY: u64 = 8;

const CARD_BANKS: [usize; 4] = [HARBOR, JADE, LOTUS, SUMMIT];

/// Yuan to fen.
const FEN: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Open,
    /// Charged off, foreclosed or repossessed: reported monthly until settled.
    Derogatory(Status),
    /// Reported its final (paid) record; no more records.
    Done,
}

/// What the person's life does to all their accounts this month.
pub struct MonthConditions {
    pub risk: f64,
    /// In hardship (job loss, illness): delinquency everywhere is far likelier.
    pub hardship: bool,
}

pub struct Account {
    pub furnisher: usize,
    pub number: String,
    pub product: Product,
    pub opened: Date,
    term_months: Option<u16>,
    original_fen: Option<u64>,
    limit_fen: Option<u64>,
    rate_monthly: f64,
    scheduled_fen: u64,
    balance_fen: u64,
    utilization: f64,
    bucket: u8,
    stage: Stage,
    first_delinquency: Option<Date>,
    /// Ratings of past months, most recent first.
    history: Vec<u8>,
    pub funding: Vec<FundingShare>,
    /// Index of a joint holder (a spouse), if any.
    pub joint: Option<u32>,
    dispute_months: u8,
    months_on_book: u32,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Monthly payment of a loan of `principal` over `months` at `rate` per month.
fn annuity(principal: f64, rate: f64, months: u16) -> f64 {
    let n = f64::from(months.max(1));
    if rate <= 0.0 {
        return principal / n;
    }
    principal * rate / (1.0 - (1.0 + rate).powf(-n))
}

fn round_yuan(fen: f64) -> u64 {
    ((fen / FEN as f64).round().max(0.0) as u64) * FEN
}

impl Account {
    fn new(furnisher: usize, number: String, product: Product, opened: Date) -> Account {
        Account {
            furnisher,
            number,
            product,
            opened,
            term_months: None,
            original_fen: None,
            limit_fen: None,
            rate_monthly: 0.0,
            scheduled_fen: 0,
            balance_fen: 0,
            utilization: 0.0,
            bucket: 0,
            stage: Stage::Open,
            first_delinquency: None,
            history: Vec::new(),
            funding: Vec::new(),
            joint: None,
            dispute_months: 0,
            months_on_book: 0,
        }
    }

    fn revolving(furnisher: usize, number: String, product: Product, opened: Date, limit_yuan: f64, utilization: f64) -> Account {
        let mut account = Account::new(furnisher, number, product, opened);
        account.limit_fen = Some(round_yuan(limit_yuan.max(500.0) * FEN as f64));
        account.rate_monthly = 0.015;
        account.utilization = utilization;
        account
    }

    fn loan(furnisher: usize, number: String, product: Product, opened: Date, amount_yuan: f64, term: u16, rate: f64) -> Account {
        let mut account = Account::new(furnisher, number, product, opened);
        let principal = round_yuan(amount_yuan * FEN as f64);
        account.original_fen = Some(principal);
        account.term_months = Some(term);
        account.rate_monthly = rate;
        account.scheduled_fen = round_yuan(annuity(principal as f64, rate, term)).max(FEN);
        account.balance_fen = principal;
        account
    }

    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    pub fn is_open(&self) -> bool {
        self.stage == Stage::Open
    }

    /// Brings an account opened before the simulation to its state at `start`: balance
    /// amortised for the elapsed months, a clean payment history.
    fn season(&mut self, start: Date) {
        let elapsed = registry_core::model::months_between(self.opened, start).max(0) as u32;
        self.months_on_book = elapsed;
        self.history = vec![b'0'; elapsed.min(24) as usize];
        if let (Some(term), Some(_)) = (self.term_months, self.original_fen) {
            let mut balance = self.balance_fen as f64;
            for _ in 0..elapsed.min(u32::from(term).saturating_sub(1)) {
                let interest = balance * self.rate_monthly;
                balance = (balance - (self.scheduled_fen as f64 - interest)).max(0.0);
            }
            self.balance_fen = round_yuan(balance);
        }
    }

    fn min_payment(&self) -> u64 {
        round_yuan((self.balance_fen as f64 * 0.1).max(100.0 * FEN as f64)).min(self.balance_fen)
    }

    fn charge_off_status(&self) -> Status {
        match self.product {
            Product::Mortgage => Status::Foreclosure,
            Product::AutoLoan => Status::Repossession,
            _ => Status::ChargedOff,
        }
    }

    /// One month of the account's life, ending at `as_of`. Returns the record's facts, or
    /// `None` once the account is no longer reported.
    pub fn step(&mut self, as_of: Date, conditions: &MonthConditions, rng: &mut ChaCha8Rng) -> Option<AccountFacts> {
        if self.stage == Stage::Done || self.opened > as_of {
            return None;
        }
        let product_logit = match self.product {
            Product::Mortgage => -1.2,
            Product::AutoLoan => -0.5,
            Product::StudentLoan => 0.0,
            Product::CreditCard => 0.0,
            Product::RevolvingLine => 0.2,
            Product::InstallmentLoan => {
                if self.furnisher == BRIGHT {
                    0.5
                } else {
                    -0.2
                }
            }
            Product::Bnpl => 0.4,
            Product::Microloan => {
                if self.furnisher == SWIFT {
                    0.9
                } else {
                    0.6
                }
            }
            Product::Other => 0.0,
        };
        let hardship = if conditions.hardship { 1.0 } else { 0.0 };
        let p_miss = sigmoid(-5.8 + 1.2 * conditions.risk + product_logit + 2.3 * hardship);
        let payment_history: String = self.history.iter().take(24).map(|c| *c as char).collect();
        let mut past_due = 0;
        let mut actual = None;
        let mut closed = None;
        let status;

        match self.stage {
            Stage::Done => return None,
            Stage::Derogatory(derogatory) => {
                let settle = match derogatory {
                    Status::Foreclosure | Status::Repossession => 0.08,
                    _ => 0.035,
                };
                if rng.random_bool(settle) {
                    actual = Some(self.balance_fen);
                    self.balance_fen = 0;
                    closed = Some(as_of);
                    self.stage = Stage::Done;
                    status = match derogatory {
                        Status::Foreclosure => Status::PaidWasForeclosure,
                        Status::Repossession => Status::PaidWasRepossession,
                        _ => Status::PaidWasChargedOff,
                    };
                } else {
                    past_due = self.balance_fen;
                    status = derogatory;
                }
            }
            Stage::Open if self.bucket == 0 => {
                if self.product.is_revolving() {
                    let limit = self.limit_fen.unwrap_or(0) as f64;
                    let target = (0.18 + 0.12 * conditions.risk + 0.25 * hardship).clamp(0.02, 0.95);
                    self.utilization = (self.utilization + 0.3 * (target - self.utilization) + 0.07 * normal(rng)).clamp(0.0, 1.02);
                    self.balance_fen = round_yuan(self.utilization * limit);
                    if self.balance_fen > 0 && self.months_on_book > 0 && rng.random_bool(p_miss) {
                        self.bucket = 1;
                        past_due = self.min_payment().max(FEN);
                        status = Status::Dpd30;
                    } else if self.balance_fen == 0 && self.months_on_book > 12 && rng.random_bool(0.004) {
                        status = Status::Paid;
                        closed = Some(as_of);
                        self.stage = Stage::Done;
                    } else {
                        let minimum = self.min_payment();
                        actual = Some(minimum + round_yuan(rng.random::<f64>() * (self.balance_fen - minimum) as f64));
                        status = Status::Current;
                    }
                    self.scheduled_fen = self.min_payment();
                } else if self.balance_fen == 0 {
                    status = Status::Paid;
                    closed = Some(as_of);
                    self.stage = Stage::Done;
                } else if self.months_on_book > 0 && rng.random_bool(p_miss) {
                    self.bucket = 1;
                    past_due = self.scheduled_fen.min(self.balance_fen);
                    status = Status::Dpd30;
                } else if self.months_on_book > 2 && !matches!(self.product, Product::Mortgage) && rng.random_bool(0.012) {
                    // Paid off early.
                    actual = Some(self.balance_fen);
                    self.balance_fen = 0;
                    status = Status::Paid;
                    closed = Some(as_of);
                    self.stage = Stage::Done;
                } else if self.months_on_book == 0 {
                    status = Status::Current;
                } else {
                    let interest = self.balance_fen as f64 * self.rate_monthly;
                    let principal = (self.scheduled_fen as f64 - interest).max(FEN as f64);
                    let remaining = round_yuan((self.balance_fen as f64 - principal).max(0.0));
                    let last_instalment = self.months_on_book + 1 >= u32::from(self.term_months.unwrap_or(1));
                    actual = Some(self.scheduled_fen.min(self.balance_fen + round_yuan(interest)));
                    if remaining < self.scheduled_fen / 4 || last_instalment {
                        self.balance_fen = 0;
                        status = Status::Paid;
                        closed = Some(as_of);
                        self.stage = Stage::Done;
                    } else {
                        self.balance_fen = remaining;
                        status = Status::Current;
                    }
                }
                if status == Status::Dpd30 {
                    let due = as_of - chrono::Duration::days(20);
                    self.first_delinquency = Some(due.max(self.opened));
                }
            }
            Stage::Open => {
                if self.product.is_revolving() {
                    // Interest and a late fee accrue while nothing is paid.
                    self.balance_fen = round_yuan(self.balance_fen as f64 * (1.0 + self.rate_monthly)) + 50 * FEN;
                }
                let cure = sigmoid(1.2 - 0.8 * conditions.risk - 0.35 * f64::from(self.bucket - 1) - 1.5 * hardship);
                let instalment = if self.product.is_revolving() { self.min_payment() } else { self.scheduled_fen };
                if rng.random_bool(cure) {
                    actual = Some(instalment * u64::from(self.bucket + 1));
                    self.bucket = 0;
                    self.first_delinquency = None;
                    status = Status::Current;
                } else {
                    if rng.random_bool(0.85) {
                        self.bucket += 1;
                    }
                    if self.bucket > 6 {
                        let derogatory = self.charge_off_status();
                        self.stage = Stage::Derogatory(derogatory);
                        past_due = self.balance_fen;
                        status = derogatory;
                    } else {
                        past_due = (instalment.max(FEN) * u64::from(self.bucket)).min(self.balance_fen);
                        status = [Status::Dpd30, Status::Dpd60, Status::Dpd90, Status::Dpd120, Status::Dpd150, Status::Dpd180]
                            [usize::from(self.bucket - 1)];
                    }
                }
            }
        }

        if let Some(rating) = status.rating() {
            self.history.insert(0, rating.as_char() as u8);
            self.history.truncate(24);
        }
        self.months_on_book += 1;
        let dispute = if self.dispute_months > 0 {
            self.dispute_months -= 1;
            if self.dispute_months == 0 { Dispute::Resolved } else { Dispute::Disputed }
        } else if status.is_open() && rng.random_bool(0.0008) {
            self.dispute_months = 3;
            Dispute::Disputed
        } else {
            Dispute::None
        };
        let keeps_delinquency_date = status.is_delinquent() || status.is_derogatory();
        Some(AccountFacts {
            account: self.number.clone(),
            as_of,
            product: self.product,
            opened: self.opened,
            closed,
            currency: Currency::from_code("CNY").expect("CNY is ISO 4217"),
            credit_limit: self.limit_fen.map(AmountMinor),
            original_amount: self.original_fen.map(AmountMinor),
            term_months: self.term_months,
            scheduled_payment: (self.scheduled_fen > 0 && status.is_open()).then_some(AmountMinor(self.scheduled_fen)),
            actual_payment: actual.map(AmountMinor),
            balance: AmountMinor(self.balance_fen),
            past_due: AmountMinor(past_due.min(self.balance_fen)),
            status,
            payment_history,
            first_delinquency: if keeps_delinquency_date { self.first_delinquency } else { None },
            last_payment: actual.map(|_| as_of - chrono::Duration::days(3)).filter(|d| *d >= self.opened),
            special_comment: None,
            dispute,
            funding: self.funding.clone(),
            reporter_id: None,
        })
    }
}

/// Numbers accounts per furnisher: `HB-00001234-3`.
pub struct AccountNumbers {
    person: u32,
    next: u32,
}

impl AccountNumbers {
    pub fn new(person: u32) -> AccountNumbers {
        AccountNumbers { person, next: 0 }
    }

    fn next(&mut self, furnisher: usize) -> String {
        self.next += 1;
        format!("{}-{:08}-{}", FURNISHERS[furnisher].prefix, self.person, self.next)
    }
}

fn opened_before(start: Date, person: &Person, max_years: f64, rng: &mut ChaCha8Rng) -> Date {
    let adult_days = (start - person.birth).num_days() - 18 * 365;
    let days = (rng.random::<f64>() * max_years * 365.0).min(adult_days.max(30) as f64) as i64;
    start - chrono::Duration::days(days.max(1))
}

fn co_funding(number: &str, rng: &mut ChaCha8Rng) -> Vec<FundingShare> {
    // The platform keeps at least 30% of each joint loan (CBIRC 2021), but for one loan in
    // `BELOW_FLOOR_EVERY`, chosen by its number so that the simulation's random draws (and with
    // them the rest of the market) stay as they were.
    let mut own = 3000 + 500 * rng.random_range(0..5u16);
    let digest = number.bytes().fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte)));
    if digest.is_multiple_of(BELOW_FLOOR_EVERY) {
        own = if digest.is_multiple_of(2 * BELOW_FLOOR_EVERY) { 1000 } else { 2000 };
    }
    let partners = if rng.random_bool(0.6) { 1 } else { 2 };
    let mut shares = vec![FundingShare { institution: "payplat".into(), share_bp: own }];
    let first = rng.random_range(0..CO_FUNDERS.len());
    if partners == 1 {
        shares.push(FundingShare { institution: CO_FUNDERS[first].into(), share_bp: 10_000 - own });
    } else {
        let second = (first + 1 + rng.random_range(0..CO_FUNDERS.len() - 1)) % CO_FUNDERS.len();
        let half = ((10_000 - own) / 1000) * 500;
        shares.push(FundingShare { institution: CO_FUNDERS[first].into(), share_bp: half });
        shares.push(FundingShare { institution: CO_FUNDERS[second].into(), share_bp: 10_000 - own - half });
    }
    shares
}

fn microloan(furnisher: usize, numbers: &mut AccountNumbers, opened: Date, person: &Person, rng: &mut ChaCha8Rng) -> Account {
    let mut amount = (7.6 + 0.7 * normal(rng) + 0.25 * person.hunger).exp().clamp(500.0, 200_000.0);
    if person.hunger > HEAVY_BORROWER_HUNGER {
        // From the same draw: 150,000 to 200,000 yuan.
        amount = 150_000.0 + (amount * 977.0) % 50_000.0;
    }
    let term = [3, 6, 6, 12, 12, 12][rng.random_range(0..6usize)];
    let rate = if furnisher == SWIFT { 0.02 } else { 0.012 };
    let number = numbers.next(furnisher);
    let mut loan = Account::loan(furnisher, number.clone(), Product::Microloan, opened, amount, term, rate);
    if furnisher == PAYPLAT {
        loan.funding = co_funding(&number, rng);
    } else if rng.random_bool(0.3) {
        loan.funding = vec![
            FundingShare { institution: "swiftloan".into(), share_bp: 3000 },
            FundingShare { institution: "trust-east".into(), share_bp: 7000 },
        ];
    }
    loan
}

fn bnpl(numbers: &mut AccountNumbers, opened: Date, rng: &mut ChaCha8Rng) -> Account {
    let amount = (6.8 + 0.6 * normal(rng)).exp().clamp(200.0, 20_000.0);
    let term = [3, 6, 6, 12][rng.random_range(0..4usize)];
    Account::loan(BRIGHT, numbers.next(BRIGHT), Product::Bnpl, opened, amount, term, 0.005)
}

fn card(bank: usize, numbers: &mut AccountNumbers, opened: Date, person: &Person, rng: &mut ChaCha8Rng) -> Account {
    let limit = (person.income_yuan * (0.15 + 0.25 * rng.random::<f64>())).clamp(5_000.0, 300_000.0);
    Account::revolving(bank, numbers.next(bank), Product::CreditCard, opened, limit, 0.1 + 0.2 * rng.random::<f64>())
}

/// The accounts a person already has when the simulation starts.
pub fn initial_accounts(
    person: &Person,
    spouse: Option<&Person>,
    start: Date,
    numbers: &mut AccountNumbers,
    rng: &mut ChaCha8Rng,
) -> Vec<Account> {
    let mut accounts = Vec::new();
    let age = person.age_on(start);
    // A minority borrows from everyone at once.
    let multi_lender = person.hunger > 1.3 || rng.random_bool(0.03);

    if rng.random_bool(if age < 40 { 0.85 } else { 0.6 }) || multi_lender {
        let limit = (person.income_yuan * 0.08).clamp(500.0, 50_000.0);
        accounts.push(Account::revolving(
            PAYPLAT,
            numbers.next(PAYPLAT),
            Product::RevolvingLine,
            opened_before(start, person, 5.0, rng),
            limit,
            0.2,
        ));
    }
    let card_count = if multi_lender { 3 } else { (rng.random::<f64>() * 2.2 + person.income_yuan / 200_000.0) as usize };
    let mut banks = CARD_BANKS.to_vec();
    for _ in 0..card_count.min(CARD_BANKS.len()) {
        let bank = banks.remove(rng.random_range(0..banks.len()));
        accounts.push(card(bank, numbers, opened_before(start, person, 10.0, rng), person, rng));
    }
    if (28..62).contains(&age) && rng.random_bool(0.28) {
        let bank = [HARBOR, LOTUS, RIVER][rng.random_range(0..3usize)];
        let amount = (person.income_yuan * (4.0 + 4.0 * rng.random::<f64>())).clamp(200_000.0, 5_000_000.0);
        let term = [240, 300, 360][rng.random_range(0..3usize)];
        let mut mortgage =
            Account::loan(bank, numbers.next(bank), Product::Mortgage, opened_before(start, person, 12.0, rng), amount, term, 0.0041);
        mortgage.joint = spouse.map(|s| s.index);
        accounts.push(mortgage);
    }
    if rng.random_bool(0.1) {
        let amount = (person.income_yuan * (0.6 + rng.random::<f64>())).clamp(60_000.0, 400_000.0);
        let term = [36, 48, 60][rng.random_range(0..3usize)];
        accounts.push(Account::loan(
            JADE,
            numbers.next(JADE),
            Product::AutoLoan,
            opened_before(start, person, 3.0, rng),
            amount,
            term,
            0.005,
        ));
    }
    if rng.random_bool(0.18) || multi_lender {
        let bank = [HARBOR, JADE, SUMMIT, RIVER][rng.random_range(0..4usize)];
        let amount = (person.income_yuan * (0.2 + 0.5 * rng.random::<f64>())).clamp(10_000.0, 300_000.0);
        let term = [12, 24, 36, 60][rng.random_range(0..4usize)];
        accounts.push(Account::loan(
            bank,
            numbers.next(bank),
            Product::InstallmentLoan,
            opened_before(start, person, 2.0, rng),
            amount,
            term,
            0.008,
        ));
    }
    if age < 27 && rng.random_bool(0.15) {
        let amount = 30_000.0 + 50_000.0 * rng.random::<f64>();
        accounts.push(Account::loan(
            SUMMIT,
            numbers.next(SUMMIT),
            Product::StudentLoan,
            opened_before(start, person, 4.0, rng),
            amount,
            120,
            0.0035,
        ));
    }
    if rng.random_bool(0.12 + 0.05 * person.risk.max(0.0)) || multi_lender {
        let amount = (8.5 + 0.6 * normal(rng)).exp().clamp(3_000.0, 80_000.0);
        let term = [6, 12, 18, 24][rng.random_range(0..4usize)];
        accounts.push(Account::loan(
            BRIGHT,
            numbers.next(BRIGHT),
            Product::InstallmentLoan,
            opened_before(start, person, 1.5, rng),
            amount,
            term,
            0.015,
        ));
    }
    if multi_lender {
        accounts.push(microloan(SWIFT, numbers, opened_before(start, person, 0.5, rng), person, rng));
        accounts.push(bnpl(numbers, opened_before(start, person, 0.4, rng), rng));
    }
    for account in &mut accounts {
        account.season(start);
    }
    accounts
}

/// New borrowing during the month: pay-later purchases and microloans come and go, riskier and
/// hungrier people borrow more (which is why recent openings predict default).
pub fn open_new(
    accounts: &mut Vec<Account>,
    person: &Person,
    month: registry_core::report::YearMonth,
    conditions: &MonthConditions,
    numbers: &mut AccountNumbers,
    rng: &mut ChaCha8Rng,
) {
    let appetite = (0.5 * person.risk + 0.7 * person.hunger + if conditions.hardship { 0.8 } else { 0.0 }).exp();
    let has_open = |accounts: &Vec<Account>, furnisher: usize, product: Product| {
        accounts.iter().any(|a| a.furnisher == furnisher && a.product == product && a.is_open())
    };
    let opened_on = |furnisher: usize, rng: &mut ChaCha8Rng| {
        let last = FURNISHERS[furnisher].cycle_day.min(28);
        month.day(rng.random_range(1..=last))
    };
    if !has_open(accounts, PAYPLAT, Product::Microloan) && rng.random_bool((0.02 * appetite).min(0.3)) {
        let opened = opened_on(PAYPLAT, rng);
        accounts.push(microloan(PAYPLAT, numbers, opened, person, rng));
    }
    if !has_open(accounts, SWIFT, Product::Microloan) && rng.random_bool((0.006 * appetite * appetite).min(0.3)) {
        let opened = opened_on(SWIFT, rng);
        accounts.push(microloan(SWIFT, numbers, opened, person, rng));
    }
    if rng.random_bool((0.015 * appetite).min(0.3)) {
        let opened = opened_on(BRIGHT, rng);
        accounts.push(bnpl(numbers, opened, rng));
    }
    if rng.random_bool((0.003 * appetite).min(0.1)) {
        let banks: Vec<usize> = CARD_BANKS.iter().copied().filter(|b| !has_open(accounts, *b, Product::CreditCard)).collect();
        if !banks.is_empty() {
            let bank = banks[rng.random_range(0..banks.len())];
            let opened = opened_on(bank, rng);
            accounts.push(card(bank, numbers, opened, person, rng));
        }
    }
}
