//! The vocabulary of who may read what and what a consumer may do about their file: the roles
//! of API keys, the flags on a file, the states of a dispute and of a consent. Stored as their
//! spelling here and parsed once where they leave the store.

code_list! {
    /// What a key may do; every endpoint names the roles it admits.
    PrincipalRole {
        /// Runs the registry: submissions of every furnisher, audited drill-down.
        Operator = "operator",
        /// Submits its own files and reads its own submissions (the key's name is its furnisher id).
        Furnisher = "furnisher",
        /// Makes inquiries under consumers' consent.
        Lender = "lender",
        /// One subject: their own report, accesses, consents, disputes.
        Consumer = "consumer",
        /// Market-wide figures, no one's personal data.
        Supervisor = "supervisor",
    }
}

code_list! {
    /// What a flag on a file is: a security freeze (no new credit) or a fraud alert (verify the
    /// applicant's identity first).
    FlagKind {
        Freeze = "freeze",
        FraudAlert = "fraud_alert",
    }
}

code_list! {
    /// Where a dispute stands: with the furnisher, or answered.
    DisputeStatus {
        Open = "open",
        /// The furnisher found the data right as reported.
        Confirmed = "confirmed",
        /// The furnisher sent a corrected record.
        Corrected = "corrected",
    }
}

code_list! {
    /// Where a consent stands on a given day.
    ConsentStatus {
        Active = "active",
        Expired = "expired",
        Revoked = "revoked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for role in PrincipalRole::ALL {
            assert_eq!(role.as_str().parse::<PrincipalRole>(), Ok(*role));
        }
        assert_eq!("fraud_alert".parse::<FlagKind>(), Ok(FlagKind::FraudAlert));
        assert_eq!(serde_json::to_string(&DisputeStatus::Corrected).unwrap(), "\"corrected\"");
        assert!("admin".parse::<PrincipalRole>().is_err());
    }
}
