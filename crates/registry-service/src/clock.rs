//! The registry's notion of now, injected so tests control time.

use chrono::{DateTime, Utc};
use registry_core::model::Date;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in UTC: the default report date and the latest allowed `as_of`.
    fn today(&self) -> Date {
        self.now().date_naive()
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
