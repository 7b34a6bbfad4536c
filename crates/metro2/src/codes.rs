//! The closed code lists the format allows, as the public validators and the CRRG list them.
//!
//! Lists are bitsets built at compile time: validation looks up several codes per record, and
//! a bit test is cheaper than scanning a list of 63 two-byte strings.

/// A set of one- or two-character printable ASCII codes. Two-character codes are indexed by
/// both bytes (96 × 96 bits); one-character codes by the byte alone.
pub struct Codes {
    bits: [u64; 144],
    width: usize,
}

const fn printable_index(byte: u8) -> usize {
    byte.wrapping_sub(0x20) as usize
}

impl Codes {
    /// A set of one-character codes, given as the bytes of a string.
    pub const fn chars(list: &[u8]) -> Codes {
        let mut bits = [0u64; 144];
        let mut i = 0;
        while i < list.len() {
            let index = printable_index(list[i]);
            assert!(index < 96, "codes are printable ASCII");
            bits[index / 64] |= 1 << (index % 64);
            i += 1;
        }
        Codes { bits, width: 1 }
    }

    /// A set of two-character codes.
    pub const fn pairs(list: &[&[u8; 2]]) -> Codes {
        let mut bits = [0u64; 144];
        let mut i = 0;
        while i < list.len() {
            let (a, b) = (printable_index(list[i][0]), printable_index(list[i][1]));
            assert!(a < 96 && b < 96, "codes are printable ASCII");
            let index = a * 96 + b;
            bits[index / 64] |= 1 << (index % 64);
            i += 1;
        }
        Codes { bits, width: 2 }
    }

    pub fn contains(&self, code: &[u8]) -> bool {
        if code.len() != self.width {
            return false;
        }
        let index = match code {
            [a] => printable_index(*a),
            [a, b] if printable_index(*a) < 96 && printable_index(*b) < 96 => printable_index(*a) * 96 + printable_index(*b),
            _ => return false,
        };
        index < 96 * 96 && self.bits[index / 64] & (1 << (index % 64)) != 0
    }
}

/// Portfolio types: line of credit, installment, mortgage, open, revolving (and lease).
pub static PORTFOLIO_TYPES: Codes = Codes::chars(b"CIMORL");

pub static ACCOUNT_TYPES: Codes = Codes::pairs(&[
    b"00", b"01", b"02", b"03", b"04", b"05", b"06", b"07", b"08", b"0A", b"0C", b"0F", b"0G", b"10", b"11", b"12", b"13", b"15", b"17",
    b"18", b"19", b"20", b"25", b"26", b"29", b"2A", b"2C", b"37", b"3A", b"43", b"47", b"48", b"4D", b"50", b"5A", b"5B", b"65", b"66",
    b"67", b"68", b"69", b"6A", b"6B", b"6D", b"70", b"71", b"72", b"73", b"74", b"75", b"77", b"7A", b"7B", b"89", b"8A", b"8B", b"90",
    b"91", b"92", b"93", b"95", b"9A", b"9B",
]);

/// Every account status, in the order the trailer counts them.
pub const ACCOUNT_STATUS_LIST: [&[u8; 2]; 23] = [
    b"DF", b"DA", b"05", b"11", b"13", b"61", b"62", b"63", b"64", b"65", b"71", b"78", b"80", b"82", b"83", b"84", b"88", b"89", b"93",
    b"94", b"95", b"96", b"97",
];
pub static ACCOUNT_STATUSES: Codes = Codes::pairs(&ACCOUNT_STATUS_LIST);

/// Statuses that must carry a payment rating; every other status must leave it blank.
pub static STATUSES_RATED: Codes = Codes::pairs(&[b"05", b"13", b"65", b"88", b"89", b"94", b"95"]);

pub static PAYMENT_RATINGS: Codes = Codes::chars(b"0123456GL");

/// Payment history profile characters (blank is allowed too).
pub static PROFILE_CHARACTERS: Codes = Codes::chars(b"0123456BDEGHJKLZ ");

pub static SPECIAL_COMMENTS: Codes = Codes::pairs(&[
    b"B ", b"C ", b"H ", b"I ", b"M ", b"O ", b"S ", b"V ", b"AB", b"AC", b"AH", b"AI", b"AM", b"AN", b"AO", b"AP", b"AS", b"AT", b"AU",
    b"AV", b"AW", b"AX", b"AZ", b"BA", b"BB", b"BC", b"BD", b"BE", b"BF", b"BG", b"BH", b"BI", b"BJ", b"BK", b"BL", b"BN", b"BO", b"BP",
    b"BS", b"BT", b"CH", b"CI", b"CJ", b"CK", b"CL", b"CM", b"CN", b"CO", b"CP", b"CS", b"DE",
]);

/// Compliance condition codes (CRRG): XA closed at consumer's request, XB disputed (FCRA), XC
/// investigation completed, consumer disagrees, XD closed at request and disputed, XE closed
/// at request, investigation completed and consumer disagrees, XF disputed (FCBA), XG FCBA
/// dispute resolved, consumer disagrees, XH dispute resolved, XJ closed at request and
/// disputed (FCBA), XR removes the previously reported code.
pub static COMPLIANCE_CONDITIONS: Codes = Codes::pairs(&[b"XA", b"XB", b"XC", b"XD", b"XE", b"XF", b"XG", b"XH", b"XJ", b"XR"]);

/// ECOA codes in use: 1 individual, 2 joint, 3 authorised user, 5 co-signer, 7 maker,
/// T terminated, W business, X deceased, Z delete this consumer.
pub static ECOA_CODES: Codes = Codes::chars(b"12357TWXZ");

pub static TERMS_FREQUENCIES: Codes = Codes::chars(b"DPWBEMLQTSY ");
pub static INTEREST_TYPES: Codes = Codes::chars(b"FV ");
pub static GENERATION_CODES: Codes = Codes::chars(b"JS23456789 ");
pub static ADDRESS_INDICATORS: Codes = Codes::chars(b"CYNMSBUDP ");
pub static RESIDENCE_CODES: Codes = Codes::chars(b"OR ");
pub static CORRECTION_INDICATORS: Codes = Codes::chars(b"01");
pub static CREDITOR_CLASSIFICATIONS: Codes =
    Codes::pairs(&[b"01", b"02", b"03", b"04", b"05", b"06", b"07", b"08", b"09", b"10", b"11", b"12", b"13", b"14", b"15"]);
pub static PURCHASE_INDICATORS: Codes = Codes::chars(b"129");
pub static AGENCY_IDENTIFIERS: Codes = Codes::pairs(&[b"00", b"01", b"02"]);
pub static SPECIALIZED_PAYMENT_INDICATORS: Codes = Codes::pairs(&[b"01", b"02"]);
pub static CHANGE_INDICATORS: Codes = Codes::chars(b"123");

/// Statuses of an account reported past due (71 = 30 days … 84 = 180 days).
pub static STATUSES_DELINQUENT: Codes = Codes::pairs(&[b"71", b"78", b"80", b"82", b"83", b"84"]);
/// Statuses that are derogatory (charge-off, collection, foreclosure, …) or paid after one.
pub static STATUSES_DEROGATORY: Codes = Codes::pairs(&[b"61", b"62", b"63", b"64", b"65", b"88", b"89", b"93", b"94", b"95", b"96", b"97"]);
/// Statuses of a paid or transferred account: nothing is owed.
pub static STATUSES_ZERO_BALANCE: Codes = Codes::pairs(&[b"05", b"13", b"61", b"62", b"63", b"64", b"65"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_exactly_their_codes() {
        assert!(ACCOUNT_TYPES.contains(b"0G"));
        assert!(ACCOUNT_TYPES.contains(b"9B"));
        assert!(!ACCOUNT_TYPES.contains(b"0g"));
        assert!(!ACCOUNT_TYPES.contains(b"14"));
        assert!(!ACCOUNT_TYPES.contains(b"0"));
        assert!(!ACCOUNT_TYPES.contains(b"\x00\x01"));
        assert!(!ACCOUNT_TYPES.contains("é".as_bytes()));
        assert!(SPECIAL_COMMENTS.contains(b"B "));
        assert!(!SPECIAL_COMMENTS.contains(b"  "));
        assert!(ECOA_CODES.contains(b"Z"));
        assert!(!ECOA_CODES.contains(b"4"));
        assert!(!ECOA_CODES.contains(b"\xff"));
        assert!(PROFILE_CHARACTERS.contains(b" "));
        for status in ACCOUNT_STATUS_LIST {
            assert!(ACCOUNT_STATUSES.contains(status));
        }
        assert!(!ACCOUNT_STATUSES.contains(b"12"));
    }
}
