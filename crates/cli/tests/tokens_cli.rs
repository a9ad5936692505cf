//! `drgdip tokens init`: a tokens file that `drgdip serve` reads, with fresh tokens, never
//! overwritten without `--force`. Needs no shared data.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use drgdip_server::Tokens;

fn init(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(["tokens", "init"])
        .args(args)
        .output()
        .expect("run drgdip")
}

/// The tokens of a file, in order.
fn tokens_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("token = \""))
        .map(|t| t.trim_end_matches('"').to_string())
        .collect()
}

#[test]
fn tokens_init_writes_fresh_tokens_and_never_overwrites_without_force() {
    let dir = common::tempdir("tokens");
    let file = dir.join("tokens.toml");
    let f = file.to_str().unwrap();

    let out = init(&["--output", f]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("drgdip serve --tokens {f}")),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let tokens = Tokens::from_toml_str(&text).unwrap();
    assert_eq!(tokens.counts(), (1, 1, 1));
    assert!(tokens.is_reviewer("R1"));
    assert_eq!(tokens.hospitals().collect::<Vec<_>>(), ["H001"]);
    let first = tokens_of(&file);
    assert_eq!(first.len(), 3);
    for t in &first {
        assert!(t.len() >= 64 + 7, "{t}");
        assert!(!stdout.contains(t.as_str()), "a token was printed");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
    }
    // the line printed to read the bureau's token finds it
    assert!(
        stdout.contains("sed -n 's/^token = \"\\(bureau-[0-9a-f]*\\)\"$/\\1/p'"),
        "{stdout}"
    );
    assert!(first[0].starts_with("bureau-"));

    // again: refused, the file untouched
    let out = init(&["--output", f, "--hospital", "H002"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("exists") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // with --force: replaced, new tokens, the hospitals and reviewers asked for
    let out = init(&[
        "--output",
        f,
        "--force",
        "--hospital",
        "H001",
        "--hospital",
        "H002",
        "--reviewer",
        "E001",
        "--reviewer",
        "E002",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens = Tokens::from_toml_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(tokens.counts(), (1, 2, 2));
    assert!(tokens.is_reviewer("E002"));
    let second = tokens_of(&file);
    assert!(second.iter().all(|t| !first.contains(t)), "tokens reused");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "tokens.toml")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // an id the API would not accept
    let other = dir.join("other.toml");
    let out = init(&["--output", other.to_str().unwrap(), "--hospital", "医院 1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hospital \"医院 1\""));
    assert!(!other.exists());
}
