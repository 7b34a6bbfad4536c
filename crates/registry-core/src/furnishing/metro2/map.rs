//! The correspondence of the furnishing format and Metro 2, once, as data: which Metro 2 field
//! holds each furnishing field (`RECORD`, `CONSUMER`), and how each code list reads one way and
//! writes the other. Import (`import.rs`) reads by it, export (`export.rs`) writes by it, and a
//! broken rule is named by it (`locate`). docs/metro2.md is its prose.

use metro2::layout::{associated as assoc, base};
use metro2::{Encoding, SegmentKind};

use crate::furnishing::draft::Segment;
use crate::furnishing::path::Path;
use crate::model::{Dispute, Product, Role, Status};

/// Where a furnishing field lives in a Metro 2 data record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A field of the base segment.
    Base(usize),
    /// A consumer's field: in the base segment for the primary consumer, in a J1 or J2 segment
    /// for each associated one.
    Consumer { base: usize, associated: usize },
    /// Nowhere in the record: the file's (the currency of its whole-unit amounts).
    File,
}

impl Place {
    /// The field's index in a segment of `kind`.
    pub fn index(self, kind: SegmentKind) -> Option<usize> {
        match (self, kind) {
            (Place::Base(index), SegmentKind::Base) => Some(index),
            (Place::Consumer { base, .. }, SegmentKind::Base) => Some(base),
            (Place::Consumer { associated, .. }, SegmentKind::J1 | SegmentKind::J2) => Some(associated),
            _ => None,
        }
    }

    /// The Metro 2 field's name (as the layout names it) in a segment of `kind`. A consumer's
    /// fields have the same names in the base, J1 and J2 segments (a J1 segment has no address
    /// of its own: its consumer's is the base segment's).
    pub fn name(self, kind: SegmentKind) -> Option<&'static str> {
        let (kind, index) = match self {
            Place::Consumer { base, .. } => (SegmentKind::Base, base),
            Place::Base(_) | Place::File => (kind, self.index(kind)?),
        };
        metro2::layout::fields(kind, Encoding::Character).get(index).map(|field| field.name)
    }
}

/// One furnishing field and where Metro 2 holds it.
#[derive(Clone, Copy, Debug)]
pub struct Correspondence {
    /// The field as the furnishing format names it (a consumer's address parts as `address.city`).
    pub furnishing: &'static str,
    pub place: Place,
}

const fn on_base(furnishing: &'static str, index: usize) -> Correspondence {
    Correspondence { furnishing, place: Place::Base(index) }
}

const fn on_consumer(furnishing: &'static str, base: usize, associated: usize) -> Correspondence {
    Correspondence { furnishing, place: Place::Consumer { base, associated } }
}

pub const ACCOUNT: Correspondence = on_base("account", base::CONSUMER_ACCOUNT_NUMBER);
pub const AS_OF: Correspondence = on_base("as_of", base::DATE_OF_ACCOUNT_INFORMATION);
/// With the portfolio type when the account type is not one the registry knows (`product_of`).
pub const PRODUCT: Correspondence = on_base("product", base::ACCOUNT_TYPE);
pub const OPENED: Correspondence = on_base("opened", base::DATE_OPENED);
pub const CLOSED: Correspondence = on_base("closed", base::DATE_CLOSED);
pub const CURRENCY: Correspondence = Correspondence { furnishing: "currency", place: Place::File };
pub const CREDIT_LIMIT: Correspondence = on_base("credit_limit", base::CREDIT_LIMIT);
pub const ORIGINAL_AMOUNT: Correspondence = on_base("original_amount", base::HIGHEST_CREDIT);
/// With the terms frequency, which turns a number of payments into months.
pub const TERM_MONTHS: Correspondence = on_base("term_months", base::TERMS_DURATION);
pub const SCHEDULED_PAYMENT: Correspondence = on_base("scheduled_payment", base::SCHEDULED_MONTHLY_PAYMENT);
pub const ACTUAL_PAYMENT: Correspondence = on_base("actual_payment", base::ACTUAL_PAYMENT);
pub const BALANCE: Correspondence = on_base("balance", base::CURRENT_BALANCE);
pub const PAST_DUE: Correspondence = on_base("past_due", base::AMOUNT_PAST_DUE);
/// With the payment rating, which tells the kinds of paid account apart (`status_of`).
pub const STATUS: Correspondence = on_base("status", base::ACCOUNT_STATUS);
pub const PAYMENT_HISTORY: Correspondence = on_base("payment_history", base::PAYMENT_HISTORY_PROFILE);
pub const FIRST_DELINQUENCY: Correspondence = on_base("first_delinquency", base::DATE_OF_FIRST_DELINQUENCY);
pub const LAST_PAYMENT: Correspondence = on_base("last_payment", base::DATE_OF_LAST_PAYMENT);
pub const SPECIAL_COMMENT: Correspondence = on_base("special_comment", base::SPECIAL_COMMENT);
pub const DISPUTE: Correspondence = on_base("dispute", base::COMPLIANCE_CONDITION_CODE);
/// The record's people: one consumer per base, J1 and J2 segment, by ECOA code.
pub const SUBJECTS: Correspondence = on_base("subjects", base::ECOA_CODE);

/// The account's fields, in the furnishing format's order.
pub const RECORD: [Correspondence; 20] = [
    ACCOUNT,
    AS_OF,
    PRODUCT,
    OPENED,
    CLOSED,
    CURRENCY,
    CREDIT_LIMIT,
    ORIGINAL_AMOUNT,
    TERM_MONTHS,
    SCHEDULED_PAYMENT,
    ACTUAL_PAYMENT,
    BALANCE,
    PAST_DUE,
    STATUS,
    PAYMENT_HISTORY,
    FIRST_DELINQUENCY,
    LAST_PAYMENT,
    SPECIAL_COMMENT,
    DISPUTE,
    SUBJECTS,
];

pub const ROLE: Correspondence = on_consumer("role", base::ECOA_CODE, assoc::ECOA_CODE);
/// Metro 2 identifies consumers by social security number: the id type is always `ssn`.
pub const ID_TYPE: Correspondence = on_consumer("id_type", base::SOCIAL_SECURITY_NUMBER, assoc::SOCIAL_SECURITY_NUMBER);
pub const ID: Correspondence = on_consumer("id", base::SOCIAL_SECURITY_NUMBER, assoc::SOCIAL_SECURITY_NUMBER);
pub const FAMILY_NAME: Correspondence = on_consumer("family_name", base::SURNAME, assoc::SURNAME);
/// The first name, then the middle name after a space (`MIDDLE_NAME`).
pub const GIVEN_NAME: Correspondence = on_consumer("given_name", base::FIRST_NAME, assoc::FIRST_NAME);
pub const MIDDLE_NAME: Correspondence = on_consumer("given_name", base::MIDDLE_NAME, assoc::MIDDLE_NAME);
pub const BIRTH_DATE: Correspondence = on_consumer("birth_date", base::DATE_OF_BIRTH, assoc::DATE_OF_BIRTH);
pub const PHONE: Correspondence = on_consumer("phone", base::TELEPHONE_NUMBER, assoc::TELEPHONE_NUMBER);
/// The address as a whole is named by its first line.
pub const ADDRESS: Correspondence = on_consumer("address", base::FIRST_LINE_OF_ADDRESS, assoc::FIRST_LINE_OF_ADDRESS);
pub const LINE1: Correspondence = on_consumer("address.line1", base::FIRST_LINE_OF_ADDRESS, assoc::FIRST_LINE_OF_ADDRESS);
pub const LINE2: Correspondence = on_consumer("address.line2", base::SECOND_LINE_OF_ADDRESS, assoc::SECOND_LINE_OF_ADDRESS);
pub const CITY: Correspondence = on_consumer("address.city", base::CITY, assoc::CITY);
pub const REGION: Correspondence = on_consumer("address.region", base::STATE, assoc::STATE);
pub const POSTAL_CODE: Correspondence = on_consumer("address.postal_code", base::POSTAL_CODE, assoc::POSTAL_CODE);
/// Blank in a file means the United States.
pub const COUNTRY: Correspondence = on_consumer("address.country", base::COUNTRY_CODE, assoc::COUNTRY_CODE);

/// A consumer's fields, in the furnishing format's order.
pub const CONSUMER: [Correspondence; 15] =
    [ROLE, ID_TYPE, ID, FAMILY_NAME, GIVEN_NAME, MIDDLE_NAME, BIRTH_DATE, PHONE, ADDRESS, LINE1, LINE2, CITY, REGION, POSTAL_CODE, COUNTRY];

/// Where a problem is, as the furnisher's Metro 2 names it: `base.current_balance`,
/// `J2[2].surname` (the second J2 segment of the record).
pub fn location(segment: SegmentKind, ordinal: usize, field: Option<&str>) -> String {
    let segment = match segment {
        SegmentKind::Base => "base".to_string(),
        kind => format!("{}[{ordinal}]", kind.name()),
    };
    match field {
        Some(field) => format!("{segment}.{field}"),
        None => segment,
    }
}

/// The Metro 2 field a furnishing field stands for: `subjects[1].birth_date` of a record whose
/// second consumer came from its first J1 segment is `J1[1].date_of_birth`. What Metro 2 does
/// not hold (`funding`) keeps its furnishing name.
pub(crate) fn locate(path: Path<'_>, consumers: &[Segment]) -> String {
    match path.prefix.list {
        "" if path.name.is_empty() => String::new(),
        "" => match RECORD.iter().find(|c| c.furnishing == path.name) {
            Some(Correspondence { place: Place::File, furnishing }) => (*furnishing).to_owned(),
            Some(c) => location(SegmentKind::Base, 0, c.place.name(SegmentKind::Base)),
            None => path.to_string(),
        },
        "subjects" => {
            let Some(segment) = consumers.get(path.prefix.index) else { return path.to_string() };
            let field = match (path.prefix.child, path.name) {
                ("", "") => return location(segment.kind, segment.ordinal, None),
                ("", name) => name.to_owned(),
                (child, "") => child.to_owned(),
                (child, name) => format!("{child}.{name}"),
            };
            // Anything else of a consumer's is about their address.
            let place = CONSUMER.iter().find(|c| c.furnishing == field).unwrap_or(&ADDRESS).place;
            location(segment.kind, segment.ordinal, place.name(segment.kind))
        }
        _ => path.to_string(),
    }
}

/// The product of an account type (CRRG codes), and failing a known one, of the portfolio
/// type. The list is docs/metro2.md's.
pub fn product_of(account_type: &[u8], portfolio: &[u8]) -> Product {
    match account_type {
        b"18" | b"0G" | b"37" | b"8A" => Product::CreditCard,
        b"15" | b"07" | b"2A" | b"43" | b"47" | b"7A" | b"89" | b"9B" => Product::RevolvingLine,
        b"00" | b"3A" => Product::AutoLoan,
        b"12" => Product::StudentLoan,
        b"08" | b"19" | b"25" | b"26" | b"2C" | b"5A" | b"5B" | b"6B" | b"6D" => Product::Mortgage,
        b"01" | b"02" | b"03" | b"04" | b"05" | b"06" | b"0A" | b"0F" | b"10" | b"11" | b"17" | b"20" | b"65" | b"66" | b"67" | b"68"
        | b"6A" | b"7B" | b"91" | b"9A" => Product::InstallmentLoan,
        _ => match portfolio {
            b"R" | b"C" => Product::RevolvingLine,
            b"I" => Product::InstallmentLoan,
            b"M" => Product::Mortgage,
            _ => Product::Other,
        },
    }
}

/// The account type and portfolio type a product is written as (the inverse of
/// [`product_of`] for these codes). Microloans and pay-later loans have no account type of
/// their own in Metro 2: they cannot be exported without losing what they are.
pub fn account_type(product: Product) -> Option<(&'static str, &'static str)> {
    Some(match product {
        Product::CreditCard => ("18", "R"),
        Product::RevolvingLine => ("15", "R"),
        Product::InstallmentLoan => ("01", "I"),
        Product::AutoLoan => ("00", "I"),
        Product::StudentLoan => ("12", "I"),
        Product::Mortgage => ("26", "M"),
        Product::Other => ("48", "O"),
        Product::Microloan | Product::Bnpl => return None,
    })
}

/// The status of an account status code and payment rating. Status 13 (paid or closed) with a
/// rating of G (collection) or L (charge-off) is the paid-after-derogatory status the registry
/// keeps apart; every other rating leaves 13 `paid`.
pub fn status_of(code: &[u8], rating: &[u8]) -> Option<Status> {
    use Status::*;
    Some(match code {
        b"11" => Current,
        b"71" => Dpd30,
        b"78" => Dpd60,
        b"80" => Dpd90,
        b"82" => Dpd120,
        b"83" => Dpd150,
        b"84" => Dpd180,
        b"13" => match rating {
            b"G" => PaidWasCollection,
            b"L" => PaidWasChargedOff,
            _ => Paid,
        },
        b"61" => PaidWasSurrender,
        b"62" => PaidWasCollection,
        b"63" => PaidWasRepossession,
        b"64" => PaidWasChargedOff,
        b"65" => PaidWasForeclosure,
        b"88" => GovernmentClaim,
        b"89" => DeedInLieu,
        b"93" => Collection,
        b"94" => Foreclosure,
        b"95" => VoluntarySurrender,
        b"96" => Repossession,
        b"97" => ChargedOff,
        b"05" => Transferred,
        b"DA" | b"DF" => Delete,
        _ => return None,
    })
}

/// The account status code and payment rating of a status (the rating only where the CRRG
/// requires one; it does not change what the registry reads back).
pub fn status_code(status: Status) -> (&'static str, &'static str) {
    use Status::*;
    match status {
        Current => ("11", " "),
        Dpd30 => ("71", " "),
        Dpd60 => ("78", " "),
        Dpd90 => ("80", " "),
        Dpd120 => ("82", " "),
        Dpd150 => ("83", " "),
        Dpd180 => ("84", " "),
        Paid => ("13", "0"),
        PaidWasSurrender => ("61", " "),
        PaidWasCollection => ("62", " "),
        PaidWasRepossession => ("63", " "),
        PaidWasChargedOff => ("64", " "),
        PaidWasForeclosure => ("65", "L"),
        GovernmentClaim => ("88", "L"),
        DeedInLieu => ("89", "L"),
        Collection => ("93", " "),
        Foreclosure => ("94", "L"),
        VoluntarySurrender => ("95", "L"),
        Repossession => ("96", " "),
        ChargedOff => ("97", " "),
        Transferred => ("05", "0"),
        Delete => ("DA", " "),
    }
}

/// The role of an ECOA code; `None` for Z (the consumer is removed from the account) and W
/// (business, refused: this is a consumer registry).
pub fn role_of(ecoa: &[u8]) -> Option<Role> {
    Some(match ecoa {
        b"1" | b"7" => Role::Primary,
        b"2" => Role::Joint,
        b"3" => Role::AuthorizedUser,
        b"5" => Role::Cosigner,
        b"T" => Role::Terminated,
        b"X" => Role::Deceased,
        _ => return None,
    })
}

/// The ECOA code a role is written as (the inverse of [`role_of`]).
pub fn ecoa_code(role: Role) -> &'static str {
    match role {
        Role::Primary => "1",
        Role::Joint => "2",
        Role::AuthorizedUser => "3",
        Role::Cosigner => "5",
        Role::Terminated => "T",
        Role::Deceased => "X",
    }
}

/// A dispute's state from the compliance condition code.
pub fn dispute_of(compliance: &[u8]) -> Dispute {
    match compliance {
        b"XB" | b"XD" | b"XF" | b"XJ" => Dispute::Disputed,
        b"XC" | b"XE" | b"XG" => Dispute::ResolvedConsumerDisagrees,
        b"XH" => Dispute::Resolved,
        _ => Dispute::None,
    }
}

/// The compliance condition code a dispute's state is written as (the inverse of
/// [`dispute_of`] for these codes).
pub fn compliance_code(dispute: Dispute) -> &'static str {
    match dispute {
        Dispute::None => "",
        Dispute::Disputed => "XB",
        Dispute::ResolvedConsumerDisagrees => "XC",
        Dispute::Resolved => "XH",
    }
}

/// Months of a term of `duration` payments at `frequency` (CRRG terms frequency codes),
/// rounded up. Export writes monthly terms (frequency `M`), so a month is a payment.
pub fn term_months(duration: u64, frequency: &[u8]) -> u64 {
    match frequency {
        b"W" => (duration * 12).div_ceil(52),
        b"B" => (duration * 12).div_ceil(26),
        b"E" => duration.div_ceil(2),
        b"L" => duration * 2,
        b"Q" => duration * 3,
        b"T" => duration * 4,
        b"S" => duration * 6,
        b"Y" => duration * 12,
        _ => duration,
    }
}

/// The payment history profile as the registry keeps it: blanks and Z (no data) become D, and
/// trailing B's (months before the account's history began) are dropped, so a 24-month profile
/// and a shorter history that say the same are the same. Export pads it back with B's.
pub fn payment_history_of(profile: &[u8]) -> String {
    let mapped: String = profile.iter().map(|c| if matches!(c, b' ' | b'Z') { 'D' } else { char::from(*c) }).collect();
    mapped.trim_end_matches('B').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names errors give are the layout's: each correspondence names a real field, in the
    /// base segment and in J1 and J2 for a consumer's.
    #[test]
    fn every_correspondence_names_a_field_of_its_segments() {
        for c in RECORD.iter().filter(|c| c.place != Place::File) {
            assert!(c.place.name(SegmentKind::Base).is_some(), "{}", c.furnishing);
        }
        for c in CONSUMER {
            let name = c.place.name(SegmentKind::Base).unwrap();
            let kinds: &[SegmentKind] =
                if c.furnishing.starts_with("address") { &[SegmentKind::J2] } else { &[SegmentKind::J1, SegmentKind::J2] };
            for &kind in kinds {
                let index = c.place.index(kind).unwrap();
                assert_eq!(metro2::layout::fields(kind, Encoding::Character)[index].name, name, "{} in {kind:?}", c.furnishing);
            }
        }
        assert_eq!(ORIGINAL_AMOUNT.place.name(SegmentKind::Base), Some("highest_credit"));
        assert_eq!(REGION.place.name(SegmentKind::J2), Some("state"));
    }

    #[test]
    fn codes_read_back_as_written() {
        for status in Status::ALL {
            let (code, rating) = status_code(*status);
            assert_eq!(status_of(code.as_bytes(), rating.as_bytes()), Some(*status), "{status}");
        }
        for role in Role::ALL {
            assert_eq!(role_of(ecoa_code(*role).as_bytes()), Some(*role));
        }
        for dispute in Dispute::ALL {
            assert_eq!(dispute_of(compliance_code(*dispute).as_bytes()), *dispute);
        }
        for product in Product::ALL {
            if let Some((account, portfolio)) = account_type(*product) {
                assert_eq!(product_of(account.as_bytes(), portfolio.as_bytes()), *product);
            }
        }
    }
}
