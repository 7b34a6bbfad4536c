//! When an account's negative information starts its retention clock, by the rule a
//! jurisdiction uses. Pure: the caller adds the profile's years and compares with today.

use serde::{Deserialize, Serialize};

use crate::model::{AccountFacts, Date, Status, StatusClass};

/// The day negative information's retention counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionStart {
    /// The debt settled or the negative event ended (China, Regulation 2013 art. 16): the first
    /// record, after the last unsettled negative one, whose status is no longer negative.
    Settled,
    /// 180 days after the first delinquency (FCRA §605(c)), settled or not.
    #[serde(rename = "first_delinquency_plus_180_days")]
    FirstDelinquencyPlus180Days,
    /// The contract's end (the `closed` date), or else the arrears recovered as for `Settled`
    /// (the Dutch BKR).
    ContractEnd,
}

/// Negative and not (yet) settled: late, or derogatory and not paid since.
fn unsettled(status: Status) -> bool {
    match status.class() {
        StatusClass::OpenDelinquent => true,
        StatusClass::Derogatory => !matches!(
            status,
            Status::PaidWasSurrender
                | Status::PaidWasCollection
                | Status::PaidWasRepossession
                | Status::PaidWasChargedOff
                | Status::PaidWasForeclosure
        ),
        _ => false,
    }
}

fn negative(status: Status) -> bool {
    matches!(status.class(), StatusClass::OpenDelinquent | StatusClass::Derogatory)
}

/// The day the retention of `records`' negative information starts, or `None` when the account
/// has none or it has not ended in a way the rule counts from. `records` are one account's, in
/// `as_of` order.
pub fn retention_start(records: &[&AccountFacts], rule: RetentionStart) -> Option<Date> {
    if !records.iter().any(|r| negative(r.status)) {
        return None;
    }
    let settled = || {
        let last_unsettled = records.iter().rposition(|r| unsettled(r.status));
        match last_unsettled {
            // Only paid-after-derogatory records: settled on the first of them.
            None => records.iter().find(|r| negative(r.status)).map(|r| r.as_of),
            Some(index) => records[index + 1..].first().map(|r| r.as_of),
        }
    };
    match rule {
        RetentionStart::Settled => settled(),
        RetentionStart::FirstDelinquencyPlus180Days => {
            let first_negative = records.iter().find(|r| negative(r.status)).map(|r| r.as_of);
            let reported = records.iter().filter_map(|r| r.first_delinquency).min();
            reported.or(first_negative).map(|d| d + chrono::Days::new(180))
        }
        RetentionStart::ContractEnd => records.last().and_then(|r| r.closed).or_else(settled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AmountMinor, Currency, Product};

    fn record(as_of: &str, status: Status, first_delinquency: Option<&str>, closed: Option<&str>) -> AccountFacts {
        AccountFacts {
            account: "A".into(),
            as_of: as_of.parse().unwrap(),
            product: Product::Microloan,
            opened: "2014-01-01".parse().unwrap(),
            closed: closed.map(|c| c.parse().unwrap()),
            currency: Currency::from_code("CNY").unwrap(),
            credit_limit: None,
            original_amount: None,
            term_months: None,
            scheduled_payment: None,
            actual_payment: None,
            balance: AmountMinor(0),
            past_due: AmountMinor(0),
            status,
            payment_history: String::new(),
            first_delinquency: first_delinquency.map(|d| d.parse().unwrap()),
            last_payment: None,
            special_comment: None,
            dispute: crate::model::Dispute::default(),
            funding: vec![],
            reporter_id: None,
        }
    }

    fn start(records: &[AccountFacts], rule: RetentionStart) -> Option<String> {
        retention_start(&records.iter().collect::<Vec<_>>(), rule).map(|d| d.to_string())
    }

    #[test]
    fn each_rule_counts_from_its_day() {
        let cured = [
            record("2015-01-31", Status::Current, None, None),
            record("2015-02-28", Status::Dpd30, Some("2015-02-05"), None),
            record("2015-03-31", Status::Dpd60, Some("2015-02-05"), None),
            record("2015-04-30", Status::Current, None, None),
            record("2015-05-31", Status::Paid, None, Some("2015-05-20")),
        ];
        assert_eq!(start(&cured, RetentionStart::Settled).as_deref(), Some("2015-04-30"));
        assert_eq!(start(&cured, RetentionStart::FirstDelinquencyPlus180Days).as_deref(), Some("2015-08-04"));
        assert_eq!(start(&cured, RetentionStart::ContractEnd).as_deref(), Some("2015-05-20"));

        let charged_off = [
            record("2016-05-31", Status::Dpd90, Some("2016-02-10"), None),
            record("2016-06-30", Status::ChargedOff, Some("2016-02-10"), None),
        ];
        assert_eq!(start(&charged_off, RetentionStart::Settled), None, "never settled: kept");
        assert_eq!(start(&charged_off, RetentionStart::ContractEnd), None);
        assert_eq!(start(&charged_off, RetentionStart::FirstDelinquencyPlus180Days).as_deref(), Some("2016-08-08"));

        let paid_later =
            [record("2016-06-30", Status::ChargedOff, None, None), record("2017-01-31", Status::PaidWasChargedOff, None, None)];
        assert_eq!(start(&paid_later, RetentionStart::Settled).as_deref(), Some("2017-01-31"));
        assert_eq!(start(&paid_later, RetentionStart::FirstDelinquencyPlus180Days).as_deref(), Some("2016-12-27"));

        let clean = [record("2015-01-31", Status::Current, None, None), record("2015-02-28", Status::Paid, None, Some("2015-02-20"))];
        for rule in [RetentionStart::Settled, RetentionStart::FirstDelinquencyPlus180Days, RetentionStart::ContractEnd] {
            assert_eq!(start(&clean, rule), None, "no negative information: nothing to purge");
        }
    }
}
