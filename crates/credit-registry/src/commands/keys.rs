//! `keys` (create, list, revoke API keys), `audit` (verify the access log, show its head) and
//! `retention run`: the governance commands.

use registry_core::model::IdType;
use registry_service::ErrorCode;
use registry_service::keys::PrincipalRole;
use serde_json::json;

use crate::cli::{AuditCommand, KeysCommand, RetentionCommand};
use crate::commands::{open_registry, print_json};
use crate::config::Config;
use crate::failure::{CommandResult, Failure};

pub fn run(config: &Config, command: KeysCommand) -> CommandResult {
    match command {
        KeysCommand::Create { role, name, subject, json } => {
            let role: PrincipalRole = role
                .parse()
                .map_err(|()| Failure::usage(format!("{role:?} is not a role (operator, furnisher, lender, consumer, supervisor)")))?;
            let subject = subject
                .as_deref()
                .map(|text| {
                    let (id_type, id) =
                        text.split_once(':').ok_or_else(|| Failure::usage("--subject is ID_TYPE:ID, like cn_rid:11010519491231002X"))?;
                    let id_type: IdType = id_type.parse().map_err(|()| Failure::usage(format!("{id_type:?} is not an id type")))?;
                    Ok::<_, Failure>((id_type, id.to_owned()))
                })
                .transpose()?;
            let registry = open_registry(config)?;
            let created = registry.create_key(role, &name, subject.as_ref().map(|(t, id)| (*t, id.as_str())))?;
            if json {
                print_json(&created)
            } else {
                println!("{}", created.key);
                eprintln!(
                    "created {} key {} for {:?}; it is shown this once: give it to its holder, who sends it as `Authorization: Bearer KEY`",
                    created.info.role, created.info.key_id, created.info.name
                );
                Ok(())
            }
        }
        KeysCommand::List { json } => {
            let keys = open_registry(config)?.keys()?;
            if json {
                return print_json(&json!({ "keys": keys }));
            }
            for key in keys {
                let status = key.revoked_at.map_or("active".to_string(), |at| format!("revoked {at}"));
                let subject = key.subject.map(|s| format!(" {s}")).unwrap_or_default();
                println!("{}  {:<10} {}{}  created {}  {status}", key.key_id, key.role, key.name, subject, key.created_at);
            }
            Ok(())
        }
        KeysCommand::Revoke { key_id, json } => {
            open_registry(config)?.revoke_key(&key_id)?;
            if json {
                print_json(&json!({ "revoked": key_id }))
            } else {
                eprintln!("revoked key {key_id}");
                Ok(())
            }
        }
    }
}

pub fn audit(config: &Config, command: AuditCommand) -> CommandResult {
    let registry = open_registry(config)?;
    match command {
        AuditCommand::Verify { json } => match registry.verify_log()? {
            Ok(verified) => {
                if json {
                    print_json(
                        &json!({ "status": "verified", "entries": verified.entries, "tree_heads": verified.tree_heads, "root": verified.root }),
                    )
                } else {
                    println!(
                        "access log verified: {} entries, {} signed tree heads, root {}",
                        verified.entries,
                        verified.tree_heads,
                        verified.root.as_deref().unwrap_or("(empty)")
                    );
                    Ok(())
                }
            }
            // With --json, the error document carries it: {"error": {"code": "log_tampered", …}}.
            Err(fault) => Err(Failure::new(ErrorCode::LogTampered, format!("access log entry {}: {}", fault.seq, fault.problem))),
        },
        AuditCommand::Head => match registry.tree_head(None)? {
            Some(head) => print_json(&head),
            None => print_json(&json!({ "size": 0, "public_key": registry.log_public_key() })),
        },
    }
}

pub fn retention(config: &Config, command: RetentionCommand) -> CommandResult {
    let RetentionCommand::Run { json } = command;
    let registry = open_registry(config)?;
    let outcome = registry.run_retention()?;
    if json {
        return print_json(&outcome);
    }
    println!(
        "retention ({}): {} accounts examined, {} deleted ({} records), each recorded in the access log",
        registry.profile().id,
        outcome.accounts_examined,
        outcome.accounts_purged,
        outcome.records_purged
    );
    Ok(())
}
