//! `drgdip tokens init`: a tokens file for `drgdip serve`, with a fresh random token
//! (256 bits from the operating system) for the bureau and for each hospital and reviewer
//! named — by default one example hospital (H001) and one reviewer (R1).
//!
//! The file is written readable by its owner only (on Unix) and checked by the same reader
//! as `drgdip serve` uses; an existing file is refused unless `--force` (then replaced
//! atomically). What to do next is printed; the tokens are not (they are in the file).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_server::contract;
use drgdip_server::Tokens;

#[derive(Debug, clap::Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokensCommand {
    /// Write a tokens file with fresh random tokens: the bureau, each --hospital, each
    /// --reviewer.
    Init(InitArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The file to write.
    #[arg(long, short, default_value = "tokens.toml")]
    pub output: PathBuf,
    /// A hospital to give a token (repeat the flag for more); default H001.
    #[arg(long = "hospital", value_name = "ID")]
    pub hospitals: Vec<String>,
    /// A reviewer (评审专家) to give a token (repeat the flag for more); default R1.
    #[arg(long = "reviewer", value_name = "ID")]
    pub reviewers: Vec<String>,
    /// The bureau's user in the audit log.
    #[arg(long, default_value = "bureau")]
    pub bureau_user: String,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: TokensArgs) -> Result<()> {
    match a.command {
        TokensCommand::Init(a) => init(a),
    }
}

/// 32 random bytes as 64 hexadecimal digits.
fn secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow!("no randomness from the system: {e}"))?;
    let mut hex = String::with_capacity(64);
    for b in bytes {
        let _ = write!(hex, "{b:02x}");
    }
    Ok(hex)
}

/// The ids of one role: the flags' (each an id the API accepts, each once), else `default`.
fn ids(flag: &str, given: &[String], default: &str) -> Result<Vec<String>> {
    if given.is_empty() {
        return Ok(vec![default.to_string()]);
    }
    let mut seen = BTreeSet::new();
    for id in given {
        if !contract::is_id(id) {
            bail!(
                "--{flag} {id:?}: expected an id of 1 to {} letters, digits, '_', '.' or '-', starting with a letter or digit",
                contract::ID_MAX
            );
        }
        if !seen.insert(id.as_str()) {
            bail!("--{flag} {id}: given twice");
        }
    }
    Ok(given.to_vec())
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file's text.
fn tokens_file(a: &InitArgs, hospitals: &[String], reviewers: &[String]) -> Result<String> {
    let mut t = String::new();
    t.push_str(
        "# drgdip tokens (made by `drgdip tokens init`): each bearer token maps to an actor in one\n\
         # role. KEEP THIS FILE SECRET. Format: docs/api.md, \"Tokens and roles\".\n",
    );
    let _ = write!(
        t,
        "\n[[token]]\ntoken = \"bureau-{}\"\nrole = \"bureau\"\nuser = {}\n",
        secret()?,
        toml_string(a.bureau_user.trim())
    );
    for h in hospitals {
        let _ = write!(
            t,
            "\n[[token]]\ntoken = \"hospital-{h}-{}\"\nrole = \"hospital\"\nhospital = \"{h}\"\n",
            secret()?
        );
    }
    for r in reviewers {
        let _ = write!(
            t,
            "\n[[token]]\ntoken = \"reviewer-{r}-{}\"\nrole = \"reviewer\"\nreviewer = \"{r}\"\n",
            secret()?
        );
    }
    Ok(t)
}

/// Writes `text` to `path` readable by its owner only; refuses an existing file unless
/// `force` (then writes beside it and renames over it).
fn write_secret_file(path: &Path, text: &str, force: bool) -> Result<()> {
    let open = |p: &Path| {
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o.open(p)
    };
    if !force {
        let mut f = open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow!(
                    "{} exists: not replaced (give --force to replace it with new tokens)",
                    path.display()
                )
            } else {
                anyhow!("cannot create {}: {e}", path.display())
            }
        })?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("--output {}: not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| -> Result<()> {
        let mut f = open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot replace {}", path.display()))?;
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn init(a: InitArgs) -> Result<()> {
    let hospitals = ids("hospital", &a.hospitals, "H001")?;
    let reviewers = ids("reviewer", &a.reviewers, "R1")?;
    if a.bureau_user.trim().is_empty() {
        bail!("--bureau-user: expected a name for the audit log");
    }
    let text = tokens_file(&a, &hospitals, &reviewers)?;
    // the server's own reader: what is written is what `drgdip serve` accepts
    let tokens = Tokens::from_toml_str(&text).map_err(|e| anyhow!("internal: {e}"))?;
    let (b, h, r) = tokens.counts();
    write_secret_file(&a.output, &text, a.force)?;
    let path = a.output.display();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "wrote {path}: {} tokens — the bureau (user {:?}), hospital {}, reviewer {}; readable by its owner only: keep it secret",
        b + h + r,
        a.bureau_user.trim(),
        hospitals.join(", hospital "),
        reviewers.join(", reviewer ")
    )?;
    writeln!(out, "start the API with it (README, \"The HTTP API\"):")?;
    writeln!(
        out,
        "  drgdip serve --tokens {path} --params PARAMS.toml --hospitals HOSPITALS.csv --weights weights.csv"
    )?;
    writeln!(out, "call it with one of its tokens, e.g. the bureau's:")?;
    writeln!(
        out,
        "  TOKEN=$(sed -n 's/^token = \"\\(bureau-[0-9a-f]*\\)\"$/\\1/p' {path})"
    )?;
    writeln!(
        out,
        "  curl -s http://127.0.0.1:8080/v1/whoami -H \"Authorization: Bearer $TOKEN\""
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_64_hex_digits_and_differ() {
        let (a, b) = (secret().unwrap(), secret().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_are_checked_and_given_once() {
        assert_eq!(ids("hospital", &[], "H001").unwrap(), ["H001"]);
        let two = ["H001".to_string(), "H002".to_string()];
        assert_eq!(ids("hospital", &two, "H001").unwrap(), two);
        let e = ids("hospital", &["H 1".into()], "H001").unwrap_err();
        assert!(e.to_string().starts_with("--hospital \"H 1\""), "{e}");
        let e = ids("reviewer", &["R1".into(), "R1".into()], "R1").unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn the_file_is_a_tokens_file_of_the_server() {
        let a = InitArgs {
            output: "x".into(),
            hospitals: vec![],
            reviewers: vec![],
            bureau_user: "li \"wei\"".into(),
            force: false,
        };
        let text = tokens_file(&a, &["H001".into(), "H002".into()], &["R1".into()]).unwrap();
        let t = Tokens::from_toml_str(&text).unwrap();
        assert_eq!(t.counts(), (1, 2, 1));
        assert!(t.is_reviewer("R1"));
        assert_eq!(t.hospitals().collect::<Vec<_>>(), ["H001", "H002"]);
    }
}
