//! `new_tech_items` — the exclusion-catalogue items a case names (除外机制,
//! `payment-model.md` §2 rule 4): `CODE:COST|CODE:COST`, the item's own cost in CNY.
//! Whether an item applies is the payment's business (it has the catalogue); here only the
//! form of the column is checked.

use rust_decimal::Decimal;

use crate::problem::AmountError;
use crate::record::parse_amount;

/// One item of `new_tech_items`: a catalogue code and the item's own cost (CNY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTechItem {
    pub code: String,
    pub cost: Decimal,
}

/// What is wrong with one entry of `new_tech_items`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewTechError {
    /// Not `CODE:COST`.
    NotCodeCost,
    /// The code is empty or holds a space or a colon.
    BadCode { code: String },
    /// The cost is not a plain decimal ≥ 0 with at most 2 decimals within the limit.
    Cost { cost: String, error: AmountError },
    /// The same code twice in one case.
    Twice { code: String },
}

/// Reads `new_tech_items` (`CODE:COST|CODE:COST`; empty = none): each entry a code without
/// spaces and a plain decimal cost ≥ 0 with at most 2 decimals and at most `max_cost`, no
/// code twice. Every malformed entry is one `(entry, error)`.
pub fn parse_new_tech_items(
    raw: &str,
    max_cost: Decimal,
) -> Result<Vec<NewTechItem>, Vec<(String, NewTechError)>> {
    let mut items: Vec<NewTechItem> = Vec::new();
    let mut bad = Vec::new();
    if raw.trim().is_empty() {
        return Ok(items);
    }
    for entry in raw.split('|').map(str::trim) {
        let Some((code, cost)) = entry.split_once(':') else {
            bad.push((entry.to_string(), NewTechError::NotCodeCost));
            continue;
        };
        let (code, cost) = (code.trim(), cost.trim());
        if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c == ':') {
            bad.push((
                entry.to_string(),
                NewTechError::BadCode {
                    code: code.to_string(),
                },
            ));
            continue;
        }
        let amount = match parse_amount(cost, max_cost) {
            Ok(d) => d,
            Err(error) => {
                bad.push((
                    entry.to_string(),
                    NewTechError::Cost {
                        cost: cost.to_string(),
                        error,
                    },
                ));
                continue;
            }
        };
        if items.iter().any(|i| i.code == code) {
            bad.push((
                entry.to_string(),
                NewTechError::Twice {
                    code: code.to_string(),
                },
            ));
            continue;
        }
        items.push(NewTechItem {
            code: code.to_string(),
            cost: amount,
        });
    }
    if bad.is_empty() {
        Ok(items)
    } else {
        Err(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{parse_row, Columns, RowOutcome, COLUMNS};
    use drgdip_codes::{Catalog, CodeTable};

    fn items(raw: &str) -> Vec<(String, String)> {
        parse_new_tech_items(raw, crate::ReadLimits::default().max_case_cost)
            .unwrap()
            .into_iter()
            .map(|i| (i.code, i.cost.to_string()))
            .collect()
    }

    fn bad(raw: &str) -> Vec<String> {
        parse_new_tech_items(raw, crate::ReadLimits::default().max_case_cost)
            .expect_err("should be refused")
            .into_iter()
            .map(|(entry, _)| entry)
            .collect()
    }

    #[test]
    fn items_are_code_cost_pairs_separated_by_bars() {
        assert!(items("").is_empty());
        assert!(items("  ").is_empty());
        assert_eq!(
            items("T-EX006:1200.50|C0301-EX003:48043.15"),
            [
                ("T-EX006".to_string(), "1200.50".to_string()),
                ("C0301-EX003".to_string(), "48043.15".to_string())
            ]
        );
        assert_eq!(
            items(" T-EX006 : 0 "),
            [("T-EX006".to_string(), "0".to_string())]
        );
    }

    #[test]
    fn every_malformed_entry_is_named() {
        assert_eq!(bad("T-EX006"), ["T-EX006"]);
        assert_eq!(bad("T-EX006:"), ["T-EX006:"]);
        assert_eq!(bad(":12.00"), [":12.00"]);
        assert_eq!(bad("T EX:12.00"), ["T EX:12.00"]);
        for cost in [
            "-5", "1.234", "1e3", "12,5", "+3", ".5", "5.", "1.2.3", "NaN", "１２",
        ] {
            let raw = format!("A:{cost}");
            assert_eq!(bad(&raw), vec![raw.clone()], "{cost}");
        }
        // Two bad entries of three: both named, in order.
        assert_eq!(bad("A:1|B:x|C|"), ["B:x", "C", ""]);
        assert_eq!(bad("A:1|A:2"), ["A:2"]);
        let (_, error) = parse_new_tech_items("A:1.234", Decimal::ONE_HUNDRED)
            .unwrap_err()
            .remove(0);
        assert_eq!(
            error,
            NewTechError::Cost {
                cost: "1.234".into(),
                error: AmountError::TooManyDecimals { decimals: 3 }
            }
        );
        let (_, error) = parse_new_tech_items("A:100.01", Decimal::ONE_HUNDRED)
            .unwrap_err()
            .remove(0);
        assert!(matches!(
            error,
            NewTechError::Cost {
                error: AmountError::AboveLimit { .. },
                ..
            }
        ));
    }

    #[test]
    fn the_row_reader_fills_the_record_or_reports_the_field() {
        let catalog = Catalog {
            diagnoses: CodeTable::parse("d", "K86.102 a\n").unwrap(),
            procedures: CodeTable::parse("p", "07.7202 a\n").unwrap(),
        };
        let cols = Columns::from_header(COLUMNS.iter().copied()).unwrap();
        let row = |value: &str| -> Vec<String> {
            COLUMNS
                .iter()
                .map(|c| match *c {
                    "case_id" => "C1",
                    "gender" => "1",
                    "age" => "40",
                    "diagnoses" => "K86.102",
                    "los" => "5",
                    "discharge_date" => "2025-03-01",
                    "total_cost" => "100.00",
                    "new_tech_items" => value,
                    _ => "",
                })
                .map(String::from)
                .collect()
        };
        let fields = row("T-EX006:12.50");
        let f: Vec<&str> = fields.iter().map(String::as_str).collect();
        let r = match parse_row(&f, 5, &cols, &catalog) {
            RowOutcome::Valid(r) => r,
            RowOutcome::Invalid { problems, .. } => panic!("valid row refused: {problems:?}"),
        };
        assert_eq!(
            r.new_tech_items,
            [NewTechItem {
                code: "T-EX006".into(),
                cost: Decimal::new(1250, 2)
            }]
        );
        let fields = row("T-EX006:12.50|X:abc");
        let f: Vec<&str> = fields.iter().map(String::as_str).collect();
        let RowOutcome::Invalid { problems, .. } = parse_row(&f, 5, &cols, &catalog) else {
            panic!("malformed entry accepted")
        };
        assert_eq!(problems.len(), 1);
        let p = &problems[0];
        assert_eq!(
            (p.line, p.field.as_str(), p.value.as_str()),
            (5, "new_tech_items", "X:abc")
        );
    }
}
