//! Rendering a grouping and its trace as text a hospital coder can read, in Chinese or English.

use drgdip_scheme::{Cond, DrgCond, Scheme, SplitRule};

use crate::group::Grouping;
use crate::trace::{AmbiguousWhy, EntryHow, Event, SkipWhy, Trace};

/// The language of an explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// `zh` or `en`.
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "cn" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

fn dx(s: &Scheme, id: u32) -> String {
    format!(
        "{} {}",
        s.catalog.diagnoses.code(id),
        s.catalog.diagnoses.name(id)
    )
}
fn px(s: &Scheme, id: u32) -> String {
    format!(
        "{} {}",
        s.catalog.procedures.code(id),
        s.catalog.procedures.name(id)
    )
}

fn cond_text(s: &Scheme, c: &Cond, lang: Lang) -> String {
    let src = |l: &u32| s.lists[*l as usize].source.clone();
    match (c, lang) {
        (Cond::Pdx(l), Lang::Zh) => format!("主诊断匹配（{}）", src(l)),
        (Cond::Pdx(l), Lang::En) => format!("principal diagnosis in list ({})", src(l)),
        (Cond::Ppx(l), Lang::Zh) => format!("主手术匹配（{}）", src(l)),
        (Cond::Ppx(l), Lang::En) => format!("principal procedure in list ({})", src(l)),
        (Cond::Odx(l), Lang::Zh) => format!("其他诊断匹配（{}）", src(l)),
        (Cond::Odx(l), Lang::En) => format!("an other diagnosis in list ({})", src(l)),
        (Cond::Adx(l), Lang::Zh) => format!("某一诊断匹配（{}）", src(l)),
        (Cond::Adx(l), Lang::En) => format!("some diagnosis in list ({})", src(l)),
        (Cond::Px(l), Lang::Zh) => format!("某一手术匹配（{}）", src(l)),
        (Cond::Px(l), Lang::En) => format!("some procedure in list ({})", src(l)),
        (Cond::ValidPpx, Lang::Zh) => "存在有效主手术".into(),
        (Cond::ValidPpx, Lang::En) => "the principal procedure is a valid OR procedure".into(),
        (Cond::NoValidPpx, Lang::Zh) => "无有效主手术".into(),
        (Cond::NoValidPpx, Lang::En) => "no valid principal procedure".into(),
        (Cond::MaxAgeDays(n), Lang::Zh) => format!("年龄天数≤{n}"),
        (Cond::MaxAgeDays(n), Lang::En) => format!("age ≤ {n} days"),
        (Cond::MinAgeDays(n), Lang::Zh) => format!("年龄天数≥{n}"),
        (Cond::MinAgeDays(n), Lang::En) => format!("age ≥ {n} days"),
        (Cond::BirthWeight { min, max }, Lang::Zh) if *max == u32::MAX => {
            format!("出生体重≥{min}g")
        }
        (Cond::BirthWeight { min, max }, Lang::En) if *max == u32::MAX => {
            format!("birth weight ≥ {min} g")
        }
        (Cond::BirthWeight { min, max }, Lang::Zh) => format!("出生体重{min}–{max}g"),
        (Cond::BirthWeight { min, max }, Lang::En) => format!("birth weight {min}–{max} g"),
    }
}

fn drg_cond_text(s: &Scheme, c: &DrgCond, lang: Lang) -> String {
    match (c, lang) {
        (DrgCond::PpxIn(l), Lang::Zh) => {
            format!("主手术在列表（{}）", s.lists[*l as usize].source)
        }
        (DrgCond::PpxIn(l), Lang::En) => {
            format!("principal procedure in {}", s.lists[*l as usize].source)
        }
        (DrgCond::Bilateral, Lang::Zh) => "双侧手术（前两个手术相同）".into(),
        (DrgCond::Bilateral, Lang::En) => "bilateral (first two procedures identical)".into(),
        (DrgCond::MaxAge(n), Lang::Zh) => format!("年龄≤{n}岁"),
        (DrgCond::MaxAge(n), Lang::En) => format!("age ≤ {n} years"),
        (DrgCond::Mcc, Lang::Zh) => "有其他诊断且伴MCC".into(),
        (DrgCond::Mcc, Lang::En) => "more than one diagnosis and an MCC".into(),
        (DrgCond::MccOrCc, Lang::Zh) => "有其他诊断且伴MCC或CC".into(),
        (DrgCond::MccOrCc, Lang::En) => "more than one diagnosis and an MCC or CC".into(),
        (DrgCond::MccAny, Lang::Zh) => "伴MCC".into(),
        (DrgCond::MccAny, Lang::En) => "an MCC".into(),
        (DrgCond::CcAny, Lang::Zh) => "伴CC".into(),
        (DrgCond::CcAny, Lang::En) => "a CC".into(),
    }
}

/// The explanation of one grouping: a headline and one line per trace event.
pub fn explain(s: &Scheme, g: &Grouping, trace: &Trace, lang: Lang) -> Vec<String> {
    let mut out = Vec::new();
    let zh = lang == Lang::Zh;
    let status = if zh {
        g.status.as_zh()
    } else {
        g.status.as_str()
    };
    let drg_name = g
        .drg
        .map(|d| s.drgs[d as usize].name.as_str())
        .unwrap_or("");
    out.push(format!(
        "{} {} ({}): {status} {} {} {} {drg_name}",
        if zh { "分组方案" } else { "scheme" },
        s.name,
        s.version,
        g.mdc_code(s),
        g.adrg_code(s),
        g.drg_code(s),
    ));
    for e in &trace.events {
        let line = match *e {
            Event::NoDiagnosis => {
                if zh {
                    "无诊断".into()
                } else {
                    "no diagnosis".into()
                }
            }
            Event::ExclusionTable { pdx, table } => {
                if zh {
                    format!("主诊断 {} 排除表 {table}", dx(s, pdx))
                } else {
                    format!(
                        "principal diagnosis {} belongs to exclusion table {table}",
                        dx(s, pdx)
                    )
                }
            }
            Event::Complication { dx: d, major } => {
                let level = if major { "MCC" } else { "CC" };
                if zh {
                    format!("{} 是{level}", dx(s, d))
                } else {
                    format!("{} counts as {level}", dx(s, d))
                }
            }
            Event::ComplicationExcluded {
                dx: d,
                major,
                table,
            } => {
                let level = if major { "MCC" } else { "CC" };
                if zh {
                    format!("{} 是{level}，但与主诊断同属排除表 {table}，不计", dx(s, d))
                } else {
                    format!(
                        "{} is a {level} but is excluded: same exclusion table {table} as the principal diagnosis",
                        dx(s, d)
                    )
                }
            }
            Event::ValidProcedure { px: p } => {
                if zh {
                    format!("有效手术操作：{}", px(s, p))
                } else {
                    format!("valid (OR) procedure: {}", px(s, p))
                }
            }
            Event::DiagnosisNotForGrouping { dx: d } => {
                if zh {
                    format!(
                        "提示：{} 在不参与分组诊断表（ZD_INVALID）中，仍按原样分组",
                        dx(s, d)
                    )
                } else {
                    format!(
                        "warning: {} is listed as not for grouping (ZD_INVALID); kept, as the reference does",
                        dx(s, d)
                    )
                }
            }
            Event::ProcedureNotForGrouping { px: p } => {
                if zh {
                    format!(
                        "提示：{} 在不参与分组手术表（SS_INVALID）中，仍按原样分组",
                        px(s, p)
                    )
                } else {
                    format!(
                        "warning: {} is listed as not for grouping (SS_INVALID); kept, as the reference does",
                        px(s, p)
                    )
                }
            }
            Event::MdcEntered { mdc, how } => {
                let m = &s.mdcs[mdc as usize];
                let why = match (how, lang) {
                    (EntryHow::Always, Lang::Zh) => "先期分组，所有病例均尝试".to_string(),
                    (EntryHow::Always, Lang::En) => "pre-MDC, tried on every case".to_string(),
                    (EntryHow::Principal, Lang::Zh) => "主诊断匹配".to_string(),
                    (EntryHow::Principal, Lang::En) => {
                        "the principal diagnosis is on its list".to_string()
                    }
                    (EntryHow::AnyDiagnosis(d), Lang::Zh) => format!("诊断 {} 匹配", dx(s, d)),
                    (EntryHow::AnyDiagnosis(d), Lang::En) => {
                        format!("diagnosis {} is on its list", dx(s, d))
                    }
                    (EntryHow::TraumaSites(mask), _) => {
                        let names: Vec<&str> = s
                            .trauma_sites
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| mask & (1 << i) != 0)
                            .map(|(_, n)| n.as_str())
                            .collect();
                        if zh {
                            format!("诊断匹配部位：{}", names.join("、"))
                        } else {
                            format!("trauma at {} body sites: {}", names.len(), names.join(", "))
                        }
                    }
                    (EntryHow::Newborn, Lang::Zh) => "新生儿（0岁）且为新生儿诊断".to_string(),
                    (EntryHow::Newborn, Lang::En) => {
                        "newborn (age 0) with a newborn diagnosis".to_string()
                    }
                };
                if zh {
                    format!("符合{}入组条件：{why}", m.code)
                } else {
                    format!("entered {} ({}): {why}", m.code, m.name)
                }
            }
            Event::MdcSkipped { mdc, why } => {
                let m = &s.mdcs[mdc as usize].code;
                match (why, lang) {
                    (SkipWhy::TooFewTraumaSites { found, needed }, Lang::Zh) => {
                        format!("{m}：诊断匹配部位数量{found}，少于{needed}，不符合MDCZ要求")
                    }
                    (SkipWhy::TooFewTraumaSites { found, needed }, Lang::En) => {
                        format!("{m} passed over: trauma at {found} body site(s), {needed} needed")
                    }
                    (SkipWhy::OtherSex { shared: true }, Lang::Zh) => {
                        format!("{m}：性别不符，主诊断为两性共用诊断，继续")
                    }
                    (SkipWhy::OtherSex { shared: true }, Lang::En) => format!(
                        "{m} passed over: other sex, and the diagnosis is shared by both sexes"
                    ),
                    (SkipWhy::OtherSex { shared: false }, Lang::Zh) => {
                        format!("{m}：性别不符，继续")
                    }
                    (SkipWhy::OtherSex { shared: false }, Lang::En) => {
                        format!("{m} passed over: it is for the other sex")
                    }
                    (SkipWhy::NothingMatched, Lang::Zh) => {
                        format!("{m}：无匹配的ADRG，继续下一个MDC")
                    }
                    (SkipWhy::NothingMatched, Lang::En) => {
                        format!("{m}: no ADRG applies; going on to the next MDC")
                    }
                }
            }
            Event::AdrgMatched { adrg, alt } => {
                let a = &s.adrgs[adrg as usize];
                let set = &a.alternatives[alt as usize];
                let conds: Vec<String> = set.conds.iter().map(|c| cond_text(s, c, lang)).collect();
                if zh {
                    format!(
                        "符合{}（{}）入组条件{}：{}",
                        a.code,
                        a.name,
                        if set.label != a.code {
                            format!("（{}）", set.label)
                        } else {
                            String::new()
                        },
                        conds.join(" 且 ")
                    )
                } else {
                    format!(
                        "ADRG {} ({}) applies{}: {}",
                        a.code,
                        a.name,
                        if set.label != a.code {
                            format!(" by alternative {}", set.label)
                        } else {
                            String::new()
                        },
                        conds.join(" and ")
                    )
                }
            }
            Event::ChainExhausted { adrg } => {
                let a = &s.adrgs[adrg as usize].code;
                if zh {
                    format!("{a} 的细分条件均不满足，继续下一个ADRG")
                } else {
                    format!("no DRG row of {a} applies; going on to the next ADRG")
                }
            }
            Event::DrgChosen { drg, row } => {
                let d = &s.drgs[drg as usize];
                let a = d.adrg.map(|a| &s.adrgs[a as usize]);
                let conds: Vec<String> = a
                    .map(|a| {
                        a.chain[row as usize]
                            .conds
                            .iter()
                            .map(|c| drg_cond_text(s, c, lang))
                            .collect()
                    })
                    .unwrap_or_default();
                let rule = match (d.rule, conds.is_empty(), lang) {
                    (SplitRule::NoSplit, _, Lang::Zh) => "不细分".to_string(),
                    (SplitRule::NoSplit, _, Lang::En) => "not split".to_string(),
                    (_, true, Lang::Zh) => "其余病例".to_string(),
                    (_, true, Lang::En) => "the remaining cases".to_string(),
                    (_, false, Lang::Zh) => conds.join(" 且 "),
                    (_, false, Lang::En) => conds.join(" and "),
                };
                if zh {
                    format!("入组 {} {}：{rule}", d.code, d.name)
                } else {
                    format!("DRG {} ({}): {rule}", d.code, d.name)
                }
            }
            Event::Ambiguous { mdc, why } => {
                let m = &s.mdcs[mdc as usize];
                match (why, lang) {
                    (AmbiguousWhy::ValidProcedureWithoutAdrg(p), Lang::Zh) => format!(
                        "符合{}入组条件，存在有效手术操作 {}，但无匹配的手术ADRG → 歧义病案",
                        m.qy_code,
                        px(s, p)
                    ),
                    (AmbiguousWhy::ValidProcedureWithoutAdrg(p), Lang::En) => format!(
                        "ambiguous {}: the valid principal procedure {} fits no procedure ADRG of {}",
                        m.qy_code,
                        px(s, p),
                        m.code
                    ),
                    (AmbiguousWhy::SexConflict { mdc: on }, Lang::Zh) => format!(
                        "主诊断在{}主诊表，性别不符 → {}",
                        s.mdcs[on as usize].code, m.qy_code
                    ),
                    (AmbiguousWhy::SexConflict { mdc: on }, Lang::En) => format!(
                        "ambiguous {}: the principal diagnosis is on {}'s list but the patient is of the other sex",
                        m.qy_code, s.mdcs[on as usize].code
                    ),
                    (AmbiguousWhy::NewbornWithoutNewbornDiagnosis { days }, Lang::Zh) => format!(
                        "主诊断不为新生儿诊断，年龄{days}天（≤28天）→ {}",
                        m.qy_code
                    ),
                    (AmbiguousWhy::NewbornWithoutNewbornDiagnosis { days }, Lang::En) => format!(
                        "ambiguous {}: a newborn of {days} days whose principal diagnosis is not a newborn diagnosis",
                        m.qy_code
                    ),
                    (AmbiguousWhy::LateInfantWithNewbornDiagnosis { days }, Lang::Zh) => format!(
                        "主诊断为新生儿诊断，年龄{days}天（>28天）→ {}",
                        m.qy_code
                    ),
                    (AmbiguousWhy::LateInfantWithNewbornDiagnosis { days }, Lang::En) => format!(
                        "ambiguous {}: an infant of {days} days with a newborn-only principal diagnosis",
                        m.qy_code
                    ),
                }
            }
            Event::Ungroupable => {
                if zh {
                    "不符合所有MDC的入组条件，无法入组".into()
                } else {
                    "no MDC yields a group: ungroupable".into()
                }
            }
        };
        out.push(line);
    }
    out
}
