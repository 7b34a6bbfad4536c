//! The population as Metro 2: each record written as the registry's own export writes it, and
//! a few ways to break one, each named by the rejection code it provokes.

use std::io;

use metro2::SegmentBuf;
use metro2::layout::{base, header};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::furnishing::metro2::export_record;
use registry_core::model::{AccountRecord, Date};

/// A header for one furnisher's cycle ending on `activity`.
pub fn header(furnisher: &str, activity: Date) -> io::Result<SegmentBuf> {
    let date = metro2_date(activity);
    let mut h = SegmentBuf::new(metro2::SegmentKind::Header, metro2::Encoding::Character);
    let set = |h: &mut SegmentBuf| -> Result<(), metro2::FieldError> {
        h.set_date(header::ACTIVITY_DATE, date)?;
        h.set_date(header::DATE_CREATED, date)?;
        h.set_text(header::REPORTER_NAME, &furnisher.to_uppercase())?;
        h.set_text(header::REPORTER_ADDRESS, "SYNTHETIC POPULATION, CREDIT-REGISTRY GENERATE")?;
        h.set_text(header::SOFTWARE_VENDOR_NAME, "credit-registry")?;
        Ok(())
    };
    set(&mut h).map_err(io::Error::other)?;
    Ok(h)
}

fn metro2_date(date: Date) -> Option<metro2::Date> {
    use chrono::Datelike;
    metro2::Date::new(date.year() as u16, date.month() as u8, date.day() as u8)
}

/// A record's segments; its Identification Number is the furnisher's id.
pub fn segments(record: &AccountRecord, furnisher: &str) -> io::Result<(SegmentBuf, Vec<SegmentBuf>)> {
    let exported = export_record(record, &furnisher.to_uppercase()).map_err(io::Error::other)?;
    Ok((exported.base, exported.appended))
}

/// Breaks a record in a way picked at random; returns the registry's rejection code for it.
pub fn corrupt(base_segment: &mut SegmentBuf, appended: &mut Vec<SegmentBuf>, rng: &mut ChaCha8Rng) -> io::Result<&'static str> {
    let broken: Result<&'static str, metro2::FieldError> = (|| {
        Ok(match rng.random_range(0..9u8) {
            8 => {
                // Bytes after the base segment that start no segment.
                let mut stray = SegmentBuf::new(metro2::SegmentKind::K1, metro2::Encoding::Character);
                stray.set_raw(0, b"ZZ")?;
                appended.push(stray);
                "unreadable_record"
            }
            0 => {
                base_segment.set_text(base::ACCOUNT_STATUS, "12")?;
                "invalid_value"
            }
            1 => {
                base_segment.set_raw(base::CURRENT_BALANCE, b"00000X000")?;
                "wrong_type"
            }
            2 => {
                base_segment.set_number(base::SOCIAL_SECURITY_NUMBER, 0)?;
                "invalid_identifier"
            }
            3 => {
                let balance = read_number(base_segment, base::CURRENT_BALANCE);
                base_segment.set_number(base::AMOUNT_PAST_DUE, balance + 100)?;
                "past_due_exceeds_balance"
            }
            4 => {
                base_segment.set_date(base::DATE_OF_ACCOUNT_INFORMATION, metro2::Date::new(2099, 12, 31))?;
                "date_in_future"
            }
            5 => {
                base_segment.set_raw(base::DATE_OPENED, b"02302020")?;
                "invalid_date"
            }
            6 => {
                base_segment.set_text(base::SURNAME, "")?;
                "missing_field"
            }
            _ => {
                base_segment.set_date(base::DATE_OF_BIRTH, None)?;
                "birth_date_required"
            }
        })
    })();
    broken.map_err(io::Error::other)
}

/// The codes `corrupt` provokes.
pub const KINDS: &[&str] = &[
    "invalid_value",
    "wrong_type",
    "invalid_identifier",
    "past_due_exceeds_balance",
    "date_in_future",
    "invalid_date",
    "missing_field",
    "birth_date_required",
    "unreadable_record",
];

fn read_number(segment: &SegmentBuf, index: usize) -> u64 {
    match segment.as_segment().value_at(index) {
        Ok(metro2::Value::Number(n)) => n,
        _ => 0,
    }
}
