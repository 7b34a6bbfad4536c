//! What the report and page benchmarks share: one subject's file of 10 accounts × 24 months.

use chrono::Datelike;
use registry_core::report::YearMonth;

pub const ID: &str = "11010519491231002X";

/// Ten accounts of one subject, each with a record for each of 24 months.
pub fn history_file() -> String {
    let mut lines = String::new();
    let first = YearMonth::parse("2024-11").unwrap();
    for account in 0..10 {
        for month in 0..24 {
            let as_of = first.plus(month).last_day();
            let (product, terms) = if account % 2 == 0 {
                ("credit_card", r#""credit_limit":800000"#.to_string())
            } else {
                ("installment_loan", r#""original_amount":500000,"term_months":36"#.to_string())
            };
            let status = if month % 7 == 3 {
                r#""status":"dpd30","past_due":1000,"first_delinquency":"2024-01-01""#
            } else {
                r#""status":"current","past_due":0"#
            };
            lines.push_str(&format!(
                r#"{{"account":"A{account}","as_of":"{as_of}","product":"{product}","opened":"2020-01-0{}","currency":"CNY",{terms},"balance":{},{status},"payment_history":"000000000000000000000000","subjects":[{{"role":"primary","id_type":"cn_rid","id":"{ID}","family_name":"Wang","given_name":"Fang","birth_date":"1949-12-31"}}]}}"#,
                1 + account % 9,
                200_000 + month * 100,
            ));
            lines.push('\n');
            let _ = as_of.day();
        }
    }
    lines
}
