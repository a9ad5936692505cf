//! The DIP view of one discharge record, and the levels of its auxiliary dimensions.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One discharge as DIP needs it. Codes are expected already repaired (see `drgdip-codes`);
/// the crate never validates them against a catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DipCase {
    /// The case identifier, only carried through for reports.
    pub case_id: String,
    /// ICD-10 医保版 diagnoses, principal first (dagger/asterisk pairs as one code, `A02.201+J17.0*`).
    pub diagnoses: Vec<String>,
    /// ICD-9-CM-3 医保版 procedures, principal first.
    pub procedures: Vec<String>,
    /// 疾病严重程度 — from the DRG grouping of the same case (an MCC, a CC, or neither).
    pub severity: Severity,
    /// Age in whole years at admission.
    pub age_years: u32,
    /// 离院方式 as recorded (`"5"` death, `"2"`/`"3"` transfer, anything else other).
    pub discharge_way: String,
    /// 按项目 cost of the case (CNY).
    pub total_cost: Decimal,
    /// What the fund would pay per item (CNY); the patient's share is `total_cost − fund_paid`.
    pub fund_paid: Decimal,
    /// 医疗机构等级 (1–3), the key of `[dip.hospital_level_coefficient]`.
    pub hospital_level: u8,
}

impl DipCase {
    /// 个人负担 — the patient's own share, `total_cost − fund_paid`.
    pub fn own(&self) -> Decimal {
        self.total_cost - self.fund_paid
    }
}

/// Severity of a case as its DRG grouping found it: the auxiliary severity dimension (1/2/3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Neither an MCC nor a CC counts: level 1.
    None,
    /// 一般并发症或合并症 — a CC counts: level 2.
    Cc,
    /// 严重并发症或合并症 — an MCC counts: level 3.
    Mcc,
}

impl Severity {
    /// All levels, in level order.
    pub const ALL: [Severity; 3] = [Severity::None, Severity::Cc, Severity::Mcc];

    /// The level number, 1 (none) to 3 (MCC).
    pub fn level(self) -> u8 {
        match self {
            Severity::None => 1,
            Severity::Cc => 2,
            Severity::Mcc => 3,
        }
    }

    /// Position in [`Severity::ALL`].
    pub fn index(self) -> usize {
        usize::from(self.level() - 1)
    }

    /// The label written in `aux_coefficients.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "1",
            Severity::Cc => "2",
            Severity::Mcc => "3",
        }
    }

    /// Reads a label written by [`Severity::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// 年龄段 — the age band of the auxiliary age dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AgeBand {
    /// Under one year.
    Under1,
    /// 1 to 14 years.
    From1To14,
    /// 15 to 64 years.
    From15To64,
    /// 65 years and over.
    From65,
}

impl AgeBand {
    /// All bands, youngest first.
    pub const ALL: [AgeBand; 4] = [
        AgeBand::Under1,
        AgeBand::From1To14,
        AgeBand::From15To64,
        AgeBand::From65,
    ];

    /// The band of an age in whole years.
    pub fn of(age_years: u32) -> Self {
        match age_years {
            0 => AgeBand::Under1,
            1..=14 => AgeBand::From1To14,
            15..=64 => AgeBand::From15To64,
            _ => AgeBand::From65,
        }
    }

    /// Position in [`AgeBand::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label written in `aux_coefficients.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under1 => "<1",
            AgeBand::From1To14 => "1-14",
            AgeBand::From15To64 => "15-64",
            AgeBand::From65 => ">=65",
        }
    }

    /// Reads a label written by [`AgeBand::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// 离院方式 grouped for the auxiliary discharge dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DischargeKind {
    /// 死亡 — 离院方式 5.
    Death,
    /// 转院 / 转社区 — 离院方式 2 or 3.
    Transfer,
    /// Any other way (medical advice, against advice, other, missing).
    Other,
}

impl DischargeKind {
    /// All kinds, in the order of `aux_coefficients.csv`.
    pub const ALL: [DischargeKind; 3] = [
        DischargeKind::Death,
        DischargeKind::Transfer,
        DischargeKind::Other,
    ];

    /// The kind of a recorded 离院方式 (surrounding blanks ignored).
    pub fn of(discharge_way: &str) -> Self {
        match discharge_way.trim() {
            "5" => DischargeKind::Death,
            "2" | "3" => DischargeKind::Transfer,
            _ => DischargeKind::Other,
        }
    }

    /// Position in [`DischargeKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label written in `aux_coefficients.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            DischargeKind::Death => "death",
            DischargeKind::Transfer => "transfer",
            DischargeKind::Other => "other",
        }
    }

    /// Reads a label written by [`DischargeKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// An auxiliary dimension of the core groups (`payment-model.md` §3, 辅助目录).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuxDimension {
    /// 疾病严重程度 (MCC / CC / neither).
    Severity,
    /// 年龄段.
    Age,
    /// 离院方式.
    Discharge,
}

impl AuxDimension {
    /// The name written in `aux_coefficients.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuxDimension::Severity => "severity",
            AuxDimension::Age => "age",
            AuxDimension::Discharge => "discharge",
        }
    }
}

/// The level of a case in one auxiliary dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "dimension", content = "level")]
pub enum AuxLevel {
    /// A severity level.
    Severity(Severity),
    /// An age band.
    Age(AgeBand),
    /// A discharge kind.
    Discharge(DischargeKind),
}

impl AuxLevel {
    /// The three levels of a case, one per dimension.
    pub fn of(case: &DipCase) -> [AuxLevel; 3] {
        [
            AuxLevel::Severity(case.severity),
            AuxLevel::Age(AgeBand::of(case.age_years)),
            AuxLevel::Discharge(DischargeKind::of(&case.discharge_way)),
        ]
    }

    /// Its dimension.
    pub fn dimension(self) -> AuxDimension {
        match self {
            AuxLevel::Severity(_) => AuxDimension::Severity,
            AuxLevel::Age(_) => AuxDimension::Age,
            AuxLevel::Discharge(_) => AuxDimension::Discharge,
        }
    }

    /// The level's label as written in `aux_coefficients.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuxLevel::Severity(l) => l.as_str(),
            AuxLevel::Age(l) => l.as_str(),
            AuxLevel::Discharge(l) => l.as_str(),
        }
    }
}

impl std::fmt::Display for AuxLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.dimension().as_str(), self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_bands_split_at_1_15_and_65() {
        assert_eq!(AgeBand::of(0), AgeBand::Under1);
        assert_eq!(AgeBand::of(1), AgeBand::From1To14);
        assert_eq!(AgeBand::of(14), AgeBand::From1To14);
        assert_eq!(AgeBand::of(15), AgeBand::From15To64);
        assert_eq!(AgeBand::of(64), AgeBand::From15To64);
        assert_eq!(AgeBand::of(65), AgeBand::From65);
        assert_eq!(AgeBand::of(120), AgeBand::From65);
    }

    #[test]
    fn discharge_way_5_is_death_2_and_3_are_transfers() {
        assert_eq!(DischargeKind::of("5"), DischargeKind::Death);
        assert_eq!(DischargeKind::of(" 2"), DischargeKind::Transfer);
        assert_eq!(DischargeKind::of("3"), DischargeKind::Transfer);
        for other in ["1", "4", "9", "", "55"] {
            assert_eq!(DischargeKind::of(other), DischargeKind::Other, "{other:?}");
        }
    }

    #[test]
    fn level_labels_read_back() {
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        for a in AgeBand::ALL {
            assert_eq!(AgeBand::parse(a.as_str()), Some(a));
            assert_eq!(AgeBand::ALL[a.index()], a);
        }
        for d in DischargeKind::ALL {
            assert_eq!(DischargeKind::parse(d.as_str()), Some(d));
            assert_eq!(DischargeKind::ALL[d.index()], d);
        }
        assert_eq!(Severity::Mcc.level(), 3);
    }
}
