//! The 24-month payment grid: which rating each month of the report window gets, from record
//! statuses first and payment-history profiles second (`shared/spec/report.md`).

use std::fmt;

use chrono::Datelike;
use serde::Serialize;

use crate::model::{Date, Rating};
use crate::report::StoredRecord;

/// Months in the report window.
pub const WINDOW_MONTHS: usize = 24;

/// A calendar month, as a count of months since year 0 so that arithmetic is plain integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth(i32);

impl YearMonth {
    pub fn of(date: Date) -> YearMonth {
        YearMonth(date.year() * 12 + date.month0() as i32)
    }

    /// `None` unless `month` is 1 to 12.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        (1..=12).contains(&month).then(|| YearMonth(year * 12 + month as i32 - 1))
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Option<YearMonth> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        YearMonth::new(year.parse().ok()?, month.parse().ok()?)
    }

    /// The given day of this month, or its last day if the month is shorter.
    pub fn day(self, day: u32) -> Date {
        let first = Date::from_ymd_opt(self.year(), self.month(), 1).expect("valid month");
        let last = crate::model::month_end(first);
        Date::from_ymd_opt(self.year(), self.month(), day.clamp(1, 31)).unwrap_or(last)
    }

    pub fn last_day(self) -> Date {
        self.day(31)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn plus(self, months: i32) -> YearMonth {
        YearMonth(self.0 + months)
    }

    pub fn months_since(self, earlier: YearMonth) -> i32 {
        self.0 - earlier.0
    }

    /// The first month of the 24-month window that ends with this month.
    pub fn window_24(self) -> YearMonth {
        self.plus(1 - WINDOW_MONTHS as i32)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One month of an account's grid; `rating` is `None` where nothing rates the month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GridMonth {
    pub month: YearMonth,
    pub rating: Option<Rating>,
}

/// The ratings of the 24 months from `first`, for an account whose visible records are
/// `ascending` (sorted by `as_of`, oldest first).
pub fn payment_grid(ascending: &[&StoredRecord], first: YearMonth) -> Vec<GridMonth> {
    let mut ratings: [Option<Rating>; WINDOW_MONTHS] = [None; WINDOW_MONTHS];
    let slot = |month: YearMonth| -> Option<usize> { usize::try_from(month.months_since(first)).ok().filter(|i| *i < WINDOW_MONTHS) };
    // A record's status rates its own month; of two records in one month the later wins.
    for record in ascending {
        if let (Some(i), Some(rating)) = (slot(YearMonth::of(record.facts.as_of)), record.facts.status.rating()) {
            ratings[i] = Some(rating);
        }
    }
    // Months still unrated take the profile of the newest record that covers them.
    for record in ascending.iter().rev() {
        let record_month = YearMonth::of(record.facts.as_of);
        for (k, c) in record.facts.payment_history.bytes().enumerate() {
            if let Some(i) = slot(record_month.plus(-(k as i32) - 1))
                && ratings[i].is_none()
            {
                ratings[i] = Rating::from_char(c);
            }
        }
    }
    ratings.iter().enumerate().map(|(i, rating)| GridMonth { month: first.plus(i as i32), rating: *rating }).collect()
}
