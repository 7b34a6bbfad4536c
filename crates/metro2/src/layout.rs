//! Where every field sits: the record and segment layouts of the Metro 2 format, character
//! and packed, as data. Positions are 0-based here (the CRRG and `metro2-layout.md` count
//! from 1); field numbers are the CRRG's.

/// How a field's bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Digits, right-justified, zero-filled.
    Numeric,
    /// Printable ASCII, left-justified, blank-filled.
    Text,
    /// `MMDDYYYY`; all zeros means none.
    Date,
    /// `MMDDYYYYHHMMSS`; all zeros means none.
    Timestamp,
    /// Packed: a big-endian unsigned binary number.
    PackedNumber,
    /// Packed: `0x00`, three bytes of MMDDYYYY as binary, `0x73`; all zero bytes means none.
    PackedDate,
    /// Packed: `0x00`, six bytes of MMDDYYYYHHMMSS as binary, `0x73`.
    PackedTimestamp,
    /// Packed record or block length: 2 bytes big-endian and 2 zero bytes.
    Descriptor,
}

/// Whether a field must hold a value (not blank, not zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Required,
    Optional,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    /// The CRRG field number within its record or segment.
    pub number: u8,
    pub name: &'static str,
    pub start: usize,
    pub len: usize,
    pub kind: Kind,
    pub need: Need,
}

const fn f(number: u8, name: &'static str, start: usize, len: usize, kind: Kind, need: Need) -> Field {
    Field { number, name, start, len, kind, need }
}

use Kind::*;
use Need::*;

/// Segments and records of the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentKind {
    Header,
    Base,
    J1,
    J2,
    K1,
    K2,
    K3,
    K4,
    L1,
    N1,
    Trailer,
}

impl SegmentKind {
    pub const APPENDED: [SegmentKind; 8] = [
        SegmentKind::J1,
        SegmentKind::J2,
        SegmentKind::K1,
        SegmentKind::K2,
        SegmentKind::K3,
        SegmentKind::K4,
        SegmentKind::L1,
        SegmentKind::N1,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SegmentKind::Header => "header",
            SegmentKind::Base => "base",
            SegmentKind::J1 => "J1",
            SegmentKind::J2 => "J2",
            SegmentKind::K1 => "K1",
            SegmentKind::K2 => "K2",
            SegmentKind::K3 => "K3",
            SegmentKind::K4 => "K4",
            SegmentKind::L1 => "L1",
            SegmentKind::N1 => "N1",
            SegmentKind::Trailer => "trailer",
        }
    }

    /// The appended segment with this 2-character identifier.
    pub fn from_id(id: &[u8]) -> Option<SegmentKind> {
        Some(match id {
            b"J1" => SegmentKind::J1,
            b"J2" => SegmentKind::J2,
            b"K1" => SegmentKind::K1,
            b"K2" => SegmentKind::K2,
            b"K3" => SegmentKind::K3,
            b"K4" => SegmentKind::K4,
            b"L1" => SegmentKind::L1,
            b"N1" => SegmentKind::N1,
            _ => return None,
        })
    }

    /// Length in bytes of an appended segment (the same in both encodings).
    pub fn appended_len(self) -> usize {
        match self {
            SegmentKind::J1 => 100,
            SegmentKind::J2 => 200,
            SegmentKind::K1 | SegmentKind::K2 => 34,
            SegmentKind::K3 => 40,
            SegmentKind::K4 => 30,
            SegmentKind::L1 => 54,
            SegmentKind::N1 => 146,
            _ => 0,
        }
    }
}

impl serde::Serialize for SegmentKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl Field {
    /// Whether the field holds personal data of a consumer (names, numbers, addresses), which
    /// a registry must not echo into logs or stored messages.
    pub fn is_personal(&self) -> bool {
        matches!(
            self.name,
            "surname"
                | "first_name"
                | "middle_name"
                | "social_security_number"
                | "date_of_birth"
                | "telephone_number"
                | "first_line_of_address"
                | "second_line_of_address"
                | "city"
                | "postal_code"
                | "consumer_account_number"
                | "new_consumer_account_number"
        )
    }
}

/// How numbers and dates are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Character,
    Packed,
}

/// Length of a header, base segment or trailer.
pub fn record_len(encoding: Encoding) -> usize {
    match encoding {
        Encoding::Character => 426,
        Encoding::Packed => 366,
    }
}

/// The fields of a segment in an encoding, in order.
pub fn fields(kind: SegmentKind, encoding: Encoding) -> &'static [Field] {
    match (kind, encoding) {
        (SegmentKind::Header, Encoding::Character) => HEADER,
        (SegmentKind::Header, Encoding::Packed) => HEADER_PACKED,
        (SegmentKind::Base, Encoding::Character) => BASE,
        (SegmentKind::Base, Encoding::Packed) => BASE_PACKED,
        (SegmentKind::Trailer, Encoding::Character) => TRAILER,
        (SegmentKind::Trailer, Encoding::Packed) => TRAILER_PACKED,
        (SegmentKind::J1, _) => J1,
        (SegmentKind::J2, _) => J2,
        (SegmentKind::K1, _) => K1,
        (SegmentKind::K2, _) => K2,
        (SegmentKind::K3, _) => K3,
        (SegmentKind::K4, _) => K4,
        (SegmentKind::L1, _) => L1,
        (SegmentKind::N1, _) => N1,
    }
}

/// The field of `kind` named `name` (names are unique within a segment).
pub fn field(kind: SegmentKind, encoding: Encoding, name: &str) -> Option<&'static Field> {
    fields(kind, encoding).iter().find(|f| f.name == name)
}

/// Indexes into [`BASE`] and [`BASE_PACKED`] (CRRG field number minus one): the two encodings
/// order their fields alike.
pub mod base {
    pub const RECORD_DESCRIPTOR_WORD: usize = 0;
    pub const TIME_STAMP: usize = 2;
    pub const CORRECTION_INDICATOR: usize = 3;
    pub const IDENTIFICATION_NUMBER: usize = 4;
    pub const CYCLE_IDENTIFIER: usize = 5;
    pub const CONSUMER_ACCOUNT_NUMBER: usize = 6;
    pub const PORTFOLIO_TYPE: usize = 7;
    pub const ACCOUNT_TYPE: usize = 8;
    pub const DATE_OPENED: usize = 9;
    pub const CREDIT_LIMIT: usize = 10;
    pub const HIGHEST_CREDIT: usize = 11;
    pub const TERMS_DURATION: usize = 12;
    pub const TERMS_FREQUENCY: usize = 13;
    pub const SCHEDULED_MONTHLY_PAYMENT: usize = 14;
    pub const ACTUAL_PAYMENT: usize = 15;
    pub const ACCOUNT_STATUS: usize = 16;
    pub const PAYMENT_RATING: usize = 17;
    pub const PAYMENT_HISTORY_PROFILE: usize = 18;
    pub const SPECIAL_COMMENT: usize = 19;
    pub const COMPLIANCE_CONDITION_CODE: usize = 20;
    pub const CURRENT_BALANCE: usize = 21;
    pub const AMOUNT_PAST_DUE: usize = 22;
    pub const ORIGINAL_CHARGE_OFF_AMOUNT: usize = 23;
    pub const DATE_OF_ACCOUNT_INFORMATION: usize = 24;
    pub const DATE_OF_FIRST_DELINQUENCY: usize = 25;
    pub const DATE_CLOSED: usize = 26;
    pub const DATE_OF_LAST_PAYMENT: usize = 27;
    pub const INTEREST_TYPE_INDICATOR: usize = 28;
    pub const SURNAME: usize = 30;
    pub const FIRST_NAME: usize = 31;
    pub const MIDDLE_NAME: usize = 32;
    pub const GENERATION_CODE: usize = 33;
    pub const SOCIAL_SECURITY_NUMBER: usize = 34;
    pub const DATE_OF_BIRTH: usize = 35;
    pub const TELEPHONE_NUMBER: usize = 36;
    pub const ECOA_CODE: usize = 37;
    pub const CONSUMER_INFORMATION_INDICATOR: usize = 38;
    pub const COUNTRY_CODE: usize = 39;
    pub const FIRST_LINE_OF_ADDRESS: usize = 40;
    pub const SECOND_LINE_OF_ADDRESS: usize = 41;
    pub const CITY: usize = 42;
    pub const STATE: usize = 43;
    pub const POSTAL_CODE: usize = 44;
    pub const ADDRESS_INDICATOR: usize = 45;
    pub const RESIDENCE_CODE: usize = 46;
}

/// Indexes into [`J1`] and [`J2`], which share their first eleven fields.
pub mod associated {
    pub const SURNAME: usize = 2;
    pub const FIRST_NAME: usize = 3;
    pub const MIDDLE_NAME: usize = 4;
    pub const GENERATION_CODE: usize = 5;
    pub const SOCIAL_SECURITY_NUMBER: usize = 6;
    pub const DATE_OF_BIRTH: usize = 7;
    pub const TELEPHONE_NUMBER: usize = 8;
    pub const ECOA_CODE: usize = 9;
    pub const CONSUMER_INFORMATION_INDICATOR: usize = 10;
    /// J2 only, from here on.
    pub const COUNTRY_CODE: usize = 11;
    pub const FIRST_LINE_OF_ADDRESS: usize = 12;
    pub const SECOND_LINE_OF_ADDRESS: usize = 13;
    pub const CITY: usize = 14;
    pub const STATE: usize = 15;
    pub const POSTAL_CODE: usize = 16;
    pub const ADDRESS_INDICATOR: usize = 17;
    pub const RESIDENCE_CODE: usize = 18;
}

/// Indexes into [`HEADER`] and [`HEADER_PACKED`].
pub mod header {
    pub const RECORD_IDENTIFIER: usize = 1;
    pub const CYCLE_IDENTIFIER: usize = 2;
    pub const ACTIVITY_DATE: usize = 7;
    pub const DATE_CREATED: usize = 8;
    pub const PROGRAM_DATE: usize = 9;
    pub const REPORTER_NAME: usize = 11;
    pub const REPORTER_ADDRESS: usize = 12;
    pub const REPORTER_TELEPHONE_NUMBER: usize = 13;
    pub const SOFTWARE_VENDOR_NAME: usize = 14;
    pub const SOFTWARE_VERSION_NUMBER: usize = 15;
}

/// Indexes into [`TRAILER`] and [`TRAILER_PACKED`] of the counters that are not per status.
pub mod trailer {
    pub const RECORD_IDENTIFIER: usize = 1;
    pub const TOTAL_BASE_RECORDS: usize = 2;
    pub const TOTAL_STATUS_CODE_DF: usize = 4;
    pub const TOTAL_J1_SEGMENTS: usize = 5;
    pub const TOTAL_J2_SEGMENTS: usize = 6;
    pub const BLOCK_COUNT: usize = 7;
    pub const TOTAL_STATUS_CODE_DA: usize = 8;
    /// Statuses 05 to 97, in the order of [`crate::codes::ACCOUNT_STATUS_LIST`] after DF and DA.
    pub const TOTAL_STATUS_CODE_05: usize = 9;
    pub const TOTAL_ECOA_CODE_Z: usize = 30;
    pub const TOTAL_N1_SEGMENTS: usize = 31;
    pub const TOTAL_K1_SEGMENTS: usize = 32;
    pub const TOTAL_K2_SEGMENTS: usize = 33;
    pub const TOTAL_K3_SEGMENTS: usize = 34;
    pub const TOTAL_K4_SEGMENTS: usize = 35;
    pub const TOTAL_L1_SEGMENTS: usize = 36;
    pub const TOTAL_SOCIAL_SECURITY_NUMBERS_ALL: usize = 37;
    pub const TOTAL_SOCIAL_SECURITY_NUMBERS_BASE: usize = 38;
    pub const TOTAL_SOCIAL_SECURITY_NUMBERS_J1: usize = 39;
    pub const TOTAL_SOCIAL_SECURITY_NUMBERS_J2: usize = 40;
    pub const TOTAL_DATES_OF_BIRTH_ALL: usize = 41;
    pub const TOTAL_DATES_OF_BIRTH_BASE: usize = 42;
    pub const TOTAL_DATES_OF_BIRTH_J1: usize = 43;
    pub const TOTAL_DATES_OF_BIRTH_J2: usize = 44;
    pub const TOTAL_TELEPHONE_NUMBERS_ALL: usize = 45;
    pub const FIELDS: usize = 47;
}

pub const BASE: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Numeric, Required),
    f(2, "processing_indicator", 4, 1, Numeric, Optional),
    f(3, "time_stamp", 5, 14, Timestamp, Optional),
    f(4, "correction_indicator", 19, 1, Numeric, Optional),
    f(5, "identification_number", 20, 20, Text, Required),
    f(6, "cycle_identifier", 40, 2, Text, Optional),
    f(7, "consumer_account_number", 42, 30, Text, Required),
    f(8, "portfolio_type", 72, 1, Text, Required),
    f(9, "account_type", 73, 2, Text, Required),
    f(10, "date_opened", 75, 8, Date, Required),
    f(11, "credit_limit", 83, 9, Numeric, Optional),
    f(12, "highest_credit", 92, 9, Numeric, Optional),
    f(13, "terms_duration", 101, 3, Text, Required),
    f(14, "terms_frequency", 104, 1, Text, Optional),
    f(15, "scheduled_monthly_payment", 105, 9, Numeric, Optional),
    f(16, "actual_payment", 114, 9, Numeric, Optional),
    f(17, "account_status", 123, 2, Text, Required),
    f(18, "payment_rating", 125, 1, Text, Optional),
    f(19, "payment_history_profile", 126, 24, Text, Required),
    f(20, "special_comment", 150, 2, Text, Optional),
    f(21, "compliance_condition_code", 152, 2, Text, Optional),
    f(22, "current_balance", 154, 9, Numeric, Optional),
    f(23, "amount_past_due", 163, 9, Numeric, Optional),
    f(24, "original_charge_off_amount", 172, 9, Numeric, Optional),
    f(25, "date_of_account_information", 181, 8, Date, Required),
    f(26, "date_of_first_delinquency", 189, 8, Date, Optional),
    f(27, "date_closed", 197, 8, Date, Optional),
    f(28, "date_of_last_payment", 205, 8, Date, Optional),
    f(29, "interest_type_indicator", 213, 1, Text, Optional),
    f(30, "reserved", 214, 17, Text, Optional),
    f(31, "surname", 231, 25, Text, Required),
    f(32, "first_name", 256, 20, Text, Required),
    f(33, "middle_name", 276, 20, Text, Optional),
    f(34, "generation_code", 296, 1, Text, Optional),
    f(35, "social_security_number", 297, 9, Numeric, Optional),
    f(36, "date_of_birth", 306, 8, Date, Optional),
    f(37, "telephone_number", 314, 10, Numeric, Optional),
    f(38, "ecoa_code", 324, 1, Text, Required),
    f(39, "consumer_information_indicator", 325, 2, Text, Optional),
    f(40, "country_code", 327, 2, Text, Optional),
    f(41, "first_line_of_address", 329, 32, Text, Required),
    f(42, "second_line_of_address", 361, 32, Text, Optional),
    f(43, "city", 393, 20, Text, Required),
    f(44, "state", 413, 2, Text, Required),
    f(45, "postal_code", 415, 9, Text, Required),
    f(46, "address_indicator", 424, 1, Text, Optional),
    f(47, "residence_code", 425, 1, Text, Optional),
];

pub const BASE_PACKED: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Descriptor, Required),
    f(2, "processing_indicator", 4, 1, Numeric, Optional),
    f(3, "time_stamp", 5, 8, PackedTimestamp, Optional),
    f(4, "correction_indicator", 13, 1, Numeric, Optional),
    f(5, "identification_number", 14, 20, Text, Required),
    f(6, "cycle_identifier", 34, 2, Text, Optional),
    f(7, "consumer_account_number", 36, 30, Text, Required),
    f(8, "portfolio_type", 66, 1, Text, Required),
    f(9, "account_type", 67, 2, Text, Required),
    f(10, "date_opened", 69, 5, PackedDate, Required),
    f(11, "credit_limit", 74, 5, PackedNumber, Optional),
    f(12, "highest_credit", 79, 5, PackedNumber, Optional),
    f(13, "terms_duration", 84, 3, Text, Required),
    f(14, "terms_frequency", 87, 1, Text, Optional),
    f(15, "scheduled_monthly_payment", 88, 5, PackedNumber, Optional),
    f(16, "actual_payment", 93, 5, PackedNumber, Optional),
    f(17, "account_status", 98, 2, Text, Required),
    f(18, "payment_rating", 100, 1, Text, Optional),
    f(19, "payment_history_profile", 101, 24, Text, Required),
    f(20, "special_comment", 125, 2, Text, Optional),
    f(21, "compliance_condition_code", 127, 2, Text, Optional),
    f(22, "current_balance", 129, 5, PackedNumber, Optional),
    f(23, "amount_past_due", 134, 5, PackedNumber, Optional),
    f(24, "original_charge_off_amount", 139, 5, PackedNumber, Optional),
    f(25, "date_of_account_information", 144, 5, PackedDate, Required),
    f(26, "date_of_first_delinquency", 149, 5, PackedDate, Optional),
    f(27, "date_closed", 154, 5, PackedDate, Optional),
    f(28, "date_of_last_payment", 159, 5, PackedDate, Optional),
    f(29, "interest_type_indicator", 164, 1, Text, Optional),
    f(30, "reserved", 165, 17, Text, Optional),
    f(31, "surname", 182, 25, Text, Required),
    f(32, "first_name", 207, 20, Text, Required),
    f(33, "middle_name", 227, 20, Text, Optional),
    f(34, "generation_code", 247, 1, Text, Optional),
    f(35, "social_security_number", 248, 5, PackedNumber, Optional),
    f(36, "date_of_birth", 253, 5, PackedDate, Optional),
    f(37, "telephone_number", 258, 6, PackedNumber, Optional),
    f(38, "ecoa_code", 264, 1, Text, Required),
    f(39, "consumer_information_indicator", 265, 2, Text, Optional),
    f(40, "country_code", 267, 2, Text, Optional),
    f(41, "first_line_of_address", 269, 32, Text, Required),
    f(42, "second_line_of_address", 301, 32, Text, Optional),
    f(43, "city", 333, 20, Text, Required),
    f(44, "state", 353, 2, Text, Required),
    f(45, "postal_code", 355, 9, Text, Required),
    f(46, "address_indicator", 364, 1, Text, Optional),
    f(47, "residence_code", 365, 1, Text, Optional),
];

pub const HEADER: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Numeric, Required),
    f(2, "record_identifier", 4, 6, Text, Required),
    f(3, "cycle_identifier", 10, 2, Text, Optional),
    f(4, "innovis_program_identifier", 12, 10, Text, Optional),
    f(5, "equifax_program_identifier", 22, 10, Text, Optional),
    f(6, "experian_program_identifier", 32, 5, Text, Optional),
    f(7, "transunion_program_identifier", 37, 10, Text, Optional),
    f(8, "activity_date", 47, 8, Date, Required),
    f(9, "date_created", 55, 8, Date, Required),
    f(10, "program_date", 63, 8, Date, Optional),
    f(11, "program_revision_date", 71, 8, Date, Optional),
    f(12, "reporter_name", 79, 40, Text, Required),
    f(13, "reporter_address", 119, 96, Text, Required),
    f(14, "reporter_telephone_number", 215, 10, Numeric, Optional),
    f(15, "software_vendor_name", 225, 40, Text, Optional),
    f(16, "software_version_number", 265, 5, Text, Optional),
    f(17, "microbilt_prbc_program_identifier", 270, 10, Text, Optional),
    f(18, "reserved", 280, 146, Text, Optional),
];

/// The packed header keeps character dates and numbers; only its length and descriptor differ.
pub const HEADER_PACKED: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Descriptor, Required),
    f(2, "record_identifier", 4, 6, Text, Required),
    f(3, "cycle_identifier", 10, 2, Text, Optional),
    f(4, "innovis_program_identifier", 12, 10, Text, Optional),
    f(5, "equifax_program_identifier", 22, 10, Text, Optional),
    f(6, "experian_program_identifier", 32, 5, Text, Optional),
    f(7, "transunion_program_identifier", 37, 10, Text, Optional),
    f(8, "activity_date", 47, 8, Date, Required),
    f(9, "date_created", 55, 8, Date, Required),
    f(10, "program_date", 63, 8, Date, Optional),
    f(11, "program_revision_date", 71, 8, Date, Optional),
    f(12, "reporter_name", 79, 40, Text, Required),
    f(13, "reporter_address", 119, 96, Text, Required),
    f(14, "reporter_telephone_number", 215, 10, Numeric, Optional),
    f(15, "software_vendor_name", 225, 40, Text, Optional),
    f(16, "software_version_number", 265, 5, Text, Optional),
    f(17, "microbilt_prbc_program_identifier", 270, 10, Text, Optional),
    f(18, "reserved", 280, 86, Text, Optional),
];

/// The trailer's counters, in order after `record_identifier`: name, character start.
pub const TRAILER: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Numeric, Required),
    f(2, "record_identifier", 4, 7, Text, Required),
    f(3, "total_base_records", 11, 9, Numeric, Required),
    f(4, "reserved_1", 20, 9, Text, Optional),
    f(5, "total_status_code_df", 29, 9, Numeric, Optional),
    f(6, "total_j1_segments", 38, 9, Numeric, Optional),
    f(7, "total_j2_segments", 47, 9, Numeric, Optional),
    f(8, "block_count", 56, 9, Numeric, Required),
    f(9, "total_status_code_da", 65, 9, Numeric, Optional),
    f(10, "total_status_code_05", 74, 9, Numeric, Optional),
    f(11, "total_status_code_11", 83, 9, Numeric, Optional),
    f(12, "total_status_code_13", 92, 9, Numeric, Optional),
    f(13, "total_status_code_61", 101, 9, Numeric, Optional),
    f(14, "total_status_code_62", 110, 9, Numeric, Optional),
    f(15, "total_status_code_63", 119, 9, Numeric, Optional),
    f(16, "total_status_code_64", 128, 9, Numeric, Optional),
    f(17, "total_status_code_65", 137, 9, Numeric, Optional),
    f(18, "total_status_code_71", 146, 9, Numeric, Optional),
    f(19, "total_status_code_78", 155, 9, Numeric, Optional),
    f(20, "total_status_code_80", 164, 9, Numeric, Optional),
    f(21, "total_status_code_82", 173, 9, Numeric, Optional),
    f(22, "total_status_code_83", 182, 9, Numeric, Optional),
    f(23, "total_status_code_84", 191, 9, Numeric, Optional),
    f(24, "total_status_code_88", 200, 9, Numeric, Optional),
    f(25, "total_status_code_89", 209, 9, Numeric, Optional),
    f(26, "total_status_code_93", 218, 9, Numeric, Optional),
    f(27, "total_status_code_94", 227, 9, Numeric, Optional),
    f(28, "total_status_code_95", 236, 9, Numeric, Optional),
    f(29, "total_status_code_96", 245, 9, Numeric, Optional),
    f(30, "total_status_code_97", 254, 9, Numeric, Optional),
    f(31, "total_ecoa_code_z", 263, 9, Numeric, Optional),
    f(32, "total_n1_segments", 272, 9, Numeric, Optional),
    f(33, "total_k1_segments", 281, 9, Numeric, Optional),
    f(34, "total_k2_segments", 290, 9, Numeric, Optional),
    f(35, "total_k3_segments", 299, 9, Numeric, Optional),
    f(36, "total_k4_segments", 308, 9, Numeric, Optional),
    f(37, "total_l1_segments", 317, 9, Numeric, Optional),
    f(38, "total_social_security_numbers_all", 326, 9, Numeric, Optional),
    f(39, "total_social_security_numbers_base", 335, 9, Numeric, Optional),
    f(40, "total_social_security_numbers_j1", 344, 9, Numeric, Optional),
    f(41, "total_social_security_numbers_j2", 353, 9, Numeric, Optional),
    f(42, "total_dates_of_birth_all", 362, 9, Numeric, Optional),
    f(43, "total_dates_of_birth_base", 371, 9, Numeric, Optional),
    f(44, "total_dates_of_birth_j1", 380, 9, Numeric, Optional),
    f(45, "total_dates_of_birth_j2", 389, 9, Numeric, Optional),
    f(46, "total_telephone_numbers_all", 398, 9, Numeric, Optional),
    f(47, "reserved_2", 407, 19, Text, Optional),
];

pub const TRAILER_PACKED: &[Field] = &[
    f(1, "record_descriptor_word", 0, 4, Descriptor, Required),
    f(2, "record_identifier", 4, 7, Text, Required),
    f(3, "total_base_records", 11, 5, PackedNumber, Required),
    f(4, "reserved_1", 16, 5, Text, Optional),
    f(5, "total_status_code_df", 21, 5, PackedNumber, Optional),
    f(6, "total_j1_segments", 26, 5, PackedNumber, Optional),
    f(7, "total_j2_segments", 31, 5, PackedNumber, Optional),
    f(8, "block_count", 36, 5, PackedNumber, Required),
    f(9, "total_status_code_da", 41, 5, PackedNumber, Optional),
    f(10, "total_status_code_05", 46, 5, PackedNumber, Optional),
    f(11, "total_status_code_11", 51, 5, PackedNumber, Optional),
    f(12, "total_status_code_13", 56, 5, PackedNumber, Optional),
    f(13, "total_status_code_61", 61, 5, PackedNumber, Optional),
    f(14, "total_status_code_62", 66, 5, PackedNumber, Optional),
    f(15, "total_status_code_63", 71, 5, PackedNumber, Optional),
    f(16, "total_status_code_64", 76, 5, PackedNumber, Optional),
    f(17, "total_status_code_65", 81, 5, PackedNumber, Optional),
    f(18, "total_status_code_71", 86, 5, PackedNumber, Optional),
    f(19, "total_status_code_78", 91, 5, PackedNumber, Optional),
    f(20, "total_status_code_80", 96, 5, PackedNumber, Optional),
    f(21, "total_status_code_82", 101, 5, PackedNumber, Optional),
    f(22, "total_status_code_83", 106, 5, PackedNumber, Optional),
    f(23, "total_status_code_84", 111, 5, PackedNumber, Optional),
    f(24, "total_status_code_88", 116, 5, PackedNumber, Optional),
    f(25, "total_status_code_89", 121, 5, PackedNumber, Optional),
    f(26, "total_status_code_93", 126, 5, PackedNumber, Optional),
    f(27, "total_status_code_94", 131, 5, PackedNumber, Optional),
    f(28, "total_status_code_95", 136, 5, PackedNumber, Optional),
    f(29, "total_status_code_96", 141, 5, PackedNumber, Optional),
    f(30, "total_status_code_97", 146, 5, PackedNumber, Optional),
    f(31, "total_ecoa_code_z", 151, 5, PackedNumber, Optional),
    f(32, "total_n1_segments", 156, 5, PackedNumber, Optional),
    f(33, "total_k1_segments", 161, 5, PackedNumber, Optional),
    f(34, "total_k2_segments", 166, 5, PackedNumber, Optional),
    f(35, "total_k3_segments", 171, 5, PackedNumber, Optional),
    f(36, "total_k4_segments", 176, 5, PackedNumber, Optional),
    f(37, "total_l1_segments", 181, 5, PackedNumber, Optional),
    f(38, "total_social_security_numbers_all", 186, 5, PackedNumber, Optional),
    f(39, "total_social_security_numbers_base", 191, 5, PackedNumber, Optional),
    f(40, "total_social_security_numbers_j1", 196, 5, PackedNumber, Optional),
    f(41, "total_social_security_numbers_j2", 201, 5, PackedNumber, Optional),
    f(42, "total_dates_of_birth_all", 206, 5, PackedNumber, Optional),
    f(43, "total_dates_of_birth_base", 211, 5, PackedNumber, Optional),
    f(44, "total_dates_of_birth_j1", 216, 5, PackedNumber, Optional),
    f(45, "total_dates_of_birth_j2", 221, 5, PackedNumber, Optional),
    f(46, "total_telephone_numbers_all", 226, 5, PackedNumber, Optional),
    f(47, "reserved_2", 231, 135, Text, Optional),
];

pub const J1: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "reserved_1", 2, 1, Text, Optional),
    f(3, "surname", 3, 25, Text, Required),
    f(4, "first_name", 28, 20, Text, Required),
    f(5, "middle_name", 48, 20, Text, Optional),
    f(6, "generation_code", 68, 1, Text, Optional),
    f(7, "social_security_number", 69, 9, Numeric, Optional),
    f(8, "date_of_birth", 78, 8, Date, Optional),
    f(9, "telephone_number", 86, 10, Numeric, Optional),
    f(10, "ecoa_code", 96, 1, Text, Required),
    f(11, "consumer_information_indicator", 97, 2, Text, Optional),
    f(12, "reserved_2", 99, 1, Text, Optional),
];

pub const J2: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "reserved_1", 2, 1, Text, Optional),
    f(3, "surname", 3, 25, Text, Required),
    f(4, "first_name", 28, 20, Text, Required),
    f(5, "middle_name", 48, 20, Text, Optional),
    f(6, "generation_code", 68, 1, Text, Optional),
    f(7, "social_security_number", 69, 9, Numeric, Optional),
    f(8, "date_of_birth", 78, 8, Date, Optional),
    f(9, "telephone_number", 86, 10, Numeric, Optional),
    f(10, "ecoa_code", 96, 1, Text, Required),
    f(11, "consumer_information_indicator", 97, 2, Text, Optional),
    f(12, "country_code", 99, 2, Text, Optional),
    f(13, "first_line_of_address", 101, 32, Text, Required),
    f(14, "second_line_of_address", 133, 32, Text, Optional),
    f(15, "city", 165, 20, Text, Required),
    f(16, "state", 185, 2, Text, Required),
    f(17, "postal_code", 187, 9, Text, Required),
    f(18, "address_indicator", 196, 1, Text, Optional),
    f(19, "residence_code", 197, 1, Text, Optional),
    f(20, "reserved_2", 198, 2, Text, Optional),
];

pub const K1: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "original_creditor_name", 2, 30, Text, Required),
    f(3, "creditor_classification", 32, 2, Numeric, Required),
];

pub const K2: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "purchased_from_sold_to_indicator", 2, 1, Numeric, Required),
    f(3, "purchased_from_sold_to_name", 3, 30, Text, Required),
    f(4, "reserved", 33, 1, Text, Optional),
];

pub const K3: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "agency_identifier", 2, 2, Numeric, Optional),
    f(3, "account_number", 4, 18, Text, Optional),
    f(4, "mortgage_identification_number", 22, 18, Text, Optional),
];

pub const K4: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "specialized_payment_indicator", 2, 2, Numeric, Required),
    f(3, "deferred_payment_start_date", 4, 8, Date, Optional),
    f(4, "balloon_payment_due_date", 12, 8, Date, Optional),
    f(5, "balloon_payment_amount", 20, 9, Numeric, Optional),
    f(6, "reserved", 29, 1, Text, Optional),
];

pub const L1: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "change_indicator", 2, 1, Numeric, Required),
    f(3, "new_consumer_account_number", 3, 30, Text, Optional),
    f(4, "new_identification_number", 33, 20, Text, Optional),
    f(5, "reserved", 53, 1, Text, Optional),
];

pub const N1: &[Field] = &[
    f(1, "segment_identifier", 0, 2, Text, Required),
    f(2, "employer_name", 2, 30, Text, Required),
    f(3, "first_line_of_employer_address", 32, 32, Text, Optional),
    f(4, "second_line_of_employer_address", 64, 32, Text, Optional),
    f(5, "employer_city", 96, 20, Text, Optional),
    f(6, "employer_state", 116, 2, Text, Optional),
    f(7, "employer_postal_code", 118, 9, Text, Optional),
    f(8, "occupation", 127, 18, Text, Optional),
    f(9, "reserved", 145, 1, Text, Optional),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields tile their segment: each starts where the previous ends, the last ends at the
    /// segment's length.
    #[test]
    fn layouts_tile_their_segments() {
        let cases = [
            (BASE, 426),
            (BASE_PACKED, 366),
            (HEADER, 426),
            (HEADER_PACKED, 366),
            (TRAILER, 426),
            (TRAILER_PACKED, 366),
            (J1, 100),
            (J2, 200),
            (K1, 34),
            (K2, 34),
            (K3, 40),
            (K4, 30),
            (L1, 54),
            (N1, 146),
        ];
        for (fields, len) in cases {
            let mut at = 0;
            for (i, field) in fields.iter().enumerate() {
                assert_eq!(field.start, at, "{} starts where the previous field ends", field.name);
                assert_eq!(field.number as usize, i + 1, "{} is numbered in order", field.name);
                at += field.len;
            }
            assert_eq!(at, len, "{} ends the segment", fields[fields.len() - 1].name);
        }
        for kind in SegmentKind::APPENDED {
            let last = fields(kind, Encoding::Character).last().unwrap();
            assert_eq!(last.start + last.len, kind.appended_len(), "{kind:?}");
        }
    }
    /// The named indexes point at the fields they name, in both encodings.
    #[test]
    fn indexes_name_their_fields() {
        let check = |fields: &[Field], index: usize, name: &str| assert_eq!(fields[index].name, name, "index {index}");
        for fields in [BASE, BASE_PACKED] {
            check(fields, base::PORTFOLIO_TYPE, "portfolio_type");
            check(fields, base::ACCOUNT_STATUS, "account_status");
            check(fields, base::DATE_OF_ACCOUNT_INFORMATION, "date_of_account_information");
            check(fields, base::SURNAME, "surname");
            check(fields, base::ECOA_CODE, "ecoa_code");
            check(fields, base::RESIDENCE_CODE, "residence_code");
            check(fields, base::INTEREST_TYPE_INDICATOR, "interest_type_indicator");
        }
        for fields in [J1, J2] {
            check(fields, associated::SURNAME, "surname");
            check(fields, associated::SOCIAL_SECURITY_NUMBER, "social_security_number");
            check(fields, associated::ECOA_CODE, "ecoa_code");
            check(fields, associated::CONSUMER_INFORMATION_INDICATOR, "consumer_information_indicator");
        }
        check(J2, associated::COUNTRY_CODE, "country_code");
        check(J2, associated::RESIDENCE_CODE, "residence_code");
        for fields in [HEADER, HEADER_PACKED] {
            check(fields, header::ACTIVITY_DATE, "activity_date");
            check(fields, header::REPORTER_NAME, "reporter_name");
            check(fields, header::SOFTWARE_VERSION_NUMBER, "software_version_number");
        }
        for fields in [TRAILER, TRAILER_PACKED] {
            assert_eq!(fields.len(), trailer::FIELDS);
            check(fields, trailer::TOTAL_STATUS_CODE_DF, "total_status_code_df");
            check(fields, trailer::TOTAL_STATUS_CODE_DA, "total_status_code_da");
            check(fields, trailer::TOTAL_STATUS_CODE_05, "total_status_code_05");
            check(fields, trailer::TOTAL_STATUS_CODE_05 + 20, "total_status_code_97");
            check(fields, trailer::TOTAL_ECOA_CODE_Z, "total_ecoa_code_z");
            check(fields, trailer::TOTAL_L1_SEGMENTS, "total_l1_segments");
            check(fields, trailer::TOTAL_TELEPHONE_NUMBERS_ALL, "total_telephone_numbers_all");
        }
    }
}
