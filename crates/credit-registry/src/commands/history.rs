//! `history`: every stored version of an account's records, corrections included.

use registry_service::ErrorCode;
use registry_service::audit::{Access, AccessAction};
use serde_json::json;

use crate::cli::HistoryArgs;
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, args: HistoryArgs) -> CommandResult {
    let registry = open_registry(config)?;
    // An account's records are personal data: the operator's read is logged, naming each person
    // on the account, before it is shown.
    let access = Access::command_line(AccessAction::DrillDown, Some(format!("history of a {} account", args.furnisher)));
    let versions =
        registry.account_history(&access, &args.furnisher, &args.account).map_err(Failure::not_found_as(ErrorCode::AccountNotFound))?;
    if args.json {
        let list: Vec<_> = versions
            .iter()
            .map(|v| json!({"record": v.facts, "submission_id": v.submission_id, "line": v.line, "replaced_by": v.replaced_by}))
            .collect();
        return print_json(&json!({"furnisher": args.furnisher, "account": args.account, "versions": list}));
    }
    println!("{} {}: {} stored versions", args.furnisher, args.account, versions.len());
    for v in &versions {
        let state = match &v.replaced_by {
            Some(by) => format!("replaced by {by}"),
            None => "current".to_string(),
        };
        println!(
            "  {}  {:<22} balance {:>14}  past due {:>12}  {} line {}  ({state})",
            v.facts.as_of,
            v.facts.status.as_str(),
            v.facts.balance.0,
            v.facts.past_due.0,
            v.submission_id,
            v.line
        );
    }
    Ok(())
}
