//! Validates Metro 2 files and prints every problem: `cargo run -p metro2 --example validate
//! -- [--lenient] FILE...`.

fn main() {
    let mut mode = metro2::Mode::Strict;
    for arg in std::env::args().skip(1) {
        if arg == "--lenient" {
            mode = metro2::Mode::Lenient;
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
        match metro2::validate(file, mode, |problem| println!("  {problem}")) {
            Ok(summary) => println!("  {summary:?}"),
            Err(e) => println!("  {arg}: {e}"),
        }
    }
}
