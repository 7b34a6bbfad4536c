//! What an accepted record does to what the registry holds. A furnisher's account holds one
//! record per date: a record for a key (furnisher, account, `as_of`) that is new is added; one
//! for a key an earlier submission holds replaces it (a correction, the replaced version kept
//! in the history); one for a key this same submission holds already repeats an earlier line
//! of the file and is rejected. Both store backends decide by this one rule.

use crate::furnishing::{RecordError, RecordErrorCode};
use crate::model::AccountFacts;

/// Who holds a record's key already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Nobody: the key is new.
    Nobody,
    /// A submission applied before this one.
    EarlierSubmission,
    /// This submission, from the given line of its file.
    ThisSubmission { line: u64 },
}

/// What becomes of an accepted record.
#[derive(Debug, PartialEq, Eq)]
pub enum Fate {
    New,
    /// Replaces the record an earlier submission stored under the same key.
    Correction,
    /// The same key came earlier in this file: the record is rejected with this error.
    Repeat(RecordError),
}

/// The fate of the record on `line` of a submission, whose key `holder` holds.
pub fn fate(facts: &AccountFacts, line: u64, holder: Holder) -> Fate {
    match holder {
        Holder::Nobody => Fate::New,
        Holder::EarlierSubmission => Fate::Correction,
        Holder::ThisSubmission { line: first_line } => Fate::Repeat(RecordError {
            line,
            field: String::new(),
            code: RecordErrorCode::DuplicateRecord,
            message: format!("account {:?} as of {} already appears on line {first_line} of this file", facts.account, facts.as_of),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_corrected_or_repeated() {
        let facts: AccountFacts = serde_json::from_value(serde_json::json!({
            "account": "A-1", "as_of": "2024-10-31", "product": "microloan", "opened": "2024-01-01", "currency": "CNY",
            "original_amount": 100, "term_months": 12, "balance": 0, "past_due": 0, "status": "paid",
        }))
        .unwrap();
        assert_eq!(fate(&facts, 9, Holder::Nobody), Fate::New);
        assert_eq!(fate(&facts, 9, Holder::EarlierSubmission), Fate::Correction);
        let Fate::Repeat(error) = fate(&facts, 9, Holder::ThisSubmission { line: 3 }) else { panic!("a repeat") };
        assert_eq!((error.line, error.code), (9, RecordErrorCode::DuplicateRecord));
        assert_eq!(error.message, "account \"A-1\" as of 2024-10-31 already appears on line 3 of this file");
    }
}
