//! What the API accepts, stated once: the patterns and limits that the OpenAPI document
//! publishes ([`crate::openapi`]) are the ones the handlers check here, so that a value the
//! document allows is never refused for its form, and one it does not allow is a 400 naming
//! the field. (What depends on the data — an unknown case, a reviewer not in the tokens
//! file, a state that does not allow the step — is 403, 404, 409 or 422, as the document
//! says for each operation.)
//!
//! The patterns are written so that ECMA-262 (the document's dialect), Python's `re`
//! (schemathesis) and Rust's `regex` (the server) read them alike: ASCII classes, explicit
//! `\uXXXX` code points, anchors only at the ends.

use std::sync::LazyLock;

use drgdip_pay::params::ReviewPeriod;
use regex::Regex;

use crate::error::ApiError;

/// A hospital or reviewer id: a letter or digit, then up to 31 letters, digits, `_`, `.`,
/// `-` (`H001`, `R1`, `E001`).
pub const ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$";
/// The longest hospital or reviewer id.
pub const ID_MAX: usize = 32;
/// A case id (病案号) in a special-case application or review: 1–64 visible ASCII
/// characters, no space.
pub const CASE_ID_PATTERN: &str = "^[!-~]{1,64}$";
/// The longest case id.
pub const CASE_ID_MAX: usize = 64;
/// An application id, as the store issues them (`SC-000001`).
pub const APPLICATION_ID_PATTERN: &str = "^SC-[0-9]{6,12}$";
/// The longest application id.
pub const APPLICATION_ID_MAX: usize = 15;
/// A month `YYYY-MM` (years 1000–9999).
pub const MONTH_PATTERN: &str = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$";
/// A quarter `YYYYQn`.
pub const QUARTER_PATTERN: &str = "^[1-9][0-9]{3}Q[1-4]$";
/// A half-year `YYYYH1` or `YYYYH2`.
pub const HALF_YEAR_PATTERN: &str = "^[1-9][0-9]{3}H[12]$";
/// A year `YYYY`.
pub const YEAR_PATTERN: &str = "^[1-9][0-9]{3}$";
/// Any review period: a month, quarter, half-year or year.
pub const PERIOD_PATTERN: &str = "^[1-9][0-9]{3}(-(0[1-9]|1[0-2])|Q[1-4]|H[12])?$";
/// Text with at least one character that is not white space (Unicode `White_Space`, as
/// Rust's `char::is_whitespace` and `str::trim` see it).
pub const NON_BLANK_PATTERN: &str =
    "[^\\t-\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";
/// The longest free text (an application's reason in words, a review's or a withdrawal's
/// reason), in characters.
pub const TEXT_MAX: usize = 2000;
/// Extra points approved for a case: a decimal number greater than zero, digits and at most
/// one point (`35`, `12.5`).
pub const POINTS_PATTERN: &str = "^([0-9]*[1-9][0-9]*(\\.[0-9]+)?|[0-9]+\\.[0-9]*[1-9][0-9]*)$";
/// The longest points text.
pub const POINTS_MAX: usize = 20;
/// The most cases in one application, or opinions in one review.
pub const CASES_MAX: usize = 1000;
/// A case's token in a special-case application (`SC-000001-01`): the application's id
/// and the case's number in it; what reviewers see and name instead of the case id.
pub const TOKEN_PATTERN: &str = "^SC-[0-9]{6,12}-[0-9]{2,4}$";
/// The longest token.
pub const TOKEN_MAX: usize = 20;
/// The seed of a spot-check draw, as text: 1 to 18 digits.
pub const SEED_PATTERN: &str = "^[0-9]{1,18}$";
/// The longest `records` text of a submission (the case rows), in characters.
pub const RECORDS_MAX: usize = 1_000_000;

/// The columns a settlement's case file must have: those grouping needs and those paying
/// needs (`drgdip_io`: `case_id`, `gender`, `age`, `diagnoses`; `total_cost`, `fund_paid`).
pub fn case_file_required() -> Vec<&'static str> {
    let mut v = vec!["case_id", "gender", "age", "diagnoses"];
    v.extend_from_slice(drgdip_io::Purpose::Pay.cost_columns());
    v
}

/// What the document states of a settlement's case file: a header of the case file's
/// columns in their order (`drgdip_io::COLUMNS`, as the shared data writes them), the
/// required ones present ([`case_file_required`]), then any rows (a row that cannot be
/// read is a problem of the answer, not a refusal). The server reads more than this — any
/// order, other columns ignored, names trimmed and case-insensitive — but a header without a
/// required column is a 400.
pub fn case_file_pattern() -> String {
    let required = case_file_required();
    let mut p = String::from("^");
    for (i, c) in drgdip_io::COLUMNS.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        if required.contains(c) {
            p.push_str(&format!("{sep}{c}"));
        } else {
            p.push_str(&format!("({sep}{c})?"));
        }
    }
    p.push_str("(\\r?\\n[\\s\\S]*)?$");
    p
}

fn compiled(pattern: &'static str) -> Regex {
    // the patterns are constants of this file, compiled by its tests
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("{pattern}: {e}"))
}

static ID: LazyLock<Regex> = LazyLock::new(|| compiled(ID_PATTERN));
static CASE_ID: LazyLock<Regex> = LazyLock::new(|| compiled(CASE_ID_PATTERN));
static MONTH: LazyLock<Regex> = LazyLock::new(|| compiled(MONTH_PATTERN));
static PERIOD: LazyLock<Regex> = LazyLock::new(|| compiled(PERIOD_PATTERN));
static POINTS: LazyLock<Regex> = LazyLock::new(|| compiled(POINTS_PATTERN));
static QUARTER: LazyLock<Regex> = LazyLock::new(|| compiled(QUARTER_PATTERN));
static HALF_YEAR: LazyLock<Regex> = LazyLock::new(|| compiled(HALF_YEAR_PATTERN));
static YEAR: LazyLock<Regex> = LazyLock::new(|| compiled(YEAR_PATTERN));
static TOKEN: LazyLock<Regex> = LazyLock::new(|| compiled(TOKEN_PATTERN));
static SEED: LazyLock<Regex> = LazyLock::new(|| compiled(SEED_PATTERN));

/// The pattern of a review period of `kind`.
pub fn period_pattern(kind: ReviewPeriod) -> &'static str {
    match kind {
        ReviewPeriod::Month => MONTH_PATTERN,
        ReviewPeriod::Quarter => QUARTER_PATTERN,
        ReviewPeriod::HalfYear => HALF_YEAR_PATTERN,
        ReviewPeriod::Year => YEAR_PATTERN,
    }
}

/// A review period of `kind` (`special_case.review_period`), or 400 naming `field`.
pub fn check_period_of(field: &str, value: &str, kind: ReviewPeriod) -> Result<(), ApiError> {
    let (re, example): (&Regex, &str) = match kind {
        ReviewPeriod::Month => (&MONTH, "2025-06"),
        ReviewPeriod::Quarter => (&QUARTER, "2025Q2"),
        ReviewPeriod::HalfYear => (&HALF_YEAR, "2025H1"),
        ReviewPeriod::Year => (&YEAR, "2025"),
    };
    if re.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!(
                "{field} {value:?}: expected a {} period (special_case.review_period) such as {example}",
                kind.as_str()
            ),
        ))
    }
}

/// Whether `id` is a hospital or reviewer id ([`ID_PATTERN`]).
pub fn is_id(id: &str) -> bool {
    ID.is_match(id)
}

/// Whether `text` has a character that is not white space.
pub fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A hospital or reviewer id, or 400 naming `field`.
pub fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if is_id(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!(
                "{field} {value:?}: expected an id of 1 to {ID_MAX} letters, digits, '_', '.' or '-', starting with a letter or digit"
            ),
        ))
    }
}

/// A case id, or 400 naming `field`.
pub fn check_case_id(field: &str, value: &str) -> Result<(), ApiError> {
    if CASE_ID.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a case id of 1 to {CASE_ID_MAX} visible ASCII characters without spaces"),
        ))
    }
}

/// A case's token, or 400 naming `field`.
pub fn check_token(field: &str, value: &str) -> Result<(), ApiError> {
    if TOKEN.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a case token such as SC-000001-01 (reviewers name the cases by their tokens)"),
        ))
    }
}

/// A spot-check seed ([`SEED_PATTERN`]), or 400 naming `field`.
pub fn check_seed(field: &str, value: &str) -> Result<u64, ApiError> {
    SEED.is_match(value)
        .then(|| value.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            ApiError::bad_request(
                field,
                format!(
                    "{field} {value:?}: expected a seed of 1 to 18 digits such as \"20250701\""
                ),
            )
        })
}

/// A half-year `YYYYH1` or `YYYYH2`, or 400 naming `field`.
pub fn check_half(field: &str, value: &str) -> Result<(), ApiError> {
    if HALF_YEAR.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a half-year such as 2025H1"),
        ))
    }
}

/// The case rows of a submission: not blank, at most [`RECORDS_MAX`] characters.
pub fn check_records(field: &str, value: &str) -> Result<(), ApiError> {
    if is_blank(value) {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: expected the case file's header and the rows of the cases"),
        ));
    }
    let n = value.chars().count();
    if n > RECORDS_MAX {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: {n} characters, at most {RECORDS_MAX}"),
        ));
    }
    Ok(())
}

/// A month `YYYY-MM`, or 400 naming `field`.
pub fn check_month(field: &str, value: &str) -> Result<(), ApiError> {
    if MONTH.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a month YYYY-MM such as 2025-06"),
        ))
    }
}

/// A year `YYYY`, or 400 naming `field`.
pub fn check_year(field: &str, value: &str) -> Result<(), ApiError> {
    if YEAR.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a year YYYY such as 2025"),
        ))
    }
}

/// A flag `true` or `false`, or 400 naming `field`.
pub fn check_flag(field: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected true or false"),
        )),
    }
}

/// A review period of any kind, or 400 naming `field`.
pub fn check_period(field: &str, value: &str) -> Result<(), ApiError> {
    if PERIOD.is_match(value) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            field,
            format!("{field} {value:?}: expected a review period such as 2025-06, 2025Q2, 2025H1 or 2025"),
        ))
    }
}

/// Free text: not blank, at most [`TEXT_MAX`] characters; or 400 naming `field`.
pub fn check_text(field: &str, value: &str) -> Result<(), ApiError> {
    if is_blank(value) {
        return Err(ApiError::bad_request(
            field,
            format!(
                "{field}: expected text, found {}",
                if value.is_empty() {
                    "none"
                } else {
                    "only white space"
                }
            ),
        ));
    }
    let n = value.chars().count();
    if n > TEXT_MAX {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: {n} characters, at most {TEXT_MAX}"),
        ));
    }
    Ok(())
}

/// A list of at least one and at most [`CASES_MAX`] items, or 400 naming `field`.
pub fn check_count(field: &str, n: usize) -> Result<(), ApiError> {
    if n == 0 {
        Err(ApiError::bad_request(
            field,
            format!("{field}: expected at least one"),
        ))
    } else if n > CASES_MAX {
        Err(ApiError::bad_request(
            field,
            format!("{field}: {n} items, at most {CASES_MAX}"),
        ))
    } else {
        Ok(())
    }
}

/// Whether `text` is extra points as the document states them ([`POINTS_PATTERN`], at
/// most [`POINTS_MAX`] characters).
pub fn is_points(text: &str) -> bool {
    text.len() <= POINTS_MAX && POINTS.is_match(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    #[test]
    fn the_case_file_pattern_takes_the_shared_header_and_not_one_the_reader_refuses() {
        let re = Regex::new(&case_file_pattern()).unwrap();
        let full = drgdip_io::COLUMNS.join(",");
        assert!(re.is_match(&format!("{full}\n")));
        assert!(re.is_match(&format!("{full}\r\nC1,H001,,1,40,,,,,,,C71.003\n")));
        assert!(re.is_match("case_id,gender,age,diagnoses,total_cost,fund_paid"));
        let read = |header: &str| {
            let options = drgdip_io::ReadOptions {
                purpose: drgdip_io::Purpose::Pay,
                ..Default::default()
            };
            drgdip_io::Columns::from_header_for(header.split(','), options).is_ok()
        };
        assert!(read(&full));
        for c in case_file_required() {
            let without: Vec<&str> = drgdip_io::COLUMNS
                .iter()
                .copied()
                .filter(|x| *x != c)
                .collect();
            let header = without.join(",");
            assert!(!read(&header), "{c}");
            assert!(!re.is_match(&format!("{header}\n")), "{c}");
        }
        for bad in [
            "",
            "a,b\n1,2\n",
            "gender,case_id,age,diagnoses,total_cost,fund_paid\n",
        ] {
            assert!(!re.is_match(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_pattern_compiles() {
        for p in [
            ID_PATTERN,
            CASE_ID_PATTERN,
            APPLICATION_ID_PATTERN,
            MONTH_PATTERN,
            QUARTER_PATTERN,
            HALF_YEAR_PATTERN,
            YEAR_PATTERN,
            PERIOD_PATTERN,
            NON_BLANK_PATTERN,
            POINTS_PATTERN,
        ] {
            Regex::new(p).unwrap();
        }
    }

    #[test]
    fn the_non_blank_pattern_is_what_trim_keeps() {
        let re = Regex::new(NON_BLANK_PATTERN).unwrap();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(re.is_match(&s), !is_blank(&s), "U+{:04X}", c as u32);
        }
        assert!(check_text("text", " \u{3000}x ").is_ok());
        assert!(check_text("text", " \u{3000}\t").is_err());
        assert!(check_text("text", &"字".repeat(TEXT_MAX)).is_ok());
        let e = check_text("text", &"字".repeat(TEXT_MAX + 1)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("text"));
    }

    #[test]
    fn months_and_periods_that_match_parse_and_the_others_do_not() {
        use drgdip_settle::{Period, YearMonth};
        for m in ["2025-06", "1000-01", "9999-12"] {
            assert!(check_month("month", m).is_ok());
            assert!(m.parse::<YearMonth>().is_ok(), "{m}");
        }
        for m in [
            "2025-13",
            "2025-00",
            "0999-01",
            "2025-6",
            " 2025-06",
            "2025-06\n",
            "",
        ] {
            assert!(check_month("month", m).is_err(), "{m:?}");
        }
        for p in ["2025", "2025Q2", "2025H1", "2025-06"] {
            assert!(check_period("period", p).is_ok());
            assert!(p.parse::<Period>().is_ok(), "{p}");
        }
        for p in ["2025Q5", "2025H3", "25Q1", "2025q1", ""] {
            assert!(check_period("period", p).is_err(), "{p:?}");
        }
        for (kind, good, bad) in [
            (ReviewPeriod::Month, "2025-06", "2025Q1"),
            (ReviewPeriod::Quarter, "2025Q4", "2025H1"),
            (ReviewPeriod::HalfYear, "2025H2", "2025Q1"),
            (ReviewPeriod::Year, "2025", "2025-01"),
        ] {
            let re = Regex::new(period_pattern(kind)).unwrap();
            assert!(re.is_match(good) && !re.is_match(bad), "{kind:?}");
            assert!(check_period_of("period", good, kind).is_ok());
            let e = check_period_of("period", bad, kind).unwrap_err();
            assert!(e.message.contains(kind.as_str()), "{}", e.message);
            assert_eq!(good.parse::<Period>().unwrap().kind(), kind);
        }
    }

    #[test]
    fn ids_and_case_ids() {
        for id in ["H001", "R1", "E001", "h-1.x_2", &"A".repeat(ID_MAX)] {
            assert!(check_id("reviewer_id", id).is_ok(), "{id}");
        }
        for id in [
            "",
            " R1",
            "R1 ",
            "-R1",
            "R 1",
            "专家",
            &"A".repeat(ID_MAX + 1),
        ] {
            let e = check_id("reviewer_id", id).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("reviewer_id"));
        }
        for id in ["C0000062", "A06-0001", "!", &"~".repeat(CASE_ID_MAX)] {
            assert!(check_case_id("case_ids[0]", id).is_ok(), "{id}");
        }
        for id in ["", " ", "A 1", "病案1", &"x".repeat(CASE_ID_MAX + 1)] {
            assert!(check_case_id("case_ids[0]", id).is_err(), "{id:?}");
        }
        let re = Regex::new(APPLICATION_ID_PATTERN).unwrap();
        assert!(re.is_match("SC-000001") && !re.is_match("SC-1") && !re.is_match("sc-000001"));
        assert!("SC-000000000001".len() <= APPLICATION_ID_MAX);
    }

    #[test]
    fn points_that_match_are_decimals_above_zero() {
        for p in ["35", "12.5", "0.01", "000.5", "1.0", "99999999999999999999"] {
            assert!(is_points(p), "{p}");
            let d = Decimal::from_str(p).unwrap();
            assert!(d > Decimal::ZERO, "{p}");
        }
        for p in [
            "0",
            "0.0",
            "000",
            "-1",
            "+1",
            "1e3",
            "1.",
            ".5",
            "1,5",
            "NaN",
            "",
            " 1",
            &"9".repeat(POINTS_MAX + 1),
        ] {
            assert!(!is_points(p), "{p:?}");
        }
    }
}
