//! National identifier rules: format and checksum per identifier type, and masking for display.
//!
//! The checksums are a few lines each (ISO 7064 MOD 11-2, the Dutch eleven-test) and written
//! here rather than pulled in as dependencies: no well-kept crate covers all of them together.

use crate::model::{Date, IdType};

/// Why an identifier was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdProblem {
    /// Wrong length or characters for its type, or a reserved number range.
    Format(&'static str),
    /// The check character or check sum does not match.
    Checksum,
    /// A `cn_rid` whose characters 7–14 are not a date.
    EmbeddedDate,
}

/// Checks an identifier against its type's rules. For `cn_rid`, returns the birth date the
/// identifier encodes, so the caller can compare it with the stated `birth_date`.
pub fn check_id(id_type: IdType, id: &str) -> Result<Option<Date>, IdProblem> {
    match id_type {
        IdType::CnRid => check_cn_rid(id).map(Some),
        IdType::Ssn => check_ssn(id).map(|()| None),
        IdType::NlBsn => check_nl_bsn(id).map(|()| None),
        IdType::Other => {
            if (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(None)
            } else {
                Err(IdProblem::Format("an `other` identifier is 1 to 32 ASCII letters and digits"))
            }
        }
    }
}

/// PRC resident identity number (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check
/// character; characters 7–14 are the birth date.
fn check_cn_rid(id: &str) -> Result<Date, IdProblem> {
    const FORMAT: &str = "a cn_rid is 17 digits followed by a digit or 'X'";
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) || !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
        return Err(IdProblem::Format(FORMAT));
    }
    let weighted: u32 = bytes[..17].iter().zip(CN_RID_WEIGHTS).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
    if CN_RID_CHECK[(weighted % 11) as usize] != bytes[17] {
        return Err(IdProblem::Checksum);
    }
    let digits = |range: std::ops::Range<usize>| -> u32 { bytes[range].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')) };
    Date::from_ymd_opt(digits(6..10) as i32, digits(10..12), digits(12..14)).ok_or(IdProblem::EmbeddedDate)
}

/// Weight of position i is 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
const CN_RID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum.
const CN_RID_CHECK: [u8; 11] = *b"10X98765432";

/// Computes the check character for the first 17 digits of a `cn_rid` (used by the generator).
pub fn cn_rid_check_char(first17: &[u8; 17]) -> char {
    let weighted: u32 = first17.iter().zip(CN_RID_WEIGHTS).map(|(digit, weight)| u32::from(digit - b'0') * weight).sum();
    CN_RID_CHECK[(weighted % 11) as usize] as char
}

/// US Social Security number: 9 digits; area not 000, 666 or 9xx; group not 00; serial not 0000.
fn check_ssn(id: &str) -> Result<(), IdProblem> {
    if id.len() != 9 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdProblem::Format("an ssn is 9 digits, without dashes"));
    }
    let (area, group, serial) = (&id[0..3], &id[3..5], &id[5..9]);
    if area == "000" || area == "666" || area.starts_with('9') {
        return Err(IdProblem::Format("an ssn area (digits 1-3) is never 000, 666 or 900-999"));
    }
    if group == "00" {
        return Err(IdProblem::Format("an ssn group (digits 4-5) is never 00"));
    }
    if serial == "0000" {
        return Err(IdProblem::Format("an ssn serial (digits 6-9) is never 0000"));
    }
    Ok(())
}

/// Dutch citizen service number: 9 digits passing the eleven-test
/// (9·d1 + 8·d2 + … + 2·d8 − 1·d9 divisible by 11). All zeros passes the arithmetic but is no
/// one's number, so it is refused too.
fn check_nl_bsn(id: &str) -> Result<(), IdProblem> {
    if id.len() != 9 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IdProblem::Format("an nl_bsn is 9 digits"));
    }
    if id == "000000000" {
        return Err(IdProblem::Format("an nl_bsn is never all zeros"));
    }
    let digits: Vec<i32> = id.bytes().map(|b| i32::from(b - b'0')).collect();
    let sum: i32 = digits[..8].iter().zip((2..=9).rev()).map(|(d, w)| d * w).sum::<i32>() - digits[8];
    if sum % 11 == 0 { Ok(()) } else { Err(IdProblem::Checksum) }
}

/// The identifier as shown to anyone but its subject: enough to tell two apart, not to use.
pub fn mask_id(id_type: IdType, id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let (head, tail) = match id_type {
        IdType::CnRid => (4, 4),
        IdType::Ssn | IdType::NlBsn => (0, 4),
        IdType::Other if chars.len() > 6 => (0, 4),
        IdType::Other => (0, 0),
    };
    let (head, tail) = if head + tail >= chars.len() { (0, 0) } else { (head, tail) };
    chars.iter().enumerate().map(|(i, c)| if i < head || i >= chars.len() - tail { *c } else { '*' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn cn_rid_examples_from_the_spec_pass_and_encode_birth_dates() {
        assert_eq!(check_id(IdType::CnRid, "11010519491231002X"), Ok(Some(d("1949-12-31"))));
        assert_eq!(check_id(IdType::CnRid, "320102198706153316"), Ok(Some(d("1987-06-15"))));
    }

    #[test]
    fn cn_rid_failures() {
        assert_eq!(check_id(IdType::CnRid, "110105194912310021"), Err(IdProblem::Checksum));
        assert!(matches!(check_id(IdType::CnRid, "11010519491231002x"), Err(IdProblem::Format(_))));
        assert!(matches!(check_id(IdType::CnRid, "1101051949123100"), Err(IdProblem::Format(_))));
        // Valid check character over an impossible date (February 30th).
        let mut first17 = *b"11010519490230002";
        let check = cn_rid_check_char(&first17);
        let id = format!("{}{}", std::str::from_utf8(&first17).unwrap(), check);
        assert_eq!(check_id(IdType::CnRid, &id), Err(IdProblem::EmbeddedDate));
        first17[16] = b'3';
        assert_ne!(cn_rid_check_char(&first17), check);
    }

    #[test]
    fn ssn_rules() {
        assert_eq!(check_id(IdType::Ssn, "123456789"), Ok(None));
        for bad in ["000123456", "666123456", "912345678", "123006789", "123450000", "12345678", "123-45-6789"] {
            assert!(check_id(IdType::Ssn, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bsn_eleven_test() {
        // 9·1+8·1+7·1+6·2+5·2+4·2+3·3+2·3−3 = 66 = 6·11.
        assert_eq!(check_id(IdType::NlBsn, "111222333"), Ok(None));
        assert_eq!(check_id(IdType::NlBsn, "123456782"), Ok(None));
        assert_eq!(check_id(IdType::NlBsn, "111222334"), Err(IdProblem::Checksum));
        assert!(check_id(IdType::NlBsn, "000000000").is_err());
        assert!(check_id(IdType::NlBsn, "11122233").is_err());
    }

    #[test]
    fn other_identifiers() {
        assert!(check_id(IdType::Other, "E12345678").is_ok());
        assert!(check_id(IdType::Other, "").is_err());
        assert!(check_id(IdType::Other, "AB-12").is_err());
        assert!(check_id(IdType::Other, &"A".repeat(33)).is_err());
    }

    #[test]
    fn masking_keeps_only_a_little() {
        assert_eq!(mask_id(IdType::CnRid, "11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id(IdType::Ssn, "123456789"), "*****6789");
        assert_eq!(mask_id(IdType::Other, "AB12"), "****");
        assert_eq!(mask_id(IdType::Other, "E12345678"), "*****5678");
    }
}
