//! The problems of a row (信息校验不通过的原因): a typed kind with its data, rendered in English
//! or Chinese. The field is not part of the message: the errors file has it in its own column
//! and a printed problem reads `field: message` (see [`Problem::text`]).

use std::fmt::Write as _;

use drgdip_drg::Lang;
use rust_decimal::Decimal;

/// What the rows of a file are read for: it decides which columns and cells are required
/// beyond the ones grouping needs (`case_id, gender, age, diagnoses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// Grouping only (`drgdip group`, `explain`): every cost is optional.
    #[default]
    Group,
    /// DRG payment (`pay`, `settle`, `prepay decide`): `total_cost` and `fund_paid`.
    Pay,
    /// DRG weights from history (`weights`, `pay --history`): `total_cost`.
    Weights,
    /// The DIP library from history (`dip build`): `total_cost`.
    DipLibrary,
    /// DIP scores and point values (`dip score`, `dip point-value`): `total_cost`, `fund_paid`.
    DipScore,
}

impl Purpose {
    /// The cost columns this purpose needs, in header order of the case file.
    pub fn cost_columns(self) -> &'static [&'static str] {
        match self {
            Purpose::Group => &[],
            Purpose::Weights | Purpose::DipLibrary => &["total_cost"],
            Purpose::Pay | Purpose::DipScore => &["total_cost", "fund_paid"],
        }
    }

    /// Whether this purpose needs `column` in every row.
    pub fn needs(self, column: &str) -> bool {
        self.cost_columns().contains(&column)
    }

    /// What needs the figures, as a message names it.
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Purpose::Group, Lang::En) => "grouping",
            (Purpose::Group, Lang::Zh) => "分组",
            (Purpose::Pay, Lang::En) => "pay",
            (Purpose::Pay, Lang::Zh) => "DRG 付费",
            (Purpose::Weights, Lang::En) => "the weight computation",
            (Purpose::Weights, Lang::Zh) => "权重计算",
            (Purpose::DipLibrary, Lang::En) => "the DIP library build",
            (Purpose::DipLibrary, Lang::Zh) => "DIP 病种库",
            (Purpose::DipScore, Lang::En) => "DIP scoring",
            (Purpose::DipScore, Lang::Zh) => "DIP 分值计算",
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name(Lang::En))
    }
}

/// Which code list a code problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeList {
    Diagnoses,
    Procedures,
}

/// The unit of a bounded whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Days,
    Grams,
}

/// The unit of a bounded decimal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUnit {
    /// Money (元), at most `[limits].max_case_cost`.
    Yuan,
    /// Ventilation hours.
    Hours,
}

/// Why a money field (or another bounded decimal) is not a plain decimal within its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountError {
    /// `1e3`, `1E-2`.
    Exponent,
    /// `-5` (`negative`) or `+5`.
    Sign { negative: bool },
    /// More than 2 decimals: how many.
    TooManyDecimals { decimals: usize },
    /// `1,234.56`, `1 234`, `1_234`.
    Separator,
    /// `NaN`, `inf`, `infinity`.
    NotANumber,
    /// Anything else that is not digits with an optional `.` and 1–2 decimals.
    NotDecimal,
    /// Above the limit.
    AboveLimit { limit: Decimal },
}

/// What is wrong with a row, with the data its message shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The row does not have as many fields as the header.
    RowWidth { fields: usize, header: usize },
    /// A quoted field still open at the end of its line: `field` is its header name.
    UnbalancedQuote { field: String },
    /// A field has bytes that are not UTF-8.
    NotUtf8,
    /// The case id is empty.
    CaseIdEmpty,
    /// The case id holds a NUL or another control character (the value is shown escaped).
    CaseIdControl,
    /// The case id repeats the row on `first_line`.
    CaseIdRepeated { first_line: u64 },
    /// 病人性别为空.
    GenderEmpty,
    /// Gender is neither 1 nor 2.
    GenderInvalid,
    /// Age is not a whole number of years from 0 to 150.
    AgeInvalid,
    /// Not a whole number from 0 to `max` (in `unit`).
    WholeNumber { max: u32, unit: Unit },
    /// An infant (age 0) without `age_days`.
    InfantWithoutAgeDays,
    /// Hospital level is not 1, 2 or 3.
    HospitalLevelInvalid,
    /// A negative length of stay.
    LosNegative,
    /// Length of stay is not a whole number of days.
    LosInvalid,
    /// 主要诊断为空.
    PrincipalDiagnosisEmpty,
    /// An empty code in a list (a stray separator); `position` from 0.
    CodeEmpty { list: CodeList, position: usize },
    /// A code that is only a prefix of catalog codes.
    CodeTruncated {
        list: CodeList,
        position: usize,
        code: String,
    },
    /// A code neither in the catalog nor in the retired-code map.
    CodeUnknown {
        list: CodeList,
        position: usize,
        code: String,
    },
    /// Not a real date `YYYY-MM-DD`.
    DateInvalid,
    /// A flag that is not 0 or 1.
    FlagInvalid,
    /// A money field or ventilation hours that is not a plain bounded decimal.
    Amount {
        unit: AmountUnit,
        error: AmountError,
    },
    /// An empty `total_cost` where `purpose` needs it.
    CostMissing { purpose: Purpose },
    /// An empty `fund_paid` where `purpose` needs it.
    FundPaidMissing { purpose: Purpose },
    /// `fund_paid` is larger than `total_cost`.
    FundPaidAboveTotal { total_cost: Decimal },
    /// The hospital is not in the hospitals file and the row has no `hospital_level`.
    HospitalUnknown { hospital_id: String },
    /// `drgdip settle`: the row has no readable discharge month and is not settled.
    NoDischargeMonth,
    /// A malformed entry of `new_tech_items` (the value is the entry).
    NewTechItem {
        error: crate::new_tech::NewTechError,
    },
}

fn which(list: CodeList, position: usize, lang: Lang) -> String {
    match (list, position, lang) {
        (CodeList::Diagnoses, 0, Lang::En) => "principal diagnosis".into(),
        (CodeList::Diagnoses, 0, Lang::Zh) => "主要诊断".into(),
        (CodeList::Procedures, 0, Lang::En) => "principal procedure".into(),
        (CodeList::Procedures, 0, Lang::Zh) => "主要手术操作".into(),
        (_, n, Lang::En) => format!("code {} of the list", n + 1),
        (_, n, Lang::Zh) => format!("列表第 {} 个编码", n + 1),
    }
}

impl AmountError {
    fn render(&self, unit: AmountUnit, lang: Lang) -> String {
        let example = match unit {
            AmountUnit::Yuan => "1234.56",
            AmountUnit::Hours => "12.5",
        };
        match (self, lang) {
            (AmountError::Exponent, Lang::En) => {
                format!("an exponent form: expected a plain decimal such as {example}")
            }
            (AmountError::Exponent, Lang::Zh) => format!("指数形式：应为普通小数，如 {example}"),
            (AmountError::Sign { negative: true }, Lang::En) => match unit {
                AmountUnit::Yuan => {
                    format!("negative amount: expected a non-negative decimal such as {example}")
                }
                AmountUnit::Hours => {
                    format!("negative: expected a non-negative decimal such as {example}")
                }
            },
            (AmountError::Sign { negative: true }, Lang::Zh) => {
                format!("负数：应为非负小数，如 {example}")
            }
            (AmountError::Sign { negative: false }, Lang::En) => {
                format!("a plus sign: expected a plain decimal such as {example}")
            }
            (AmountError::Sign { negative: false }, Lang::Zh) => {
                format!("带正号：应为普通小数，如 {example}")
            }
            (AmountError::TooManyDecimals { decimals }, Lang::En) => {
                format!("{decimals} decimals: at most 2")
            }
            (AmountError::TooManyDecimals { decimals }, Lang::Zh) => {
                format!("有 {decimals} 位小数：最多 2 位")
            }
            (AmountError::Separator, Lang::En) => {
                format!("a thousands separator: expected a plain decimal such as {example}")
            }
            (AmountError::Separator, Lang::Zh) => {
                format!("含千位分隔符：应为普通小数，如 {example}")
            }
            (AmountError::NotANumber, Lang::En) => {
                format!("not a number (NaN or infinity): expected a decimal such as {example}")
            }
            (AmountError::NotANumber, Lang::Zh) => {
                format!("不是数值（NaN 或无穷大）：应为小数，如 {example}")
            }
            (AmountError::NotDecimal, Lang::En) => {
                format!("not a decimal number (expected e.g. {example})")
            }
            (AmountError::NotDecimal, Lang::Zh) => format!("不是十进制数（应如 {example}）"),
            (AmountError::AboveLimit { limit }, Lang::En) => match unit {
                AmountUnit::Yuan => {
                    format!("above the limit of {limit} CNY for one case ([limits].max_case_cost)")
                }
                AmountUnit::Hours => format!("above the limit of {limit} hours"),
            },
            (AmountError::AboveLimit { limit }, Lang::Zh) => match unit {
                AmountUnit::Yuan => {
                    format!("超过单个病例的上限 {limit} 元（[limits].max_case_cost）")
                }
                AmountUnit::Hours => format!("超过上限 {limit} 小时"),
            },
        }
    }
}

impl ProblemKind {
    /// The message in `lang`, without the field.
    pub fn render(&self, lang: Lang) -> String {
        use ProblemKind as K;
        let en = lang == Lang::En;
        match self {
            K::RowWidth { fields, header } if en => {
                format!("the row has {fields} fields, the header {header}")
            }
            K::RowWidth { fields, header } => format!("该行有 {fields} 个字段，表头有 {header} 个"),
            K::UnbalancedQuote { field } if en => format!("unbalanced quote in field {field}"),
            K::UnbalancedQuote { field } => format!("字段 {field} 的引号未闭合"),
            K::NotUtf8 if en => "bytes that are not UTF-8".into(),
            K::NotUtf8 => "含有非 UTF-8 字节".into(),
            K::CaseIdEmpty if en => "empty: every row needs a case id".into(),
            K::CaseIdEmpty => "病案号为空：每行都须有病案号".into(),
            K::CaseIdControl if en => {
                "a control character (shown escaped): PostgreSQL cannot store it".into()
            }
            K::CaseIdControl => "含控制字符（已转义显示）：PostgreSQL 无法存储".into(),
            K::CaseIdRepeated { first_line } if en => {
                format!("the same as the row on line {first_line}")
            }
            K::CaseIdRepeated { first_line } => format!("病案号与第 {first_line} 行重复"),
            K::GenderEmpty if en => "empty (病人性别为空): expected 1 (male) or 2 (female)".into(),
            K::GenderEmpty => "病人性别为空：应为 1（男）或 2（女）".into(),
            K::GenderInvalid if en => "expected 1 (male) or 2 (female)".into(),
            K::GenderInvalid => "应为 1（男）或 2（女）".into(),
            K::AgeInvalid if en => "expected a whole number of years from 0 to 150".into(),
            K::AgeInvalid => "应为 0 至 150 的整数（岁）".into(),
            K::WholeNumber { max, unit } => match (unit, en) {
                (Unit::Days, true) => format!("expected a whole number of days from 0 to {max}"),
                (Unit::Days, false) => format!("应为 0 至 {max} 的整数（天）"),
                (Unit::Grams, true) => format!("expected a whole number of grams from 0 to {max}"),
                (Unit::Grams, false) => format!("应为 0 至 {max} 的整数（克）"),
            },
            K::InfantWithoutAgeDays if en => "an infant (age 0) needs age_days".into(),
            K::InfantWithoutAgeDays => "婴儿（年龄为 0）须填写 age_days（年龄天数）".into(),
            K::HospitalLevelInvalid if en => "expected 1, 2 or 3".into(),
            K::HospitalLevelInvalid => "应为 1、2 或 3".into(),
            K::LosNegative if en => "negative: expected a whole number of days".into(),
            K::LosNegative => "住院天数为负数：应为整数天数".into(),
            K::LosInvalid if en => "expected a whole number of days".into(),
            K::LosInvalid => "住院天数应为整数".into(),
            K::PrincipalDiagnosisEmpty if en => "the principal diagnosis is empty".into(),
            K::PrincipalDiagnosisEmpty => "主要诊断为空".into(),
            K::CodeEmpty { list, position } if en => {
                format!("{} is empty (stray separator)", which(*list, *position, lang))
            }
            K::CodeEmpty { list, position } => {
                format!("{}为空（多余的分隔符）", which(*list, *position, lang))
            }
            K::CodeTruncated {
                list,
                position,
                code,
            } if en => format!(
                "{} {code:?} is truncated: only a prefix of catalog codes",
                which(*list, *position, lang)
            ),
            K::CodeTruncated {
                list,
                position,
                code,
            } => format!(
                "{} {code:?} 不完整：只是目录编码的前缀",
                which(*list, *position, lang)
            ),
            K::CodeUnknown {
                list,
                position,
                code,
            } if en => format!(
                "{} {code:?} is not in the catalog nor in the retired-code map",
                which(*list, *position, lang)
            ),
            K::CodeUnknown {
                list,
                position,
                code,
            } => format!(
                "{} {code:?} 不在编码目录中，也不在停用编码映射表中",
                which(*list, *position, lang)
            ),
            K::DateInvalid if en => "not a real date (expected YYYY-MM-DD)".into(),
            K::DateInvalid => "不是有效日期（应为 YYYY-MM-DD）".into(),
            K::FlagInvalid if en => "expected 0 or 1".into(),
            K::FlagInvalid => "应为 0 或 1".into(),
            K::Amount { unit, error } => error.render(*unit, lang),
            K::CostMissing { purpose } if en => {
                format!("missing: {purpose} needs the case's per-item cost")
            }
            K::CostMissing { purpose } => {
                format!("缺失：{}需要病例的按项目总费用", purpose.name(lang))
            }
            K::FundPaidMissing { purpose } if en => format!(
                "missing: {purpose} needs what the fund paid per item (own share = total_cost − fund_paid)"
            ),
            K::FundPaidMissing { purpose } => format!(
                "缺失：{}需要按项目付费的统筹基金支付额（自付 = total_cost − fund_paid）",
                purpose.name(lang)
            ),
            K::FundPaidAboveTotal { total_cost } if en => {
                format!("more than total_cost {total_cost}")
            }
            K::FundPaidAboveTotal { total_cost } => format!("超过总费用 total_cost {total_cost}"),
            K::HospitalUnknown { hospital_id } if en => format!(
                "hospital {hospital_id:?} is not in the hospitals file and the row gives no hospital_level"
            ),
            K::HospitalUnknown { hospital_id } => format!(
                "医院 {hospital_id:?} 不在医院文件中，且该行未填写 hospital_level（医院等级）"
            ),
            K::NoDischargeMonth if en => {
                "not a real date (expected YYYY-MM-DD): the row has no discharge month and is not settled"
                    .into()
            }
            K::NoDischargeMonth => {
                "不是有效日期（应为 YYYY-MM-DD）：该行没有出院月份，不予结算".into()
            }
            K::NewTechItem { error } => {
                use crate::new_tech::NewTechError as E;
                match (error, en) {
                    (E::NotCodeCost, true) => "expected CODE:COST (the item's code and its own cost in CNY, e.g. T-EX006:1200.50)".into(),
                    (E::NotCodeCost, false) => "应为 编码:费用（除外项目编码及其费用，元，例如 T-EX006:1200.50）".into(),
                    (E::BadCode { code }, true) => format!("{code:?} is not an item code (expected e.g. T-EX006)"),
                    (E::BadCode { code }, false) => format!("{code:?} 不是项目编码（例如 T-EX006）"),
                    (E::Cost { cost, error }, true) => format!("item cost {cost:?}: {}", error.render(AmountUnit::Yuan, lang)),
                    (E::Cost { cost, error }, false) => format!("项目费用 {cost:?}：{}", error.render(AmountUnit::Yuan, lang)),
                    (E::Twice { code }, true) => format!("item {code} is named twice"),
                    (E::Twice { code }, false) => format!("项目 {code} 重复填写"),
                }
            }
        }
    }
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

/// One problem of one row, as written to the errors file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Physical line of the row (the header is line 1).
    pub line: u64,
    pub case_id: String,
    /// The column (its header name), or `row` for the row as a whole.
    pub field: String,
    pub value: String,
    pub kind: ProblemKind,
}

impl Problem {
    pub fn new(
        line: u64,
        case_id: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<String>,
        kind: ProblemKind,
    ) -> Problem {
        Problem {
            line,
            case_id: case_id.into(),
            field: field.into(),
            value: value.into(),
            kind,
        }
    }

    /// The message in `lang` (without the field).
    pub fn message(&self, lang: Lang) -> String {
        self.kind.render(lang)
    }

    /// The problem as printed: `field: message`.
    pub fn text(&self, lang: Lang) -> String {
        format!("{}: {}", self.field, self.message(lang))
    }

    /// The errors-file row `line,case_id,field,value,message`.
    pub fn to_csv_line(&self, lang: Lang) -> String {
        let mut s = String::with_capacity(64);
        let _ = write!(
            s,
            "{},{},{},{},{}",
            self.line,
            csv_field(&self.case_id),
            csv_field(&self.field),
            csv_field(&self.value),
            csv_field(&self.message(lang))
        );
        s.push('\n');
        s
    }
}

/// A row's problems in one cell: `field: message; field: message`.
pub fn problems_text(problems: &[Problem], lang: Lang) -> String {
    problems
        .iter()
        .map(|p| p.text(lang))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Appends `s` to `out` as a CSV field, quoted when it needs it (as [`csv_field`] writes it,
/// without making a string).
pub fn push_csv_field(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if !b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

/// `s` with every control character (NUL, tab, line breaks, DEL, C1) written as `\u{..}`
/// (`\t`, `\n`, `\r` for those), and every backslash doubled, so that the text is printable
/// and the original can be read off it.
pub fn escape_control(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_control("C\u{0}01\t病例\\x"), "C\\u{0}01\\t病例\\\\x");
        assert_eq!(escape_control("A\u{7f}\u{85}"), "A\\u{7f}\\u{85}");
        assert_eq!(escape_control("plain"), "plain");
    }

    #[test]
    fn a_problem_prints_its_field_once_in_either_language() {
        let p = Problem::new(7, "A1", "age", "187", ProblemKind::AgeInvalid);
        assert_eq!(
            p.text(Lang::En),
            "age: expected a whole number of years from 0 to 150"
        );
        assert_eq!(p.text(Lang::Zh), "age: 应为 0 至 150 的整数（岁）");
        assert_eq!(
            p.to_csv_line(Lang::En),
            "7,A1,age,187,expected a whole number of years from 0 to 150\n"
        );
    }
}
