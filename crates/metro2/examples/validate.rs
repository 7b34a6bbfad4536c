//! Validates Metro 2 files and prints every problem: `cargo run -p metro2 --example validate
//! -- [--lenient] [--threads=N] FILE...`.

fn main() {
    let mut mode = metro2::Mode::Strict;
    let mut threads = 1;
    for arg in std::env::args().skip(1) {
        if arg == "--lenient" {
            mode = metro2::Mode::Lenient;
            continue;
        }
        if let Some(n) = arg.strip_prefix("--threads=") {
            threads = n.parse().expect("--threads=N");
            continue;
        }
        let file = match std::fs::File::open(&arg) {
            Ok(file) => file,
            Err(e) => {
                eprintln!("{arg}: {e}");
                continue;
            }
        };
        println!("== {arg}");
        match metro2::validate_parallel(file, mode, threads, |problem| println!("  {problem}")) {
            Ok(summary) => println!("  {summary:?}"),
            Err(e) => println!("  {arg}: {e}"),
        }
    }
}
