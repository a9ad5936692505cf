//! A miniature scheme, written as table files in memory, for the rule-kind tests: every kind
//! of condition, entry and split appears once, so that each test reads like the rule it tests.

use std::sync::Arc;

use drgdip_scheme::{MemFiles, Registry, Scheme};

pub const DIAGNOSES: &str = "\
B00.000 脑病A
B00.001 脑病B
B00.002 脑病C
C00.001 一般并发症
C00.002 严重并发症
C00.003 同表并发症
M00.000 男性生殖病
N00.000 女性生殖病
X00.000 两性共用病
O00.000 妊娠病
S00.000 头部创伤
S20.000 胸部创伤
S20.001 胸部创伤二
P00.000 新生儿病
P22.000 新生儿呼吸窘迫
P07.300 早产儿
P07.100 低出生体重
H00.000 HIV病
Z99.000 无MDC诊断
";

pub const PROCEDURES: &str = "\
01.0001 颅脑手术
01.0002 其他有效手术
01.0003 非手术室操作
02.0001 心肺移植
03.0001 新生儿手术
04.0001 创伤手术
05.0001 双手术一
05.0002 双手术二
06.0001 普通操作
07.0001 福建新增有效手术
";

fn files() -> MemFiles {
    let t = "tables";
    MemFiles::new()
        .with("codes/diagnoses.dat", DIAGNOSES)
        .with("codes/procedures.dat", PROCEDURES)
        .with("codes/diagnosis_map.dat", "B00.000 B00.000\nB99.000 B00.001\n")
        .with("codes/procedure_map.dat", "01.0001 01.0001\n")
        .with(&format!("{t}/MDC.dat"), "MDCA 先期\nMDCP 新生儿\nMDCY HIV\nMDCZ 多发创伤\nMDCM 男性\nMDCN 女性\nMDCO 妊娠\nMDCB 神经\n")
        .with(&format!("{t}/MDC/MDCA_先期.dat"), "")
        .with(&format!("{t}/MDC/MDCP_新生儿.dat"), "包含以下主要诊断：\nP00.000 a\nP22.000 b\n")
        .with(&format!("{t}/MDC/MDCY_HIV.dat"), "包含以下诊断：\nH00.000 a\n")
        .with(&format!("{t}/MDC/MDCZ_多发创伤.dat"), "头颈部创伤\n包含以下诊断：\nS00.000 a\n胸部创伤\n包含以下诊断：\nS20.000 b\nS20.001 c\n")
        .with(&format!("{t}/MDC/MDCM_男性.dat"), "包含以下主要诊断：\nM00.000 a\nX00.000 b\n")
        .with(&format!("{t}/MDC/MDCN_女性.dat"), "包含以下主要诊断：\nN00.000 a\nX00.000 b\n")
        .with(&format!("{t}/MDC/MDCO_妊娠.dat"), "包含以下主要诊断：\nO00.000 a\n")
        .with(&format!("{t}/MDC/MDCB_神经.dat"), "包含以下主要诊断：\nB00.000 a\nB00.001 b\nB00.002 d\nS00.000 c\n")
        .with(&format!("{t}/ADRG.dat"), "AA1 心肺移植\nPB1 新生儿手术\nPR1 呼吸窘迫\nPS1 早产＜1500g\nPS4 早产＞2499g\nPU1 新生儿其他\nPV1 婴儿\nYC1 HIV手术\nYR1 HIV\nZB1 创伤手术\nZZ1 创伤无手术\nMR1 男性病\nNR1 女性病\nOZ1 妊娠病\nBB1 颅脑手术\nBB2 双手术\nBL1 非手术操作\nBR1 脑病\nBZ1 其他\n")
        .with(&format!("{t}/DRG.dat"), "AA19 a\nPB19 a\nPR11 a\nPR15 a\nPS11 a\nPS15 a\nPS43 a\nPS45 a\nPU19 a\nPV19 a\nYC11 a\nYC13 a\nYC15 a\nYR11 a\nYR15 a\nZB19 a\nZZ11 a\nZZ15 a\nMR13 a\nMR15 a\nNR19 a\nOZ19 a\nBB11 a\nBB13 a\nBB15 a\nBB29 a\nBL11 a\nBL15 a\nBR13 a\nBR15 a\nBZ19 a\n")
        .with(&format!("{t}/ADRG/AA1_心肺移植.dat"), "包含以下主要手术或操作：\n02.0001 a")
        .with(&format!("{t}/ADRG/PB1_新生儿手术.dat"), "包含以下主要手术或操作：\n03.0001 a\n")
        .with(&format!("{t}/ADRG/PR1_呼吸窘迫.dat"), "包含以下主要诊断：\nP22.000 a\n")
        .with(&format!("{t}/ADRG/PS1_早产＜1500g.dat"), "包含以下主要诊断或其他诊断：\nP07.300 a\n")
        .with(&format!("{t}/ADRG/PS4_早产＞2499g.dat"), "包含以下主要诊断或其他诊断：\nP07.300 a\n")
        .with(&format!("{t}/ADRG/PU1_新生儿其他.dat"), "包含以下主要诊断：\nP00.000 a\n")
        .with(&format!("{t}/ADRG/PV1_婴儿.dat"), "包含以下主要诊断：\nP00.000 a\n")
        .with(&format!("{t}/ADRG/YC1_HIV手术.dat"), "包含全部手术或操作\n")
        .with(&format!("{t}/ADRG/YR1_HIV.dat"), "包含以下主要诊断或其他诊断：\nH00.000 a\n")
        .with(&format!("{t}/ADRG/ZB1_创伤手术.dat"), "包含以下主要手术或操作：\n04.0001 a\n")
        .with(&format!("{t}/ADRG/ZZ1_创伤无手术.dat"), "符合 MDCZ 诊断表，且无手术或操作\n")
        .with(&format!("{t}/ADRG/MR1_男性病.dat"), "包含以下主要诊断：\nM00.000 a\nX00.000 b\n")
        .with(&format!("{t}/ADRG/NR1_女性病.dat"), "包含以下主要诊断：\nN00.000 a\nX00.000 b\n")
        .with(&format!("{t}/ADRG/OZ1_妊娠病.dat"), "包含以下主要诊断：\nO00.000 a\n")
        .with(&format!("{t}/ADRG/BB1_颅脑手术.dat"), "包含以下主要诊断：\nB00.001 a\n包含以下主要手术或操作：\n01.0001 b\n")
        .with(&format!("{t}/ADRG/BB2_双手术.dat"), "同时包含以下手术或操作：\n05.0001 a\n和\n05.0002 b\n")
        .with(&format!("{t}/ADRG/BL1_非手术操作.dat"), "包含以下主要手术或操作：\n01.0003 a\n")
        .with(&format!("{t}/ADRG/BR1_脑病.dat"), "包含以下主要诊断：\nB00.000 a\nB00.001 b\n")
        .with(&format!("{t}/ADRG/BZ1_其他.dat"), "入组条件 1：主要诊断或入组条件 2：其他诊断\n主要诊断：\nS00.000 a\n其他诊断：\nC00.003 b\n")
        .with(&format!("{t}/ADRG/BZ1_1_其他.dat"), "主要诊断：\nS00.000 a\n")
        .with(&format!("{t}/ADRG/BZ1_2_其他.dat"), "入组条件 2：其他诊断\n其他诊断：\nC00.003 b\n")
        .with(&format!("{t}/CCE.dat"), "B00.000 10\nB00.001 11\nC00.001 20\nC00.002 21\nC00.003 10\nH00.000 30\n")
        .with(&format!("{t}/MCC.dat"), "C00.002 21\nH00.000 30\n")
        .with(&format!("{t}/CC.dat"), "C00.001 20\nC00.003 10\n")
        .with(&format!("{t}/SEX_SHARED.dat"), "性别冲突豁免：\nX00.000 b\n")
        .with(&format!("{t}/SS_VALID.dat"), "有效手术操作：\n01.0001 a\n01.0002 b\n02.0001 c\n03.0001 d\n04.0001 e\n")
        .with(&format!("{t}/ZD_INVALID.dat"), "Z99.000 a\n")
        .with(&format!("{t}/SS_INVALID.dat"), "06.0001 a\n")
        // a local layer over it
        .with("layer/drgs.csv", "drg,adrg,name,order,rule,principal_procedure_in,bilateral,max_age,complication,reachable,note\n\
0000,00,未入组,,ungroupable,,,,,yes,\n\
BQY,QY,歧义,,ambiguous,,,,,yes,\n\
MQY,QY,歧义,,ambiguous,,,,,yes,\n\
PQY,QY,歧义,,ambiguous,,,,,yes,\n\
ZQY,QY,歧义,,ambiguous,,,,,yes,\n\
NQY,QY,歧义,,ambiguous,,,,,yes,\n\
OQY,QY,歧义,,ambiguous,,,,,yes,\n\
AA19,AA1,a,1,no_split,,,,,yes,\n\
PB19,PB1,a,1,no_split,,,,,yes,\n\
PR15,PR1,a,1,otherwise,,,,,yes,\n\
PS15,PS1,a,1,otherwise,,,,,yes,\n\
PS45,PS4,a,1,otherwise,,,,,yes,\n\
PU19,PU1,a,1,no_split,,,,,yes,\n\
PV19,PV1,a,1,no_split,,,,,yes,\n\
YC19,YC1,a,1,no_split,,,,,yes,\n\
YR19,YR1,a,1,no_split,,,,,yes,\n\
ZB19,ZB1,a,1,no_split,,,,,yes,\n\
ZZ19,ZZ1,a,1,no_split,,,,,yes,\n\
MR19,MR1,a,1,no_split,,,,,yes,\n\
NR19,NR1,a,1,no_split,,,,,yes,\n\
OZ19,OZ1,a,1,no_split,,,,,yes,\n\
BB1A,BB1,双侧,1,split,,yes,,,yes,\n\
BB1B,BB1,儿童,2,split,,,14,,yes,\n\
BB1C,BB1,列表,3,split,L1,,,,yes,\n\
BB1D,BB1,同列表,4,split,L1,,,,no,\n\
BB1E,BB1,MCC,5,split,,,,mcc_any,yes,\n\
BB1F,BB1,CC,6,split,,,,cc_any,yes,\n\
BB15,BB1,其余,7,otherwise,,,,,yes,\n\
BB29,BB2,a,1,no_split,,,,,yes,\n\
BL11,BL1,a,1,mcc,,,,mcc,yes,\n\
BL13,BL1,a,2,mcc_or_cc,,,,mcc_or_cc,yes,\n\
BL15,BL1,a,3,otherwise,,,,,yes,\n\
BR1A,BR1,空,1,split,EMPTY,,,,no,\n\
BR19,BR1,a,2,no_split,,,,,yes,\n\
BZ19,BZ1,a,1,no_split,,,,,yes,\n\
RN21,RN2,未用,,unused,,,,,no,\n")
        .with("layer/lists/L1.dat", "L1 主要手术或操作：\n01.0001 a\n")
        .with("layer/lists/EMPTY.dat", "EMPTY 主要手术或操作：\n")
        .with("layer/SS_VALID.dat", "有效手术操作：\n01.0001 a\n01.0002 b\n02.0001 c\n03.0001 d\n04.0001 e\n07.0001 f\n")
        .with("layer/ambiguous.csv", "mdc,qy_rule\nMDCB,none\nMDCP,as_national\nMDCZ,as_national\nMDCM,as_national\nMDCN,as_national\nMDCO,as_national\n")
        .with("layer/adrg_overrides.csv", "adrg,national_condition,fujian_condition\nZZ1,no valid ppx,none\n")
}

pub const MANIFEST: &str = r#"
name = "mini"
version = "1"
tables = "tables"
mdc_order = ["A", "P", "Y", "Z", "M", "N", "O", "B"]
no_ambiguous = ["MDCA", "MDCY"]
[entry]
MDCA = { kind = "always" }
MDCP = { kind = "newborn", max_days = 28, prefix = "P07.", late_list_from = "PR1" }
MDCY = { kind = "any_diagnosis" }
MDCZ = { kind = "multi_site_trauma", min_sites = 2 }
MDCM = { kind = "principal", gender = "1", conflict = "MDCM" }
MDCN = { kind = "principal", gender = "2", conflict = "MDCM" }
MDCO = { kind = "principal", gender = "2" }
[adrg]
PB1 = { max_age_days = 28 }
PR1 = { max_age_days = 28 }
PS1 = { max_age_days = 28, min_birth_weight = 1, max_birth_weight = 1499 }
PS4 = { max_age_days = 28, min_birth_weight = 2500 }
PU1 = { max_age_days = 28 }
PV1 = { min_age_days = 29 }
"#;

pub const LAYER: &str = r#"
name = "mini-local"
version = "1"
base = "mini"
[layer]
dir = "layer"
drgs = "drgs.csv"
lists = "lists"
valid_procedures = "SS_VALID.dat"
ambiguous = "ambiguous.csv"
adrg_overrides = "adrg_overrides.csv"
[adrg]
ZZ1 = { condition = "none" }
"#;

/// The miniature national scheme and its local layer.
pub fn schemes() -> (Arc<Scheme>, Arc<Scheme>) {
    let files = files();
    let mut r = Registry::empty(&files);
    r.add_manifest_text("mini", MANIFEST).unwrap();
    r.add_manifest_text("mini-local", LAYER).unwrap();
    let base = r.get("mini").unwrap_or_else(|e| panic!("{e}"));
    let local = r.get("mini-local").unwrap_or_else(|e| panic!("{e}"));
    (base, local)
}
