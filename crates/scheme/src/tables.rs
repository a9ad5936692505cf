//! Parsing of the table files (`CODE NAME` lines under Chinese headers) into header-labelled
//! code lists. Knows the header vocabulary of the CHS-DRG tables; nothing else.

use crate::SchemeError;

/// Whether a token is a diagnosis (`K86.102`) or procedure (`07.7202`) code.
pub fn is_code_token(tok: &str) -> bool {
    let b = tok.as_bytes();
    let dx = b.len() >= 4
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && b[3] == b'.';
    let px = b.len() >= 3 && b[0].is_ascii_digit() && b[1].is_ascii_digit() && b[2] == b'.';
    dx || px
}

/// The kind of a list header in an ADRG file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// 主要诊断
    Pdx,
    /// 主要手术或操作
    Ppx,
    /// 其他诊断
    Odx,
    /// 主要诊断或其他诊断
    Adx,
    /// 手术或操作 (any position)
    Px,
    /// "or" other diagnoses (WR2's base file); only in files superseded by split files
    AltOdx,
    /// 包含全部手术或操作: the principal procedure is valid (no list)
    ValidPpx,
    /// 且无手术或操作: the principal procedure is not valid (no list)
    NoValidPpx,
    /// 入组条件 lines: descriptions without codes
    Description,
}

impl HeaderKind {
    /// The short name used in manifests (`PDX`, `PPX`, …).
    pub fn short(self) -> &'static str {
        match self {
            HeaderKind::Pdx => "PDX",
            HeaderKind::Ppx => "PPX",
            HeaderKind::Odx => "ODX",
            HeaderKind::Adx => "ADX",
            HeaderKind::Px => "PX",
            HeaderKind::AltOdx => "ALT_ODX",
            HeaderKind::ValidPpx => "VPX",
            HeaderKind::NoValidPpx => "NO_VPX",
            HeaderKind::Description => "DESC",
        }
    }
}

/// Classifies an ADRG-file header line (spaces ignored); `None` if it is not a known header.
pub fn classify_header(line: &str) -> Option<HeaderKind> {
    let h: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let h = h.as_str();
    Some(
        if h.starts_with("入组条件") || h.starts_with("或入组条件") {
            HeaderKind::Description
        } else if h.contains("主要诊断或其他诊断") {
            HeaderKind::Adx
        } else if h.starts_with("或包含以下其他诊断") {
            HeaderKind::AltOdx
        } else if h.contains("全部手术或操作") || h.contains("的所有主要手术或操作")
        {
            // 包含全部手术或操作; WJ1's "包含 WB1、WB2、WB3 的所有主要手术或操作" (read as "has a valid
            // principal procedure", see docs/divergences.md)
            HeaderKind::ValidPpx
        } else if h.contains("无手术或操作") {
            HeaderKind::NoValidPpx
        } else if h.starts_with("包含以下主要诊断") || h.starts_with("主要诊断") {
            HeaderKind::Pdx
        } else if h.starts_with("包含以下主要手术或操作") || h.starts_with("主要手术或操作")
        {
            HeaderKind::Ppx
        } else if h.starts_with("包含以下其他诊断") || h.starts_with("其他诊断") {
            HeaderKind::Odx
        } else if h.starts_with("同时包含以下手术或操作")
            || h.starts_with("包含以下手术或操作")
            || h.starts_with("手术或操作")
            || h == "和"
        {
            HeaderKind::Px
        } else {
            return None;
        },
    )
}

/// One header and the codes under it.
#[derive(Debug, Clone)]
pub struct RawList {
    pub header: String,
    pub kind: HeaderKind,
    /// (line number, code)
    pub codes: Vec<(usize, String)>,
}

/// Parses an ADRG condition file into its lists.
pub fn parse_adrg_file(file: &str, text: &str) -> Result<Vec<RawList>, SchemeError> {
    let mut lists: Vec<RawList> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if is_code_token(first) {
            let Some(cur) = lists.last_mut() else {
                return Err(SchemeError::Line {
                    file: file.into(),
                    line: i + 1,
                    message: format!("code {first:?} before any header"),
                });
            };
            if cur.kind == HeaderKind::Description {
                return Err(SchemeError::Line {
                    file: file.into(),
                    line: i + 1,
                    message: format!("code {first:?} under a description line"),
                });
            }
            cur.codes.push((i + 1, first.to_string()));
        } else {
            let kind = classify_header(line).ok_or_else(|| SchemeError::Line {
                file: file.into(),
                line: i + 1,
                message: format!("neither a known header nor `CODE NAME`: {line:?}"),
            })?;
            lists.push(RawList {
                header: line.to_string(),
                kind,
                codes: Vec::new(),
            });
        }
    }
    Ok(lists)
}

/// Parses a plain list file: `CODE NAME` lines, other lines are headers. With `skip_first`,
/// the first line is a header even if it looks like a code. Returns (line, code) pairs and the
/// headers seen.
pub fn parse_code_lines(
    file: &str,
    text: &str,
    skip_first: bool,
) -> Result<Vec<(usize, String, String)>, SchemeError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if skip_first && i == 0 {
            continue;
        }
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if is_code_token(first) {
            out.push((i + 1, first.to_string(), rest.trim().to_string()));
        } else if first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && first.contains('.')
        {
            return Err(SchemeError::Line {
                file: file.into(),
                line: i + 1,
                message: format!("malformed code {first:?}"),
            });
        } else {
            // a header line: carries no code
            out.push((i + 1, String::new(), line.to_string()));
        }
    }
    Ok(out)
}

/// Parses a `CODE NAME` or `CODE NUMBER` table into (line, code, rest); every non-empty line
/// must be a code line (no headers), except a first header line when `skip_first`.
pub fn parse_strict(
    file: &str,
    text: &str,
    skip_first: bool,
) -> Result<Vec<(usize, String, String)>, SchemeError> {
    let rows = parse_code_lines(file, text, skip_first)?;
    if let Some((line, _, text)) = rows.iter().find(|r| r.1.is_empty()) {
        return Err(SchemeError::Line {
            file: file.into(),
            line: *line,
            message: format!("expected `CODE VALUE`, found {text:?}"),
        });
    }
    Ok(rows)
}

/// Parses a `CODE NAME` table whose codes are scheme codes (`MDCB`, `AA1`, `AA19`): every
/// non-empty line is a row.
pub fn parse_name_table(
    file: &str,
    text: &str,
) -> Result<Vec<(usize, String, String)>, SchemeError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r').trim();
        if line.is_empty() {
            continue;
        }
        let (code, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(SchemeError::Line {
                file: file.into(),
                line: i + 1,
                message: format!("expected `CODE NAME`, found {line:?}"),
            });
        }
        out.push((i + 1, code.to_string(), name.trim().to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_of_the_tables_are_classified() {
        use HeaderKind::*;
        for (h, k) in [
            ("包含以下主要诊断：", Pdx),
            ("主要诊断 2：", Pdx),
            ("包含以下主要手术或操作：", Ppx),
            ("主要手术或操作 1：", Ppx),
            ("其他诊断：", Odx),
            ("包含以下其他诊断：", Odx),
            ("包含以下主要诊断或其他诊断：", Adx),
            ("同时包含以下手术或操作：", Px),
            ("和", Px),
            ("手术或操作 3：", Px),
            ("包含全部手术或操作", ValidPpx),
            ("包含 WB1、WB2、WB3 的所有主要手术或操作", ValidPpx),
            ("符合 MDCZ 诊断表，且无手术或操作", NoValidPpx),
            ("或包含以下其他诊断：", AltOdx),
            (
                "入组条件：（主要诊断或其他诊断）+主要手术或操作",
                Description,
            ),
            ("或入组条件 2：主要诊断+手术或操作 1", Description),
        ] {
            assert_eq!(classify_header(h), Some(k), "{h}");
        }
        assert_eq!(classify_header("随便什么"), None);
    }

    #[test]
    fn an_adrg_file_becomes_lists_and_a_glued_line_is_an_error() {
        let l = parse_adrg_file(
            "AC1.dat",
            "同时包含以下手术或操作：\n52.8000 胰腺移植\n和\n55.6100 肾自体移植术\n55.6901 肾异体移植术",
        )
        .unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].codes.len(), 2);
        let e = parse_adrg_file("X.dat", "主要诊断：\nK86.100 a\n胡乱 一行\n").unwrap_err();
        assert!(e.to_string().contains("X.dat:3"), "{e}");
        let e = parse_adrg_file("X.dat", "K86.100 a\n").unwrap_err();
        assert!(e.to_string().contains("before any header"));
    }

    #[test]
    fn codes_are_recognised() {
        assert!(is_code_token("K86.102"));
        assert!(is_code_token("A02.201+J17.0*"));
        assert!(is_code_token("07.7202"));
        assert!(is_code_token("17.922A0"));
        assert!(!is_code_token("CB4A"));
        assert!(!is_code_token("包含"));
    }
}
