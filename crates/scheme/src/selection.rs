//! Scheme selection (方案选择): which scheme groups a case, by pooling region and discharge
//! date. The rules are data (`schemes/selection.toml`); the first rule that matches wins.

use serde::Deserialize;

/// The selection rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The scheme when no rule matches.
    pub default: String,
    #[serde(default, rename = "rule")]
    pub rules: Vec<SelectionRule>,
}

/// One rule: cases of an insured region starting with `region_prefix`, discharged on or after
/// `from` (and on or before `to`, when given), use `scheme`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionRule {
    pub region_prefix: String,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub to: Option<String>,
    pub scheme: String,
}

/// The built-in selection: regions 35xxxx (Fujian) from 2025-01-01 use `fujian-2024`.
pub const BUILTIN_SELECTION: &str = include_str!("../../../schemes/selection.toml");

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

impl Selection {
    /// Parses and checks the rules (dates `YYYY-MM-DD`, `from` ≤ `to`).
    pub fn from_toml_str(text: &str) -> Result<Selection, String> {
        let s: Selection = toml::from_str(text).map_err(|e| e.to_string())?;
        for (i, r) in s.rules.iter().enumerate() {
            if !valid_date(&r.from) {
                return Err(format!(
                    "rule {}: from {:?} is not YYYY-MM-DD",
                    i + 1,
                    r.from
                ));
            }
            if let Some(t) = &r.to {
                if !valid_date(t) || t < &r.from {
                    return Err(format!(
                        "rule {}: to {t:?} is not a date on or after from",
                        i + 1
                    ));
                }
            }
        }
        Ok(s)
    }

    /// The scheme for a case of `region` discharged on `date` (`YYYY-MM-DD`).
    pub fn select<'a>(&'a self, region: &str, date: &str) -> &'a str {
        self.rules
            .iter()
            .find(|r| {
                region.starts_with(&r.region_prefix)
                    && date >= r.from.as_str()
                    && r.to.as_deref().is_none_or(|t| date <= t)
            })
            .map(|r| r.scheme.as_str())
            .unwrap_or(&self.default)
    }

    /// Every scheme the rules can choose.
    pub fn schemes(&self) -> Vec<&str> {
        let mut v: Vec<&str> = std::iter::once(self.default.as_str())
            .chain(self.rules.iter().map(|r| r.scheme.as_str()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fujian_regions_from_2025_use_the_local_scheme() {
        let s = Selection::from_toml_str(BUILTIN_SELECTION).unwrap();
        assert_eq!(s.select("350100", "2025-01-01"), "fujian-2024");
        assert_eq!(s.select("350500", "2025-12-31"), "fujian-2024");
        assert_eq!(s.select("350100", "2024-12-31"), "chs-drg-2.0");
        assert_eq!(s.select("440100", "2025-06-01"), "chs-drg-2.0");
    }

    #[test]
    fn bad_dates_are_rejected() {
        let e = Selection::from_toml_str(
            "default = \"a\"\n[[rule]]\nregion_prefix = \"35\"\nfrom = \"2025-1-1\"\nscheme = \"b\"\n",
        )
        .unwrap_err();
        assert!(e.contains("from"));
    }
}
