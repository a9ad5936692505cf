//! Makes a large case file by repeating the rows of a small one with fresh case ids, for the
//! end-to-end benchmark: `cargo run --release -p drgdip-io --example repeat -- IN OUT ROWS`.

use std::io::{BufRead, BufWriter, Write};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output, rows] = args.as_slice() else {
        eprintln!("usage: repeat IN OUT ROWS");
        std::process::exit(2);
    };
    let rows: usize = rows.parse().unwrap_or(1_000_000);
    let text = std::io::BufReader::new(std::fs::File::open(input)?);
    let mut lines = text.lines();
    let header = lines.next().transpose()?.unwrap_or_default();
    let body: Vec<String> = lines.collect::<Result<_, _>>()?;
    let mut out = BufWriter::new(std::fs::File::create(output)?);
    writeln!(out, "{header}")?;
    for i in 0..rows {
        let l = &body[i % body.len()];
        let rest = l.find(',').map_or("", |p| &l[p..]);
        writeln!(out, "B{i:08}{rest}")?;
    }
    out.flush()
}
