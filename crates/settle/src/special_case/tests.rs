use super::*;
use crate::testutil::{case, params};
use rust_decimal_macros::dec;

const EXPERTS: &str = "expert_id,name,discipline,hospital_id,title,phone\n\
E1,专家1,心血管内科,H002,主任医师,x\n\
E2,专家2,重症医学科,,主任医师,x\n\
E3,专家3,心血管内科,H003,副主任医师,x\n\
E4,专家4,医保管理,H004,高级经济师,x\n\
E5,专家5,病案质控,H001,主任医师,x\n\
E6,专家6,临床药学,,主任药师,x\n";

fn experts() -> Experts {
    Experts::parse(EXPERTS).unwrap()
}

fn base(method: Method, region: (u64, u64), hospital: (u64, u64)) -> QuotaBase {
    QuotaBase {
        method,
        region_settled: region.0,
        region_applied: region.1,
        hospital_settled: hospital.0,
        hospital_applied: hospital.1,
    }
}

fn per_hospital() -> Params {
    let mut p = params();
    p.special_case.allocation = QuotaAllocation::PerHospital;
    p
}

fn bureau() -> Actor {
    Actor::bureau("b-1")
}

fn h001() -> Actor {
    Actor::hospital("u-1", "H001")
}

fn expert(id: &str) -> Actor {
    Actor::reviewer(id)
}

fn request(id: &str, hospital_id: &str, period: &str, cases: &[&str]) -> ApplicationRequest {
    ApplicationRequest {
        id: id.to_string(),
        hospital_id: hospital_id.to_string(),
        period: period.parse().unwrap(),
        case_ids: cases.iter().map(|c| c.to_string()).collect(),
        reason: ReasonKind::HighCost,
        text: "ECMO for 21 days".to_string(),
        records: BTreeMap::new(),
    }
}

fn submitted(id: &str, hospital_id: &str, cases: &[&str]) -> Application {
    let actor = Actor::hospital("u-1", hospital_id);
    Application::submit(
        &actor,
        request(id, hospital_id, "2025Q2", cases),
        &params(),
        base(Method::Drg, (1000, 0), (1000, 0)),
    )
    .unwrap()
    .value
}

fn opinion(case: &str, outcome: Outcome) -> CaseOpinion {
    CaseOpinion {
        case: case.to_string(),
        outcome,
        reason: format!("expert reason for {case}"),
    }
}

fn all(app: &Application, outcome: Outcome) -> Vec<CaseOpinion> {
    app.tokens().map(|c| opinion(c, outcome)).collect()
}

/// `SC-1` of H001 with cases K2, K1 (tokens SC-1-01 = K1, SC-1-02 = K2) brought to `state`:
/// first reviewers E1, E2 (who disagree on K2), second reviewer E3 (approves K1 with 60
/// points, rejects K2).
fn in_state(state: ReviewState) -> Application {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = submitted("SC-1", "H001", &["K2", "K1"]);
    let order = [
        ReviewState::FirstReview,
        ReviewState::FirstReviewed,
        ReviewState::SecondReview,
        ReviewState::Decided,
    ];
    if state == ReviewState::Withdrawn {
        app.withdraw(&h001(), "no longer needed", &rules).unwrap();
    }
    let n = order.iter().position(|s| *s == state).map_or(0, |i| i + 1);
    for step in &order[..n] {
        match step {
            ReviewState::FirstReview => {
                app.assign_first_reviewers(&bureau(), &["E1", "E2"], &rules)
            }
            ReviewState::FirstReviewed => {
                let o = all(&app, Outcome::ApprovedPerItem);
                app.record_first_review(&expert("E1"), o, &rules).unwrap();
                let o = vec![
                    opinion("SC-1-01", Outcome::ApprovedPerItem),
                    opinion("SC-1-02", Outcome::Rejected),
                ];
                app.record_first_review(&expert("E2"), o, &rules)
            }
            ReviewState::SecondReview => app.assign_second_reviewer(&bureau(), "E3", &rules),
            _ => {
                let o = vec![
                    opinion("SC-1-01", Outcome::ApprovedExtraPoints { points: dec!(60) }),
                    opinion("SC-1-02", Outcome::Rejected),
                ];
                app.record_second_review(&expert("E3"), o, &rules)
            }
        }
        .unwrap();
    }
    assert_eq!(app.state(), state);
    app
}

// ---------------------------------------------------------------------------------------
// Quota

#[test]
fn pooled_the_cap_is_five_percent_of_the_regions_drg_cases_rounded_down() {
    // 5% of 119 = 5.95 → 5; the hospital's own count does not matter
    let q = check_quota(&params(), base(Method::Drg, (119, 0), (3, 0)), 5).unwrap();
    assert_eq!((q.cap, q.used, q.remaining()), (5, 0, 5));
    assert_eq!(q.allocation, QuotaAllocation::Pooled);
    let e = check_quota(&params(), base(Method::Drg, (119, 0), (3, 0)), 6).unwrap_err();
    assert!(matches!(
        e,
        SpecialCaseError::QuotaExceeded {
            cap: 5,
            used: 0,
            remaining: 5,
            requested: 6,
            ..
        }
    ));
}

#[test]
fn pooled_the_cap_is_shared_first_come_first_served_and_a_refusal_gives_the_numbers() {
    // 1,000 region cases → cap 50; other hospitals already used 48
    let p = params();
    check_quota(&p, base(Method::Drg, (1000, 48), (10, 0)), 2).unwrap();
    let e = check_quota(&p, base(Method::Drg, (1000, 48), (10, 0)), 3).unwrap_err();
    let text = e.to_string();
    for part in [
        "3 cases requested",
        "2 remaining of the cap 50",
        "48 used",
        "floor(5% × the region's 1000 DRG-settled cases) = 50",
    ] {
        assert!(text.contains(part), "{text}");
    }
}

#[test]
fn per_hospital_each_gets_its_share_of_its_own_cases_at_least_min_per_hospital() {
    let p = per_hospital();
    // 2,400 own cases → 120, whatever the region used
    let q = check_quota(&p, base(Method::Drg, (48000, 2399), (2400, 0)), 120).unwrap();
    assert_eq!((q.cap, q.settled_cases), (120, 2400));
    let e = check_quota(&p, base(Method::Drg, (48000, 0), (2400, 100)), 21).unwrap_err();
    assert!(e.to_string().contains("20 remaining of the cap 120"), "{e}");
    // 10 cases → floor(0.5) = 0, raised to min_per_hospital = 1
    let q = check_quota(&p, base(Method::Drg, (1000, 0), (10, 0)), 1).unwrap();
    assert_eq!(q.cap, 1);
    // no settled case → no quota at all
    let e = check_quota(&p, base(Method::Drg, (1000, 0), (0, 0)), 1).unwrap_err();
    assert!(matches!(e, SpecialCaseError::QuotaExceeded { cap: 0, .. }));
}

#[test]
fn a_dip_region_uses_five_per_mille_of_its_dip_settled_cases() {
    // 5‰ of 1,000 = 5; 5‰ of 999 = 4.995 → 4
    let p = params();
    assert_eq!(
        check_quota(&p, base(Method::Dip, (1000, 0), (1000, 0)), 5)
            .unwrap()
            .cap,
        5
    );
    let e = check_quota(&p, base(Method::Dip, (999, 0), (999, 0)), 5).unwrap_err();
    assert!(
        e.to_string()
            .contains("floor(0.5% × the region's 999 DIP-settled cases) = 4"),
        "{e}"
    );
    let e = check_quota(&per_hospital(), base(Method::Dip, (9999, 0), (2400, 0)), 13).unwrap_err();
    assert!(
        matches!(e, SpecialCaseError::QuotaExceeded { cap: 12, .. }),
        "{e}"
    );
}

#[test]
fn the_quota_base_counts_the_paid_cases_of_the_period_of_the_region_or_a_hospital() {
    let cases = [
        case("C1", "H001", "2025-04", Category::Normal, dec!(1)),
        case("C2", "H001", "2025-06", Category::High, dec!(1)),
        case("C3", "H001", "2025-07", Category::Normal, dec!(1)),
        case("C4", "H002", "2025-05", Category::Normal, dec!(1)),
        case("C5", "H001", "2025-05", Category::Invalid, dec!(0)),
    ];
    let q2: Period = "2025Q2".parse().unwrap();
    assert_eq!(settled_cases_in_period(&cases, Some("H001"), q2), 2);
    assert_eq!(settled_cases_in_period(&cases, None, q2), 3);
}

// ---------------------------------------------------------------------------------------
// Submission

#[test]
fn a_hospital_submits_its_own_cases_each_under_a_token_of_the_application() {
    let app = submitted("SC-7", "H001", &["H001-K2", "H001-K1"]);
    assert_eq!(app.state(), ReviewState::Submitted);
    let tokens: Vec<&str> = app.tokens().collect();
    assert_eq!(tokens, ["SC-7-01", "SC-7-02"]);
    assert_eq!(app.case_of("SC-7-01").unwrap().case_id, "H001-K1");
    // another hospital's actor is refused; a period of another kind too
    let e = Application::submit(
        &Actor::hospital("u", "H002"),
        request("SC-8", "H001", "2025Q2", &["K1"]),
        &params(),
        base(Method::Drg, (1000, 0), (100, 0)),
    )
    .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NotAllowed { .. }));
    let e = Application::submit(
        &h001(),
        request("SC-8", "H001", "2025-05", &["K1"]),
        &params(),
        base(Method::Drg, (1000, 0), (100, 0)),
    )
    .unwrap_err();
    assert!(matches!(e, SpecialCaseError::WrongPeriodKind { .. }));
    let e = Application::submit(
        &h001(),
        request("SC-8", "H001", "2025Q2", &["K1", "K1"]),
        &params(),
        base(Method::Drg, (1000, 0), (100, 0)),
    )
    .unwrap_err();
    assert!(matches!(e, SpecialCaseError::DuplicateCase { .. }));
}

// ---------------------------------------------------------------------------------------
// Review

#[test]
fn two_first_reviewers_then_one_second_reviewer_who_decides_their_disagreement() {
    let app = in_state(ReviewState::FirstReviewed);
    assert_eq!(app.first_reviewers(), ["E1", "E2"]);
    assert_eq!(app.disagreements(), ["SC-1-02"]);
    let app = in_state(ReviewState::Decided);
    // the second review decides: K2 rejected (one first reviewer approved it), K1 with points
    let approvals = app.approvals();
    assert_eq!(approvals, [("K1", SpecialApproval::ExtraPoints(dec!(60)))]);
    assert_eq!(app.final_outcome("SC-1-02"), Some(Outcome::Rejected));
}

#[test]
fn a_first_review_stays_open_until_every_first_reviewer_has_recorded_once() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::FirstReview);
    let o = all(&app, Outcome::Rejected);
    let e = app
        .record_first_review(&expert("E1"), o.clone(), &rules)
        .unwrap();
    assert_eq!(e.after.as_deref(), Some("first_review"));
    assert!(e.reason.contains("1 of 2"), "{}", e.reason);
    let err = app
        .record_first_review(&expert("E1"), o.clone(), &rules)
        .unwrap_err();
    assert!(matches!(err, SpecialCaseError::AlreadyReviewed { .. }));
    let err = app
        .record_first_review(&expert("E3"), o.clone(), &rules)
        .unwrap_err();
    assert!(matches!(err, SpecialCaseError::NotAssigned { .. }));
    let e = app.record_first_review(&expert("E2"), o, &rules).unwrap();
    assert_eq!(e.after.as_deref(), Some("first_reviewed"));
}

#[test]
fn conflict_never_a_case_of_the_experts_own_hospital() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    // E5 works at H001
    let mut app = in_state(ReviewState::Submitted);
    let e = app
        .assign_first_reviewers(&bureau(), &["E1", "E5"], &rules)
        .unwrap_err();
    assert!(
        matches!(e, SpecialCaseError::OwnHospital { ref reviewer_id, .. } if reviewer_id == "E5")
    );
    assert!(e.is_conflict_of_interest());
    assert_eq!(app.state(), ReviewState::Submitted);
    let mut app = in_state(ReviewState::FirstReviewed);
    let e = app
        .assign_second_reviewer(&bureau(), "E5", &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::OwnHospital { .. }));
}

#[test]
fn conflict_never_both_stages() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::FirstReviewed);
    let e = app
        .assign_second_reviewer(&bureau(), "E2", &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::BothStages { .. }));
    assert!(e.is_conflict_of_interest());
    assert_eq!(app.state(), ReviewState::FirstReviewed);
}

#[test]
fn conflict_exactly_first_review_experts_distinct_registered_first_reviewers() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::Submitted);
    let e = app
        .assign_first_reviewers(&bureau(), &["E1"], &rules)
        .unwrap_err();
    assert!(matches!(
        e,
        SpecialCaseError::WrongReviewerCount {
            expected: 2,
            found: 1,
            ..
        }
    ));
    let e = app
        .assign_first_reviewers(&bureau(), &["E1", "E1"], &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::DuplicateReviewer { .. }));
    let e = app
        .assign_first_reviewers(&bureau(), &["E1", "R9"], &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::UnknownExpert { .. }));
    // three experts when the parameters ask for three
    let mut p = params();
    p.special_case.first_review_experts = 3;
    let rules3 = ReviewRules::new(&p, &ex);
    app.assign_first_reviewers(&bureau(), &["E1", "E2", "E6"], &rules3)
        .unwrap();
    assert_eq!(app.first_reviewers().len(), 3);
}

#[test]
fn conflict_a_spot_check_goes_to_an_expert_who_took_no_part() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::Decided);
    let half = HalfYear::new(2025, 1).unwrap();
    app.draw_spot_check(&bureau(), "SC-1-01", half, 7).unwrap();
    for part in ["E1", "E2", "E3"] {
        let e = app
            .apply(
                &bureau(),
                Command::AssignSpotCheck {
                    case: "SC-1-01".into(),
                    reviewer_id: part.into(),
                },
                &rules,
            )
            .unwrap_err();
        assert!(
            matches!(e, SpecialCaseError::SpotCheckConflict { .. }),
            "{part}: {e}"
        );
    }
    let e = app
        .apply(
            &bureau(),
            Command::AssignSpotCheck {
                case: "SC-1-01".into(),
                reviewer_id: "E5".into(),
            },
            &rules,
        )
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::OwnHospital { .. }));
    // a case that was not drawn has no spot check to assign
    let e = app
        .apply(
            &bureau(),
            Command::AssignSpotCheck {
                case: "SC-1-02".into(),
                reviewer_id: "E4".into(),
            },
            &rules,
        )
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NoSpotCheck { .. }));
}

#[test]
fn outcomes_extra_points_must_be_above_zero_and_at_most_max_extra_points() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::SecondReview);
    for points in [dec!(0), dec!(-1), dec!(2000.01)] {
        let o = all(&app, Outcome::ApprovedExtraPoints { points });
        let e = app
            .record_second_review(&expert("E3"), o, &rules)
            .unwrap_err();
        assert!(
            matches!(e, SpecialCaseError::PointsOutOfRange { .. }),
            "{points}"
        );
        assert!(e.to_string().contains("≤ 2000"), "{e}");
    }
    let mut o = all(&app, Outcome::ApprovedExtraPoints { points: dec!(2000) });
    o[1].reason = " ".into();
    let e = app
        .record_second_review(&expert("E3"), o, &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::MissingReason { .. }));
    let o = vec![opinion("SC-1-01", Outcome::ApprovedPerItem)];
    let e = app
        .record_second_review(&expert("E3"), o, &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::MissingOpinion { .. }));
    // opinions name tokens, never case ids
    let o = vec![
        opinion("K1", Outcome::ApprovedPerItem),
        opinion("SC-1-02", Outcome::Rejected),
    ];
    let e = app
        .record_second_review(&expert("E3"), o, &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::UnknownCase { .. }));
    let o = all(&app, Outcome::ApprovedExtraPoints { points: dec!(2000) });
    app.record_second_review(&expert("E3"), o, &rules).unwrap();
    assert_eq!(app.approvals().len(), 2);
}

#[test]
fn every_transition_is_legal_only_in_its_state_and_illegal_ones_change_nothing() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let states = [
        ReviewState::Submitted,
        ReviewState::FirstReview,
        ReviewState::FirstReviewed,
        ReviewState::SecondReview,
        ReviewState::Decided,
        ReviewState::Withdrawn,
    ];
    for state in states {
        let app = in_state(state);
        let commands: Vec<(Actor, Command, &[ReviewState])> = vec![
            (
                bureau(),
                Command::AssignFirstReviewers {
                    reviewer_ids: vec!["E4".into(), "E6".into()],
                },
                &[ReviewState::Submitted],
            ),
            (
                expert("E1"),
                Command::RecordFirstReview {
                    opinions: all(&app, Outcome::Rejected),
                },
                &[ReviewState::FirstReview],
            ),
            (
                bureau(),
                Command::AssignSecondReviewer {
                    reviewer_id: "E4".into(),
                },
                &[ReviewState::FirstReviewed],
            ),
            (
                expert("E3"),
                Command::RecordSecondReview {
                    decisions: all(&app, Outcome::Rejected),
                },
                &[ReviewState::SecondReview],
            ),
            (
                h001(),
                Command::Withdraw { reason: "x".into() },
                &[ReviewState::Submitted, ReviewState::FirstReview],
            ),
        ];
        for (actor, command, legal) in commands {
            let mut copy = app.clone();
            let name = command.name();
            let result = copy.apply(&actor, command, &rules);
            if legal.contains(&state) {
                assert!(result.is_ok(), "{name} in {state}: {result:?}");
            } else {
                assert!(
                    matches!(
                        result,
                        Err(SpecialCaseError::IllegalTransition { .. }
                            | SpecialCaseError::NotAssigned { .. })
                    ),
                    "{name} in {state}: {result:?}"
                );
                assert_eq!(copy, app, "{name} in {state} changed the application");
            }
        }
    }
}

#[test]
fn only_the_right_role_may_give_a_command() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::Submitted);
    let e = app
        .assign_first_reviewers(&h001(), &["E1", "E2"], &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NotAllowed { .. }));
    let e = app
        .assign_first_reviewers(&expert("E1"), &["E1", "E2"], &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NotAllowed { .. }));
    let e = app
        .withdraw(&Actor::hospital("u", "H002"), "x", &rules)
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NotAllowed { .. }));
}

#[test]
fn a_reviewer_sees_tokens_and_records_never_the_hospital_or_a_case_id() {
    let app = in_state(ReviewState::SecondReview);
    let first = app.reviewer_view(&expert("E1")).unwrap();
    assert_eq!(first.stage, "first");
    assert!(first.first_reviews.is_none() && first.disagreements.is_none());
    let second = app.reviewer_view(&expert("E3")).unwrap();
    assert_eq!(second.stage, "second");
    let reviews = second.first_reviews.as_ref().unwrap();
    assert_eq!(reviews.len(), 2);
    assert_eq!(
        second.disagreements.as_deref(),
        Some(&["SC-1-02".to_string()][..])
    );
    for view in [&first, &second] {
        let json = serde_json::to_string(view).unwrap();
        for hidden in ["H001", "\"K1\"", "\"K2\"", "E1", "E2"] {
            assert!(!json.contains(hidden), "{hidden} in {json}");
        }
    }
    assert!(matches!(
        app.reviewer_view(&expert("E4")),
        Err(SpecialCaseError::NotAssigned { .. })
    ));
    assert!(matches!(
        app.reviewer_view(&bureau()),
        Err(SpecialCaseError::NotAllowed { .. })
    ));
    // the hospital sees its case ids and the outcome, never a reviewer
    let decided = in_state(ReviewState::Decided);
    let hv = decided.hospital_view(&h001()).unwrap();
    let json = serde_json::to_string(&hv).unwrap();
    assert!(json.contains("\"K1\"") && !json.contains("E3") && !json.contains("E1"));
}

// ---------------------------------------------------------------------------------------
// Spot checks

fn decided_apps(n: usize) -> Vec<Application> {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    (0..n)
        .map(|i| {
            let id = format!("SC-{i:03}");
            let ids: Vec<String> = (0..5).map(|k| format!("C{i}-{k}")).collect();
            let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut app = submitted(&id, "H001", &refs);
            app.assign_first_reviewers(&bureau(), &["E1", "E2"], &rules)
                .unwrap();
            for r in ["E1", "E2"] {
                let o = all(&app, Outcome::ApprovedPerItem);
                app.record_first_review(&expert(r), o, &rules).unwrap();
            }
            app.assign_second_reviewer(&bureau(), "E3", &rules).unwrap();
            let o = all(&app, Outcome::ApprovedPerItem);
            app.record_second_review(&expert("E3"), o, &rules).unwrap();
            app
        })
        .collect()
}

#[test]
fn the_spot_check_draw_is_ten_percent_rounded_up_and_the_same_seed_draws_the_same_cases() {
    let apps = decided_apps(7); // 35 decided cases → ceil(3.5) = 4
    let pending = submitted("SC-900", "H001", &["P1", "P2"]);
    let mut with_pending: Vec<&Application> = apps.iter().collect();
    with_pending.push(&pending);
    let half = HalfYear::new(2025, 1).unwrap();
    let a = draw_spot_checks(with_pending.iter().copied(), half, dec!(0.10), 42);
    assert_eq!((a.decided_cases, a.drawn.len()), (35, 4));
    assert!(a.drawn.iter().all(|d| d.application_id != "SC-900"));
    // the same seed, the applications in another order: the same draw
    let b = draw_spot_checks(with_pending.iter().rev().copied(), half, dec!(0.10), 42);
    assert_eq!(a, b);
    // another seed: another draw (of the same size)
    let c = draw_spot_checks(apps.iter(), half, dec!(0.10), 43);
    assert_eq!(c.drawn.len(), 4);
    assert_ne!(a.drawn, c.drawn);
    // another half-year has none of these cases
    let h2 = HalfYear::new(2025, 2).unwrap();
    assert!(draw_spot_checks(apps.iter(), h2, dec!(0.10), 42)
        .drawn
        .is_empty());
    assert_eq!(spot_check::draw_size(dec!(0.10), 5), 1);
    assert_eq!(spot_check::draw_size(dec!(0.10), 0), 0);
    assert_eq!(spot_check::draw_size(dec!(1), 3), 3);
}

#[test]
fn a_spot_check_reversal_becomes_the_final_outcome_and_a_confirmation_does_not() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut app = in_state(ReviewState::Decided);
    let half = HalfYear::new(2025, 1).unwrap();
    app.draw_spot_check(&bureau(), "SC-1-01", half, 7).unwrap();
    app.draw_spot_check(&bureau(), "SC-1-02", half, 7).unwrap();
    assert!(matches!(
        app.draw_spot_check(&bureau(), "SC-1-01", half, 7),
        Err(SpecialCaseError::AlreadyDrawn { .. })
    ));
    for (case, who) in [("SC-1-01", "E4"), ("SC-1-02", "E6")] {
        app.apply(
            &bureau(),
            Command::AssignSpotCheck {
                case: case.into(),
                reviewer_id: who.into(),
            },
            &rules,
        )
        .unwrap();
    }
    // E4 sees only its drawn case, without the decision
    let v = app.reviewer_view(&expert("E4")).unwrap();
    assert_eq!(v.stage, "spot_check");
    assert_eq!(v.cases.len(), 1);
    assert!(v.first_reviews.is_none());
    // only the assigned expert records it
    let e = app
        .apply(
            &expert("E6"),
            Command::RecordSpotCheck {
                opinion: opinion("SC-1-01", Outcome::Rejected),
            },
            &rules,
        )
        .unwrap_err();
    assert!(matches!(e, SpecialCaseError::NotAssigned { .. }));
    let e = app
        .apply(
            &expert("E4"),
            Command::RecordSpotCheck {
                opinion: opinion("SC-1-01", Outcome::Rejected),
            },
            &rules,
        )
        .unwrap();
    assert!(e.reason.contains("reversed"), "{}", e.reason);
    let e = app
        .apply(
            &expert("E6"),
            Command::RecordSpotCheck {
                opinion: opinion("SC-1-02", Outcome::Rejected),
            },
            &rules,
        )
        .unwrap();
    assert!(e.reason.contains("confirmed"), "{}", e.reason);
    assert_eq!(app.final_outcome("SC-1-01"), Some(Outcome::Rejected));
    assert!(app.approvals().is_empty());
    assert!(app.spot_checks()[0].is_reversal());
    assert!(!app.spot_checks()[1].is_reversal());
}

// ---------------------------------------------------------------------------------------
// Rounds

#[test]
fn a_quarterly_period_has_one_round_after_its_last_month_is_declared() {
    let q2: Period = "2025Q2".parse().unwrap();
    let rounds = review_rounds(ReviewPeriod::Quarter, q2, 10);
    assert_eq!(rounds.len(), 1);
    let r = rounds[0];
    assert_eq!(r.cases_through.to_string(), "2025-06");
    assert_eq!(r.applications_open.to_string(), "2025-07-11");
    assert_eq!(r.applications_close.to_string(), "2025-07-31");
    assert_eq!(r.review_by.to_string(), "2025-08-31");
}

#[test]
fn longer_periods_still_have_a_round_every_quarter_and_monthly_ones_every_month() {
    let year: Period = "2025".parse().unwrap();
    let rounds = review_rounds(ReviewPeriod::Year, year, 10);
    let through: Vec<String> = rounds.iter().map(|r| r.cases_through.to_string()).collect();
    assert_eq!(through, ["2025-03", "2025-06", "2025-09", "2025-12"]);
    assert_eq!(rounds[3].applications_close.to_string(), "2026-01-31");
    let month: Period = "2025-02".parse().unwrap();
    assert_eq!(review_rounds(ReviewPeriod::Month, month, 10).len(), 1);
}

#[test]
fn the_next_round_is_the_first_whose_applications_have_not_closed() {
    let d = |s: &str| s.parse::<crate::calendar::Date>().unwrap();
    let r = next_round(ReviewPeriod::Quarter, d("2025-07-20"), 10);
    assert_eq!(r.period.to_string(), "2025Q2");
    let r = next_round(ReviewPeriod::Quarter, d("2025-08-01"), 10);
    assert_eq!(r.period.to_string(), "2025Q3");
    assert_eq!(r.applications_open.to_string(), "2025-10-11");
    let r = next_round(ReviewPeriod::Quarter, d("2026-01-15"), 10);
    assert_eq!(r.period.to_string(), "2025Q4");
    let r = next_round(ReviewPeriod::Month, d("2025-03-05"), 10);
    assert_eq!(r.period.to_string(), "2025-02");
}

// ---------------------------------------------------------------------------------------
// Notice

#[test]
fn the_notice_counts_per_hospital_with_the_regions_totals_and_the_spot_checks() {
    let ex = experts();
    let rules = ReviewRules::new(&params(), &ex);
    let mut decided = in_state(ReviewState::Decided);
    let half = HalfYear::new(2025, 1).unwrap();
    decided
        .draw_spot_check(&bureau(), "SC-1-01", half, 99)
        .unwrap();
    decided
        .apply(
            &bureau(),
            Command::AssignSpotCheck {
                case: "SC-1-01".into(),
                reviewer_id: "E4".into(),
            },
            &rules,
        )
        .unwrap();
    decided
        .apply(
            &expert("E4"),
            Command::RecordSpotCheck {
                opinion: opinion("SC-1-01", Outcome::Rejected),
            },
            &rules,
        )
        .unwrap();
    let mut withdrawn = submitted("SC-2", "H001", &["W1"]);
    withdrawn.withdraw(&h001(), "not needed", &rules).unwrap();
    let pending = submitted("SC-3", "H002", &["P1", "P2", "P3"]);
    let apps = [decided, withdrawn, pending];
    let notice = half_year_notice(&apps, half, &["H001", "H002", "H009"]).unwrap();
    assert_eq!(notice.rows.len(), 3);
    let h1 = &notice.rows[0];
    assert_eq!(
        (
            h1.applications,
            h1.cases_applied,
            h1.cases_approved,
            h1.cases_rejected,
            h1.cases_withdrawn,
            h1.spot_checked,
            h1.spot_reversed
        ),
        (2, 3, 0, 2, 1, 1, 1)
    );
    assert_eq!(notice.rows[1].cases_pending, 3);
    assert_eq!(notice.rows[2].applications, 0);
    assert_eq!(notice.totals.cases_applied, 6);
    assert_eq!(notice.totals.spot_reversed, 1);
    assert_eq!(notice.spot_check_seeds, [99]);
    assert!(matches!(
        half_year_notice(&apps, HalfYear::new(2024, 2).unwrap(), &[]),
        Err(SpecialCaseError::BeforeFirstNotice { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Experts

#[test]
fn the_expert_registry_reads_the_header_ignores_extra_columns_and_names_bad_rows() {
    let ex = experts();
    assert_eq!(ex.len(), 6);
    assert_eq!(ex.get("E2").unwrap().hospital_id, None);
    assert_eq!(ex.get("E1").unwrap().hospital_id.as_deref(), Some("H002"));
    let bad = [
        ("expert_id,name,discipline\nE1,a,b\n", 1, "hospital_id"),
        (
            "expert_id,name,discipline,hospital_id\nE 1,a,b,H1\n",
            2,
            "expert_id",
        ),
        (
            "expert_id,name,discipline,hospital_id\nE1,a,,H1\n",
            2,
            "discipline",
        ),
        (
            "expert_id,name,discipline,hospital_id\nE1,,b,H1\n",
            2,
            "name",
        ),
        (
            "expert_id,name,discipline,hospital_id\nE1,a,b,H 1\n",
            2,
            "hospital_id",
        ),
        (
            "expert_id,name,discipline,hospital_id\nE1,a,b,\nE1,c,d,\n",
            3,
            "expert_id",
        ),
    ];
    for (text, line, field) in bad {
        let e = Experts::parse(text).unwrap_err();
        assert_eq!((e.line, e.field), (line, field), "{text}: {e}");
        assert!(e.to_string().contains(&format!("line {line}")), "{e}");
    }
}
