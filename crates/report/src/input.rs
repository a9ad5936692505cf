//! What the reports read besides the settled cases and statements: hospital names, and each
//! case's grouping (status and DRG/DIP group), which a [`SettledCase`] does not carry.

use std::collections::BTreeMap;

use drgdip_pay::{Category, GroupStatus, Hospitals};
use drgdip_settle::SettledCase;

/// Hospital names by id (`H001` → `示例三级医院01`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HospitalNames {
    names: BTreeMap<String, String>,
}

impl HospitalNames {
    /// No names: reports show the ids alone.
    pub fn new() -> HospitalNames {
        HospitalNames::default()
    }

    /// The names of the region's hospitals file.
    pub fn from_hospitals(hospitals: &Hospitals) -> HospitalNames {
        hospitals
            .iter()
            .map(|h| (h.hospital_id.clone(), h.name.clone()))
            .collect()
    }

    /// Adds or replaces one name.
    pub fn insert(&mut self, hospital_id: impl Into<String>, name: impl Into<String>) {
        self.names.insert(hospital_id.into(), name.into());
    }

    /// The name of `hospital_id`, if known.
    pub fn name(&self, hospital_id: &str) -> Option<&str> {
        self.names.get(hospital_id).map(String::as_str)
    }

    /// The ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.names.keys().map(String::as_str)
    }
}

impl<I: Into<String>, N: Into<String>> FromIterator<(I, N)> for HospitalNames {
    fn from_iter<T: IntoIterator<Item = (I, N)>>(iter: T) -> Self {
        HospitalNames {
            names: iter
                .into_iter()
                .map(|(i, n)| (i.into(), n.into()))
                .collect(),
        }
    }
}

/// One case's grouping: its status and its group code (a DRG such as `FR21`, `0000`, an
/// `xQY` group, or a DIP group; empty for an invalid case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseGroup {
    /// The case.
    pub case_id: String,
    /// 分组状态 — grouped, ambiguous, ungroupable or invalid.
    pub status: GroupStatus,
    /// The group code.
    pub group: String,
}

/// The grouping of the cases, by case id. A case without an entry is classed from its
/// payment category (see [`Groups::of`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    by_case: BTreeMap<String, (GroupStatus, String)>,
}

/// The group code written for a grouped case whose group is not known.
pub const UNKNOWN_GROUP: &str = "?";

/// How a case is classed in the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping<'a> {
    /// Its status.
    pub status: GroupStatus,
    /// Its group code.
    pub group: &'a str,
    /// Whether status and group come from the grouping (else from the payment category).
    pub known: bool,
}

impl Groups {
    /// No grouping known.
    pub fn new() -> Groups {
        Groups::default()
    }

    /// Adds or replaces the grouping of one case.
    pub fn insert(
        &mut self,
        case_id: impl Into<String>,
        status: GroupStatus,
        group: impl Into<String>,
    ) {
        self.by_case.insert(case_id.into(), (status, group.into()));
    }

    /// Number of cases with a grouping.
    pub fn len(&self) -> usize {
        self.by_case.len()
    }

    /// Whether no case has a grouping.
    pub fn is_empty(&self) -> bool {
        self.by_case.is_empty()
    }

    /// The grouping of `case`: the one given for its id; else the one the ledger kept with
    /// the case (what priced it: its status and group); else, for a case settled before the
    /// ledger kept it, from its payment category,
    /// `invalid` → invalid (group empty), `ungroupable` → ungroupable (`0000`), `ambiguous` →
    /// ambiguous (`QY`), `cross_province` without a weight → ungroupable (`0000`; a
    /// cross-province case is paid per item before grouping matters, and only a grouped one
    /// has a weight), every other category → grouped with the group [`UNKNOWN_GROUP`].
    pub fn of<'a>(&'a self, case: &'a SettledCase) -> Grouping<'a> {
        if let Some((status, group)) = self.by_case.get(&case.case_id) {
            return Grouping {
                status: *status,
                group,
                known: true,
            };
        }
        if let Some(status) = GroupStatus::from_label(&case.pricing.status) {
            return Grouping {
                status,
                group: &case.pricing.group,
                known: true,
            };
        }
        let (status, group) = match case.category {
            Category::Invalid => (GroupStatus::Invalid, ""),
            Category::Ungroupable => (GroupStatus::Ungroupable, "0000"),
            Category::Ambiguous => (GroupStatus::Ambiguous, "QY"),
            Category::CrossProvince if case.weight.is_none() => (GroupStatus::Ungroupable, "0000"),
            _ => (GroupStatus::Grouped, UNKNOWN_GROUP),
        };
        Grouping {
            status,
            group,
            known: false,
        }
    }
}

impl FromIterator<CaseGroup> for Groups {
    fn from_iter<T: IntoIterator<Item = CaseGroup>>(iter: T) -> Self {
        let mut groups = Groups::new();
        for g in iter {
            groups.insert(g.case_id, g.status, g.group);
        }
        groups
    }
}

/// 分组状态 in Chinese.
pub(crate) fn status_zh(status: GroupStatus) -> &'static str {
    match status {
        GroupStatus::Grouped => "分组成功",
        GroupStatus::Ambiguous => "歧义病案",
        GroupStatus::Ungroupable => "无法入组",
        GroupStatus::Invalid => "信息校验不通过",
    }
}

/// 支付类别 in Chinese.
pub(crate) fn category_zh(category: Category) -> &'static str {
    match category {
        Category::Normal => "正常病例",
        Category::High => "高倍率病例",
        Category::Low => "低倍率病例",
        Category::Ungroupable => "无法入组",
        Category::Ambiguous => "歧义病案",
        Category::Excluded => "除外病例",
        Category::Special => "特例单议",
        Category::CrossProvince => "跨省异地",
        Category::Invalid => "信息校验不通过",
    }
}
