//! The code map's invariants that no type shows (ARCHITECTURE.md), checked over the source:
//! no module imports another in a circle; the domain crate does no I/O and reads no clock; only
//! the server knows HTTP; the store holds no cryptography that could open what it stores.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A crate's modules by path (`()` is the crate root), each with its source less comments and
/// in-file unit tests.
fn modules(crate_name: &str) -> BTreeMap<Vec<String>, String> {
    let src = crates_dir().join(crate_name).join("src");
    let mut found = BTreeMap::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let mut module: Vec<String> =
                path.strip_prefix(&src).unwrap().with_extension("").iter().map(|part| part.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("lib" | "main" | "mod")) {
                module.pop();
            }
            // A module's `tests.rs` is its unit tests.
            if module.last().is_some_and(|last| last == "tests") {
                continue;
            }
            found.insert(module, code_of(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    found
}

/// Source less line comments and the `#[cfg(test)] mod tests { … }` that ends a file.
fn code_of(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests {").next().unwrap();
    source.lines().map(|line| line.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// The `crate::…` and `super::…` paths a module names, each as the segments after its start
/// (`use super::{a::X, b}` gives `a::X` and `b`), with how many levels up it starts (`None`: the
/// crate root).
fn paths_named(code: &str) -> Vec<(Option<usize>, Vec<String>)> {
    let bytes = code.as_bytes();
    let mut named = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let word_start = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_' || bytes[at - 1] == b':');
        let rest = &code[at..];
        let start = if !word_start {
            None
        } else if rest.starts_with("crate::") {
            Some((None, "crate::".len()))
        } else if rest.starts_with("super::") {
            let mut levels = 0;
            let mut len = 0;
            while code[at + len..].starts_with("super::") {
                levels += 1;
                len += "super::".len();
            }
            Some((Some(levels), len))
        } else {
            None
        };
        match start {
            Some((levels, len)) => {
                let (tails, used) = use_tree(&code[at + len..]);
                named.extend(tails.into_iter().map(|tail| (levels, tail)));
                at += len + used.max(1);
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    named
}

/// The paths of a use tree or a plain path at the start of `text` (`a::b`, `a::{b, c::d}`), and
/// the bytes it spans.
fn use_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let ident_len = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    if ident_len > 0 {
        let head = text[..ident_len].to_owned();
        if text[ident_len..].starts_with("::") {
            let (tails, used) = use_tree(&text[ident_len + 2..]);
            let tails =
                if tails.is_empty() { vec![vec![head]] } else { tails.into_iter().map(|t| [vec![head.clone()], t].concat()).collect() };
            return (tails, ident_len + 2 + used);
        }
        return (vec![vec![head]], ident_len);
    }
    if !text.starts_with('{') {
        return (Vec::new(), 0);
    }
    let mut depth = 0;
    let mut end = text.len();
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    let inner = &text[1..end];
    let mut tails = Vec::new();
    let (mut depth, mut item_start) = (0, 0);
    for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                tails.extend(use_tree(inner[item_start..i].trim()).0);
                item_start = i + 1;
            }
            _ => {}
        }
    }
    (tails, end + 1)
}

/// Which modules each module imports, by the longest module path its `crate::`/`super::` paths
/// name. A module naming its own children is not counted: `pub use child::X` in an index file
/// re-exports, it does not depend.
fn import_graph(modules: &BTreeMap<Vec<String>, String>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut graph = BTreeMap::new();
    for (module, code) in modules {
        let mut imports = BTreeSet::new();
        for (levels, tail) in paths_named(code) {
            let base: Vec<String> = match levels {
                None => Vec::new(),
                Some(levels) => module[..module.len().saturating_sub(levels)].to_vec(),
            };
            let full = [base, tail].concat();
            let target = (0..=full.len()).rev().map(|n| full[..n].to_vec()).find(|candidate| modules.contains_key(candidate));
            if let Some(target) = target
                && target != *module
                && !target.starts_with(module)
            {
                imports.insert(target);
            }
        }
        graph.insert(module.clone(), imports);
    }
    graph
}

/// The modules on a circle of imports, if any: a module that reaches itself.
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<String> {
    let reaches = |from: &Vec<String>| {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&Vec<String>> = graph[from].iter().collect();
        while let Some(next) = pending.pop() {
            if seen.insert(next.clone()) {
                pending.extend(graph.get(next).into_iter().flatten());
            }
        }
        seen
    };
    graph.keys().filter(|module| reaches(module).contains(*module)).map(|module| module.join("/")).collect()
}

fn workspace_crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(crates_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("src").is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let mut found = Vec::new();
    for name in workspace_crates() {
        for module in circles(&import_graph(&modules(&name))) {
            found.push(format!("{name}: {module}"));
        }
    }
    assert!(found.is_empty(), "modules on a circle of imports (move what both use down into a module of its own): {found:#?}");
}

#[test]
fn the_circle_check_sees_a_circle() {
    let modules: BTreeMap<Vec<String>, String> = [
        (vec![], code_of("pub mod a;\npub mod b;\npub use a::Thing;")),
        (vec!["a".to_owned()], code_of("use super::b::{Other, self as bee};")),
        (vec!["b".to_owned()], code_of("use crate::{a::Thing, c};")),
    ]
    .into_iter()
    .collect();
    assert_eq!(circles(&import_graph(&modules)), ["a", "b"]);
    let mut broken = modules.clone();
    broken.insert(vec!["b".to_owned()], code_of("// use crate::a::Thing;"));
    assert!(circles(&import_graph(&broken)).is_empty());
}

#[test]
fn the_domain_crate_does_no_io_and_reads_no_clock() {
    let forbidden = ["std::fs", "std::net", "std::process", "std::env", "SystemTime", "Utc::now", "Local::now", "Instant::now", "File::"];
    let mut found = Vec::new();
    for (module, code) in modules("registry-core") {
        for word in forbidden {
            if code.contains(word) {
                found.push(format!("registry-core/{}: {word}", module.join("/")));
            }
        }
    }
    assert!(found.is_empty(), "registry-core is pure (callers pass files' bytes and today's date): {found:#?}");
}

fn dependencies(crate_name: &str) -> BTreeSet<String> {
    let manifest: toml::Table = std::fs::read_to_string(crates_dir().join(crate_name).join("Cargo.toml")).unwrap().parse().unwrap();
    manifest.get("dependencies").and_then(toml::Value::as_table).map(|table| table.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn only_the_server_knows_http_and_the_store_cannot_open_what_it_stores() {
    let http = ["axum", "hyper", "tower", "tower-http", "reqwest", "http"];
    for name in workspace_crates().iter().filter(|name| !matches!(name.as_str(), "registry-server" | "credit-registry" | "benches")) {
        let knows: Vec<_> = dependencies(name).into_iter().filter(|dep| http.contains(&dep.as_str())).collect();
        assert!(knows.is_empty(), "{name} depends on {knows:?}: HTTP belongs to registry-server");
    }
    let cryptography = ["aes-gcm", "aead-stream", "hmac", "ed25519-dalek", "chacha20poly1305"];
    let store = dependencies("registry-store");
    assert!(store.contains("rusqlite"), "the manifest was read: {store:?}");
    let held: Vec<_> = store.iter().filter(|dep| cryptography.contains(&dep.as_str())).collect();
    assert!(held.is_empty(), "registry-store depends on {held:?}: sealing and unsealing belong to the service's vault");
}
