//! Deliberately broken records, one kind per furnishing rule, so the demo and the tests see
//! every rejection the registry can give. Each kind names the error code it provokes.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use registry_core::model::Date;
use serde_json::{Value, json};

use crate::people::{make_cn_rid, some_region};

/// A way to break a record, and the rejection code it provokes.
#[derive(Clone, Copy, Debug)]
pub struct Corruption {
    pub code: &'static str,
    apply: fn(&mut Value, &mut ChaCha8Rng),
}

fn set(record: &mut Value, field: &str, value: Value) {
    record[field] = value;
}

fn remove(record: &mut Value, field: &str) {
    if let Some(object) = record.as_object_mut() {
        object.remove(field);
    }
}

fn as_of(record: &Value) -> Date {
    record["as_of"].as_str().and_then(|s| s.parse().ok()).unwrap_or_default()
}

fn balance(record: &Value) -> u64 {
    record["balance"].as_u64().unwrap_or(0)
}

fn primary(record: &mut Value) -> &mut Value {
    &mut record["subjects"][0]
}

/// Every kind; `line_too_long`, `duplicate_field`, `not_an_object` and `duplicate_record` are
/// textual and handled by `corrupt`.
pub const KINDS: &[Corruption] = &[
    Corruption {
        code: "unknown_field",
        apply: |r, _| {
            let b = r["balance"].clone();
            set(r, "balanse", b);
        },
    },
    Corruption { code: "missing_field", apply: |r, _| remove(r, "as_of") },
    Corruption {
        code: "wrong_type",
        apply: |r, _| {
            let b = balance(r).to_string();
            set(r, "balance", json!(b));
        },
    },
    Corruption { code: "invalid_value", apply: |r, _| set(r, "product", json!("payday_loan")) },
    Corruption { code: "invalid_length", apply: |r, _| set(r, "account", json!("")) },
    Corruption {
        code: "control_character",
        apply: |r, _| {
            let a = format!("{}\u{7}", r["account"].as_str().unwrap_or("A"));
            set(r, "account", json!(a));
        },
    },
    Corruption {
        code: "invalid_date",
        apply: |r, _| {
            let d = as_of(r);
            set(r, "opened", json!(format!("{}-02-30", chrono::Datelike::year(&d))));
        },
    },
    Corruption { code: "date_in_future", apply: |r, _| set(r, "as_of", json!("2099-12-31")) },
    Corruption {
        code: "date_order",
        apply: |r, _| {
            let d = as_of(r) + chrono::Duration::days(40);
            set(r, "opened", json!(d.to_string()));
        },
    },
    Corruption { code: "out_of_range", apply: |r, _| set(r, "balance", json!(-5)) },
    Corruption { code: "invalid_currency", apply: |r, _| set(r, "currency", json!("CNX")) },
    Corruption {
        code: "invalid_country",
        apply: |r, _| primary(r)["address"] = json!({"line1": "1 Main St", "city": "Nowhere", "country": "XX"}),
    },
    Corruption { code: "invalid_phone", apply: |r, _| primary(r)["phone"] = json!("138-0013-8000") },
    Corruption { code: "invalid_payment_history", apply: |r, _| set(r, "payment_history", json!("00X0")) },
    Corruption { code: "invalid_institution", apply: |r, _| set(r, "funding", json!([{"institution": "bank harbor", "share_bp": 10000}])) },
    Corruption {
        code: "invalid_identifier",
        apply: |r, _| {
            primary(r)["id_type"] = json!("cn_rid");
            primary(r)["id"] = json!("12345");
        },
    },
    Corruption {
        code: "identifier_checksum",
        apply: |r, rng| {
            let region = some_region(rng);
            let birth: Date = "1985-05-05".parse().expect("a date");
            let mut id = make_cn_rid(region, birth, 123);
            let wrong = if id.ends_with('0') { '1' } else { '0' };
            id.pop();
            id.push(wrong);
            let p = primary(r);
            p["id_type"] = json!("cn_rid");
            p["id"] = json!(id);
            p["birth_date"] = json!("1985-05-05");
        },
    },
    Corruption {
        code: "identifier_birth_date_mismatch",
        apply: |r, rng| {
            let region = some_region(rng);
            let birth: Date = "1980-03-04".parse().expect("a date");
            let p = primary(r);
            p["id_type"] = json!("cn_rid");
            p["id"] = json!(make_cn_rid(region, birth, 7));
            p["birth_date"] = json!("1980-03-05");
        },
    },
    Corruption { code: "birth_date_required", apply: |r, _| remove(primary(r), "birth_date") },
    Corruption {
        code: "age_out_of_range",
        apply: |r, rng| {
            let birth = as_of(r) - chrono::Duration::days(10 * 365);
            let id = make_cn_rid(some_region(rng), birth, 11);
            let p = primary(r);
            p["id_type"] = json!("cn_rid");
            p["id"] = json!(id);
            p["birth_date"] = json!(birth.to_string());
        },
    },
    Corruption { code: "subject_count", apply: |r, _| set(r, "subjects", json!([])) },
    Corruption { code: "primary_count", apply: |r, _| primary(r)["role"] = json!("joint") },
    Corruption {
        code: "past_due_exceeds_balance",
        apply: |r, _| {
            let b = balance(r);
            set(r, "past_due", json!(b + 100));
        },
    },
    Corruption {
        code: "balance_not_zero",
        apply: |r, _| {
            let b = balance(r).max(100);
            let d = as_of(r).to_string();
            set(r, "status", json!("paid"));
            set(r, "balance", json!(b));
            set(r, "past_due", json!(0));
            set(r, "closed", json!(d));
        },
    },
    Corruption {
        code: "past_due_not_zero",
        apply: |r, _| {
            let b = balance(r).max(100);
            remove(r, "closed");
            set(r, "status", json!("current"));
            set(r, "balance", json!(b));
            set(r, "past_due", json!(100));
        },
    },
    Corruption {
        code: "past_due_required",
        apply: |r, _| {
            let d = as_of(r).to_string();
            remove(r, "closed");
            set(r, "status", json!("dpd30"));
            set(r, "past_due", json!(0));
            set(r, "first_delinquency", json!(d));
        },
    },
    Corruption {
        code: "first_delinquency_required",
        apply: |r, _| {
            let b = balance(r).max(100);
            remove(r, "closed");
            remove(r, "first_delinquency");
            set(r, "status", json!("dpd60"));
            set(r, "balance", json!(b));
            set(r, "past_due", json!(100));
        },
    },
    Corruption {
        code: "credit_limit_required",
        apply: |r, _| {
            set(r, "product", json!("credit_card"));
            remove(r, "credit_limit");
        },
    },
    Corruption {
        code: "original_amount_required",
        apply: |r, _| {
            set(r, "product", json!("installment_loan"));
            set(r, "term_months", json!(12));
            remove(r, "original_amount");
        },
    },
    Corruption {
        code: "term_months_required",
        apply: |r, _| {
            let b = balance(r);
            set(r, "product", json!("installment_loan"));
            set(r, "original_amount", json!(b + 1000));
            remove(r, "term_months");
        },
    },
    Corruption {
        code: "closed_with_open_status",
        apply: |r, _| {
            let opened = r["opened"].clone();
            set(r, "status", json!("current"));
            set(r, "past_due", json!(0));
            set(r, "closed", opened);
        },
    },
    Corruption {
        code: "funding_total",
        apply: |r, _| {
            set(r, "funding", json!([{"institution": "payplat", "share_bp": 3000}, {"institution": "bank-jade", "share_bp": 6000}]));
        },
    },
    Corruption {
        code: "too_many_errors",
        apply: |r, _| {
            for i in 0..120 {
                set(r, &format!("stray_{i}"), json!(i));
            }
        },
    },
    Corruption {
        code: "duplicate_funder",
        apply: |r, _| {
            set(r, "funding", json!([{"institution": "bank-jade", "share_bp": 5000}, {"institution": "bank-jade", "share_bp": 5000}]));
        },
    },
];

/// Kinds that work on the text rather than on the JSON value.
pub const TEXTUAL_KINDS: &[&str] = &["duplicate_field", "not_an_object", "duplicate_record", "line_too_long"];

/// Breaks `line` (a valid record) in a way picked at random; returns the code it provokes and
/// the lines to write instead (two for a repeated key). `long_line_allowed` is false once a
/// file has had its one over-long line (they are a megabyte each).
pub fn corrupt(line: &str, long_line_allowed: bool, rng: &mut ChaCha8Rng) -> (&'static str, Vec<String>) {
    let kinds = KINDS.len() + TEXTUAL_KINDS.len();
    let pick = rng.random_range(0..kinds);
    if pick >= KINDS.len() {
        let code = TEXTUAL_KINDS[pick - KINDS.len()];
        let lines = match code {
            "duplicate_field" => vec![line.replacen("\"product\":", "\"product\":\"other\",\"product\":", 1)],
            "not_an_object" => vec!["[\"this line is not an object\"]".to_string()],
            "duplicate_record" => vec![line.to_string(), line.to_string()],
            _ if long_line_allowed => {
                let mut long = line.trim_end_matches('}').to_string();
                long.push_str(&format!(",\"special_comment\":\"{}\"}}", "X".repeat(1_100_000)));
                vec![long]
            }
            // One over-long line per file is enough; break the record another way.
            _ => return corrupt(line, false, rng),
        };
        return (code, lines);
    }
    let kind = KINDS[pick];
    let mut value: Value = serde_json::from_str(line).expect("generated lines are JSON");
    (kind.apply)(&mut value, rng);
    (kind.code, vec![value.to_string()])
}
