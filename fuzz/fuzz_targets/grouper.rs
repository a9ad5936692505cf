#![no_main]
//! Arbitrary cases through both schemes, trace on: never a panic; a grouped case has a DRG of
//! its ADRG.

use arbitrary::Arbitrary;
use drgdip_drg::{explain, group, Case, Gender, Lang, Status, Trace};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

#[derive(Debug, Arbitrary)]
struct Input {
    male: bool,
    age: u8,
    days: Option<u16>,
    weight: Option<u16>,
    dx: Vec<u16>,
    px: Vec<u16>,
}

fuzz_target!(|i: Input| {
    let (national, fujian) = common::schemes();
    for s in [national, fujian] {
        let nd = s.catalog.diagnoses.len() as u32;
        let np = s.catalog.procedures.len() as u32;
        let dx: Vec<u32> = i.dx.iter().take(30).map(|&d| d as u32 % nd).collect();
        let px: Vec<u32> = i.px.iter().take(30).map(|&p| p as u32 % np).collect();
        let k = Case {
            gender: if i.male { Gender::Male } else { Gender::Female },
            age_years: i.age as u32,
            age_days: i.days.map(u32::from),
            birth_weight: i.weight.map(u32::from),
            diagnoses: &dx,
            procedures: &px,
        };
        let mut t = Trace::enabled();
        let g = group(s, &k, &mut t);
        if g.status == Status::Grouped {
            assert_eq!(s.drgs[g.drg.unwrap() as usize].adrg, g.adrg);
        }
        let _ = explain(s, &g, &t, Lang::Zh);
    }
});
