//! A furnishing record written as a Metro 2 data record, field by field as `map` places them:
//! what the registry holds for a furnisher's cycle, back in the format it may have come in.

use metro2::layout::base;
use metro2::{SegmentBuf, SegmentKind};

use super::map::{self, Correspondence};
use crate::model::{AccountRecord, IdType, Role};

/// Why a record cannot be written as Metro 2.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("account {account} as of {as_of}: {reason}")]
pub struct ExportError {
    pub account: String,
    pub as_of: String,
    pub reason: String,
}

/// A record written as Metro 2: the segments, and how many amounts lost their minor units
/// (Metro 2 amounts are whole units; the CRRG says to drop cents, not round).
pub struct ExportedRecord {
    pub base: SegmentBuf,
    pub appended: Vec<SegmentBuf>,
    pub amounts_truncated: u32,
}

fn metro2_date(date: crate::model::Date) -> Option<metro2::Date> {
    use chrono::Datelike;
    metro2::Date::new(u16::try_from(date.year()).ok()?, date.month() as u8, date.day() as u8)
}

/// Writes one furnishing record as a Metro 2 data record. `identification_number` is the
/// record's own when it came from Metro 2, else the caller's.
pub fn export_record(record: &AccountRecord, identification_number: &str) -> Result<ExportedRecord, ExportError> {
    let facts = &record.facts;
    let fail = |reason: String| ExportError { account: facts.account.clone(), as_of: facts.as_of.to_string(), reason };
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    let date = |d: crate::model::Date| metro2_date(d).ok_or_else(|| fail(format!("date {d} cannot be written as MMDDYYYY")));
    let opt_date = |d: Option<crate::model::Date>| d.map(date).transpose();

    let Some((account_type, portfolio)) = map::account_type(facts.product) else {
        return Err(fail(format!("product {} has no Metro 2 account type", facts.product)));
    };
    if !facts.funding.is_empty() {
        return Err(fail("co-funding shares cannot be expressed in Metro 2".into()));
    }
    let scale = 10u64.pow(u32::from(facts.currency.exponent().unwrap_or(0)));
    let mut truncated = 0;
    let mut whole = |amount: u64| {
        if !amount.is_multiple_of(scale) {
            truncated += 1;
        }
        amount / scale
    };

    let Some(primary_index) = record.subjects.iter().position(|s| s.role == Role::Primary) else {
        return Err(fail("the record has no primary subject".into()));
    };
    let primary = &record.subjects[primary_index];
    let mut b = SegmentBuf::new(SegmentKind::Base, metro2::Encoding::Character);
    let on_base = |c: Correspondence| c.place.index(SegmentKind::Base).expect("an account's field is in the base segment");
    let as_of = date(facts.as_of)?;
    b.set_timestamp(base::TIME_STAMP, Some((as_of, 0))).map_err(field)?;
    b.set_text(base::IDENTIFICATION_NUMBER, facts.reporter_id.as_deref().unwrap_or(identification_number)).map_err(field)?;
    b.set_text(on_base(map::ACCOUNT), &facts.account).map_err(field)?;
    b.set_text(base::PORTFOLIO_TYPE, portfolio).map_err(field)?;
    b.set_text(on_base(map::PRODUCT), account_type).map_err(field)?;
    b.set_date(on_base(map::OPENED), Some(date(facts.opened)?)).map_err(field)?;
    b.set_number(on_base(map::CREDIT_LIMIT), whole(facts.credit_limit.map_or(0, |a| a.0))).map_err(field)?;
    b.set_number(on_base(map::ORIGINAL_AMOUNT), whole(facts.original_amount.map_or(0, |a| a.0))).map_err(field)?;
    match facts.term_months {
        Some(months) => b.set_text(on_base(map::TERM_MONTHS), &format!("{months:03}")).map_err(field)?,
        None if facts.product.is_revolving() => b.set_text(on_base(map::TERM_MONTHS), "REV").map_err(field)?,
        None => b.set_text(on_base(map::TERM_MONTHS), "LOC").map_err(field)?,
    };
    // Monthly terms: a month is a payment (`map::term_months`).
    b.set_text(base::TERMS_FREQUENCY, "M").map_err(field)?;
    b.set_number(on_base(map::SCHEDULED_PAYMENT), whole(facts.scheduled_payment.map_or(0, |a| a.0))).map_err(field)?;
    b.set_number(on_base(map::ACTUAL_PAYMENT), whole(facts.actual_payment.map_or(0, |a| a.0))).map_err(field)?;
    let (status, rating) = map::status_code(facts.status);
    b.set_text(on_base(map::STATUS), status).map_err(field)?;
    b.set_text(base::PAYMENT_RATING, rating).map_err(field)?;
    let mut profile = facts.payment_history.clone();
    while profile.len() < 24 {
        profile.push('B');
    }
    b.set_text(on_base(map::PAYMENT_HISTORY), &profile).map_err(field)?;
    if let Some(comment) = &facts.special_comment {
        b.set_text(on_base(map::SPECIAL_COMMENT), comment).map_err(field)?;
    }
    b.set_text(on_base(map::DISPUTE), map::compliance_code(facts.dispute)).map_err(field)?;
    b.set_number(on_base(map::BALANCE), whole(facts.balance.0)).map_err(field)?;
    b.set_number(on_base(map::PAST_DUE), whole(facts.past_due.0)).map_err(field)?;
    b.set_date(on_base(map::AS_OF), Some(as_of)).map_err(field)?;
    b.set_date(on_base(map::FIRST_DELINQUENCY), opt_date(facts.first_delinquency)?).map_err(field)?;
    b.set_date(on_base(map::CLOSED), opt_date(facts.closed)?).map_err(field)?;
    b.set_date(on_base(map::LAST_PAYMENT), opt_date(facts.last_payment)?).map_err(field)?;
    write_consumer(&mut b, primary, &fail)?;
    let Some(address) = &primary.address else {
        return Err(fail("the primary subject has no address; Metro 2 requires one".into()));
    };
    write_address(&mut b, &address.0, &fail)?;

    let mut appended = Vec::new();
    for (i, subject) in record.subjects.iter().enumerate() {
        if i == primary_index {
            continue;
        }
        // J1: the associated consumer shares the base address (the registry holds none for
        // them); J2 carries their own.
        let kind = if subject.address.is_some() { SegmentKind::J2 } else { SegmentKind::J1 };
        let mut segment = SegmentBuf::new(kind, metro2::Encoding::Character);
        write_consumer(&mut segment, subject, &fail)?;
        if let Some(address) = &subject.address {
            write_address(&mut segment, &address.0, &fail)?;
        }
        appended.push(segment);
    }
    Ok(ExportedRecord { base: b, appended, amounts_truncated: truncated })
}

/// The index in `segment` of a consumer's field.
fn on_consumer(segment: &SegmentBuf, c: Correspondence) -> usize {
    c.place.index(segment.kind).expect("a consumer's field is in the base, J1 and J2 segments")
}

/// Writes a consumer into a base, J1 or J2 segment.
fn write_consumer(
    segment: &mut SegmentBuf,
    subject: &crate::model::SubjectDetails,
    fail: &dyn Fn(String) -> ExportError,
) -> Result<(), ExportError> {
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    let [surname, first, middle, ssn, birth, phone, ecoa] =
        [map::FAMILY_NAME, map::GIVEN_NAME, map::MIDDLE_NAME, map::ID, map::BIRTH_DATE, map::PHONE, map::ROLE]
            .map(|c| on_consumer(segment, c));
    if subject.id.id_type != IdType::Ssn {
        return Err(fail(format!(
            "a {} subject is identified by {}; Metro 2 identifies consumers by social security number",
            subject.role, subject.id.id_type
        )));
    }
    let number: u64 = subject.id.id.parse().map_err(|_| fail("a social security number is not 9 digits".into()))?;
    segment.set_number(ssn, number).map_err(field)?;
    segment.set_text(surname, &subject.family_name).map_err(field)?;
    let (first_name, middle_name) = subject.given_name.split_once(' ').unwrap_or((&subject.given_name, ""));
    segment.set_text(first, first_name).map_err(field)?;
    segment.set_text(middle, middle_name).map_err(field)?;
    if let Some(date) = &subject.birth_date {
        let date = metro2_date(date.0).ok_or_else(|| fail("a birth date cannot be written as MMDDYYYY".into()))?;
        segment.set_date(birth, Some(date)).map_err(field)?;
    }
    if let Some(number) = &subject.phone {
        let digits = number.0.as_str();
        if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(fail("a telephone number is not up to 10 digits (Metro 2 has no room for a country code)".into()));
        }
        segment.set_number(phone, digits.parse().expect("digits")).map_err(field)?;
    }
    segment.set_text(ecoa, map::ecoa_code(subject.role)).map_err(field)?;
    Ok(())
}

/// Writes a consumer's address into a base or J2 segment.
fn write_address(
    segment: &mut SegmentBuf,
    address: &crate::model::Address,
    fail: &dyn Fn(String) -> ExportError,
) -> Result<(), ExportError> {
    let field = |e: metro2::FieldError| fail(format!("does not fit Metro 2: {e}"));
    let [country, line1, line2, city, state, postal] =
        [map::COUNTRY, map::LINE1, map::LINE2, map::CITY, map::REGION, map::POSTAL_CODE].map(|c| on_consumer(segment, c));
    let (Some(region), Some(postal_code)) = (&address.region, &address.postal_code) else {
        return Err(fail("an address has no state or no postal code; Metro 2 requires both".into()));
    };
    segment.set_text(country, &address.country).map_err(field)?;
    segment.set_text(line1, &address.line1).map_err(field)?;
    segment.set_text(line2, address.line2.as_deref().unwrap_or("")).map_err(field)?;
    segment.set_text(city, &address.city).map_err(field)?;
    segment.set_text(state, region).map_err(field)?;
    segment.set_text(postal, postal_code).map_err(field)?;
    Ok(())
}
