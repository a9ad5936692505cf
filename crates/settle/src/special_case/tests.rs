use super::*;
use crate::calendar::YearMonth;
use crate::testutil::{case, params};
use rust_decimal_macros::dec;

fn drg(settled_cases: u64, already_applied: u64) -> QuotaBase {
    QuotaBase {
        method: Method::Drg,
        settled_cases,
        already_applied,
    }
}

fn dip(settled_cases: u64, already_applied: u64) -> QuotaBase {
    QuotaBase {
        method: Method::Dip,
        settled_cases,
        already_applied,
    }
}

fn bureau() -> Actor {
    Actor::bureau("b-1")
}

fn h001() -> Actor {
    Actor::hospital("u-1", "H001")
}

fn r1() -> Actor {
    Actor::reviewer("r-1")
}

fn r2() -> Actor {
    Actor::reviewer("r-2")
}

fn request(id: &str, hospital_id: &str, period: &str, cases: &[&str]) -> ApplicationRequest {
    ApplicationRequest {
        id: id.to_string(),
        hospital_id: hospital_id.to_string(),
        period: period.parse().unwrap(),
        case_ids: cases.iter().map(|c| c.to_string()).collect(),
        reason: ReasonKind::HighCost,
        text: "ECMO for 21 days".to_string(),
    }
}

fn submitted(id: &str, hospital_id: &str, period: &str, cases: &[&str]) -> Application {
    let actor = Actor::hospital("u-1", hospital_id);
    Application::submit(
        &actor,
        request(id, hospital_id, period, cases),
        &params(),
        drg(1000, 0),
    )
    .unwrap()
    .value
}

fn opinion(case_id: &str, outcome: Outcome) -> CaseOpinion {
    CaseOpinion {
        case_id: case_id.to_string(),
        outcome,
        reason: format!("expert reason for {case_id}"),
    }
}

fn opinions(app: &Application, outcome: Outcome) -> Vec<CaseOpinion> {
    app.case_ids().iter().map(|c| opinion(c, outcome)).collect()
}

/// An application of H001 with cases K2, K1 brought to `state`.
fn in_state(state: ReviewState) -> Application {
    let mut app = submitted("A-1", "H001", "2025Q2", &["K2", "K1"]);
    let steps: &[ReviewState] = match state {
        ReviewState::Submitted => &[],
        ReviewState::FirstReview => &[ReviewState::FirstReview],
        ReviewState::FirstReviewed => &[ReviewState::FirstReview, ReviewState::FirstReviewed],
        ReviewState::SecondReview => &[
            ReviewState::FirstReview,
            ReviewState::FirstReviewed,
            ReviewState::SecondReview,
        ],
        ReviewState::Decided => &[
            ReviewState::FirstReview,
            ReviewState::FirstReviewed,
            ReviewState::SecondReview,
            ReviewState::Decided,
        ],
        ReviewState::Withdrawn => {
            app.withdraw(&h001(), "no longer needed").unwrap();
            &[]
        }
    };
    for step in steps {
        match step {
            ReviewState::FirstReview => app.assign_first_reviewer(&bureau(), "r-1").map(drop),
            ReviewState::FirstReviewed => {
                let o = opinions(&app, Outcome::ApprovedPerItem);
                app.record_first_review(&r1(), o).map(drop)
            }
            ReviewState::SecondReview => app.assign_second_reviewer(&bureau(), "r-2").map(drop),
            ReviewState::Decided => {
                let o = vec![
                    opinion("K1", Outcome::ApprovedExtraPoints { points: dec!(60) }),
                    opinion("K2", Outcome::Rejected),
                ];
                app.record_second_review(&r2(), o).map(drop)
            }
            _ => unreachable!(),
        }
        .unwrap();
    }
    assert_eq!(app.state(), state);
    app
}

#[test]
fn the_drg_quota_is_the_floor_of_five_percent_exactly_at_it_passes_one_over_fails() {
    let p = params();
    // 100 DRG cases × 5% = 5 exactly.
    let quota = check_quota(&p, drg(100, 0), 5).unwrap();
    assert_eq!((quota.limit, quota.requested), (5, 5));
    let err = check_quota(&p, drg(100, 0), 6).unwrap_err();
    assert_eq!(
        err.to_string(),
        "quota exceeded by 1 cases: quota floor(5% × 100 DRG-settled cases) = 5; 0 already applied + 6 requested"
    );
    // earlier applications of the period count: 3 + 2 = 5 passes, 3 + 3 fails.
    assert!(check_quota(&p, drg(100, 3), 2).is_ok());
    assert!(matches!(
        check_quota(&p, drg(100, 3), 3),
        Err(SpecialCaseError::QuotaExceeded { over: 1, .. })
    ));
    // 119 × 5% = 5.95 → 5 (rounded down).
    assert_eq!(check_quota(&p, drg(119, 0), 5).unwrap().limit, 5);
    assert!(check_quota(&p, drg(119, 0), 6).is_err());
    // 120 × 5% = 6.
    assert!(check_quota(&p, drg(120, 0), 6).is_ok());
}

#[test]
fn the_dip_quota_is_the_floor_of_five_per_mille() {
    let p = params();
    // 1,000 × 5‰ = 5 exactly: 5 passes, 6 fails.
    assert_eq!(check_quota(&p, dip(1000, 0), 5).unwrap().limit, 5);
    assert_eq!(
        check_quota(&p, dip(1000, 0), 6).unwrap_err().to_string(),
        "quota exceeded by 1 cases: quota floor(0.5% × 1000 DIP-settled cases) = 5; 0 already applied + 6 requested"
    );
    // 999 × 5‰ = 4.995 → 4.
    assert_eq!(check_quota(&p, dip(999, 0), 4).unwrap().limit, 4);
    assert!(check_quota(&p, dip(999, 0), 5).is_err());
    // 199 × 5‰ = 0.995 → 0: no case can be applied for.
    assert!(check_quota(&p, dip(199, 0), 1).is_err());
}

#[test]
fn the_quota_base_counts_the_hospitals_paid_cases_of_the_period() {
    let cases = [
        case("C1", "H001", "2025-04", Category::Normal, dec!(1)),
        case("C2", "H001", "2025-06", Category::High, dec!(1)),
        case("C3", "H001", "2025-07", Category::Normal, dec!(1)),
        case("C4", "H002", "2025-05", Category::Normal, dec!(1)),
        case("C5", "H001", "2025-05", Category::Invalid, dec!(0)),
    ];
    let q2: Period = "2025Q2".parse().unwrap();
    assert_eq!(settled_cases_in_period(&cases, "H001", q2), 2);
}

#[test]
fn a_hospital_submits_its_own_application_within_the_quota() {
    let p = params();
    let run = Application::submit(
        &h001(),
        request("A-1", "H001", "2025Q2", &["K2", "K1"]),
        &p,
        drg(100, 0),
    )
    .unwrap();
    let app = run.value;
    assert_eq!(app.state(), ReviewState::Submitted);
    assert_eq!(app.case_ids(), ["K1", "K2"]);
    let event = &run.events[0];
    assert_eq!(event.action, Action::SpecialCaseSubmitted);
    assert_eq!(
        event.reason,
        "high_cost: 2 cases of 2025Q2; quota floor(5% × 100 DRG-settled cases) = 5; 0 already applied + 2 requested"
    );
    assert_eq!(
        (event.before.as_deref(), event.after.as_deref()),
        (None, Some("submitted"))
    );

    let submit = |actor: &Actor, request: ApplicationRequest| {
        Application::submit(actor, request, &p, drg(100, 0)).map(|r| r.value)
    };
    let ok = request("A-2", "H001", "2025Q2", &["K1"]);
    assert_eq!(
        submit(&Actor::hospital("u-9", "H002"), ok.clone())
            .unwrap_err()
            .to_string(),
        "u-9 (hospital H002) may not submit on application A-2"
    );
    assert!(matches!(
        submit(&bureau(), ok.clone()),
        Err(SpecialCaseError::NotAllowed { .. })
    ));
    assert_eq!(
        submit(&h001(), request("A-2", "H001", "2025-06", &["K1"]))
            .unwrap_err()
            .to_string(),
        "review period 2025-06: expected a quarter period (special_case.review_period)"
    );
    assert!(matches!(
        submit(&h001(), request("A-2", "H001", "2025Q2", &[])),
        Err(SpecialCaseError::NoCases { .. })
    ));
    assert!(matches!(
        submit(&h001(), request("A-2", "H001", "2025Q2", &["K1", "K1"])),
        Err(SpecialCaseError::DuplicateCase { .. })
    ));
    let mut blank = ok.clone();
    blank.text = "  ".into();
    assert!(matches!(
        submit(&h001(), blank),
        Err(SpecialCaseError::MissingText { .. })
    ));
    let six = request(
        "A-2",
        "H001",
        "2025Q2",
        &["K1", "K2", "K3", "K4", "K5", "K6"],
    );
    assert!(matches!(
        submit(&h001(), six),
        Err(SpecialCaseError::QuotaExceeded { over: 1, .. })
    ));
}

#[test]
fn a_full_review_goes_first_review_then_second_review_and_decides_each_case() {
    let mut app = submitted("A-1", "H001", "2025Q2", &["K1", "K2"]);
    let mut events = vec![app.assign_first_reviewer(&bureau(), "r-1").unwrap()];
    events.push(
        app.record_first_review(
            &r1(),
            vec![
                opinion("K2", Outcome::Rejected),
                opinion("K1", Outcome::ApprovedPerItem),
            ],
        )
        .unwrap(),
    );
    assert_eq!(app.first_review().unwrap()[0].case_id, "K1");
    events.push(app.assign_second_reviewer(&bureau(), "r-2").unwrap());
    events.push(
        app.record_second_review(
            &r2(),
            vec![
                opinion("K1", Outcome::ApprovedExtraPoints { points: dec!(60) }),
                opinion("K2", Outcome::ApprovedPerItem),
            ],
        )
        .unwrap(),
    );
    assert_eq!(app.state(), ReviewState::Decided);
    assert_eq!(
        app.approvals(),
        [
            ("K1", SpecialApproval::ExtraPoints(dec!(60))),
            ("K2", SpecialApproval::PerItem)
        ]
    );
    assert_eq!(
        (app.first_reviewer(), app.second_reviewer()),
        (Some("r-1"), Some("r-2"))
    );
    let log: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(
        log,
        [
            "b-1 (bureau) special_case.first_reviewer_assigned A-1: submitted → first_review (first reviewer (初审) r-1 assigned)",
            "r-1 (reviewer) special_case.first_review_recorded A-1: first_review → first_reviewed (first review (初审): 1 approved per item, 0 approved with extra points, 1 rejected)",
            "b-1 (bureau) special_case.second_reviewer_assigned A-1: first_reviewed → second_review (second reviewer (复审) r-2 assigned)",
            "r-2 (reviewer) special_case.second_review_recorded A-1: second_review → decided (second review (复审): 1 approved per item, 1 approved with extra points, 0 rejected)",
        ]
    );
}

#[test]
fn a_hospital_may_withdraw_before_the_first_review_is_recorded() {
    for state in [ReviewState::Submitted, ReviewState::FirstReview] {
        let mut app = in_state(state);
        let event = app.withdraw(&h001(), "submitted in error").unwrap();
        assert_eq!(app.state(), ReviewState::Withdrawn);
        assert_eq!(event.before.as_deref(), Some(state.as_str()));
        assert_eq!(
            event.reason,
            "withdrawn by the hospital: submitted in error"
        );
    }
}

/// The command of each kind, given by the actor who may give it in the legal state.
fn every_command(app: &Application) -> Vec<(Actor, Command)> {
    vec![
        (
            bureau(),
            Command::AssignFirstReviewer {
                reviewer_id: "r-1".into(),
            },
        ),
        (
            r1(),
            Command::RecordFirstReview {
                opinions: opinions(app, Outcome::Rejected),
            },
        ),
        (
            bureau(),
            Command::AssignSecondReviewer {
                reviewer_id: "r-2".into(),
            },
        ),
        (
            r2(),
            Command::RecordSecondReview {
                decisions: opinions(app, Outcome::Rejected),
            },
        ),
        (
            h001(),
            Command::Withdraw {
                reason: "withdrawn".into(),
            },
        ),
    ]
}

#[test]
fn every_transition_is_legal_in_exactly_its_states_and_illegal_ones_change_nothing() {
    use ReviewState::*;
    let legal = [
        (Submitted, "assign_first_reviewer", FirstReview),
        (Submitted, "withdraw", Withdrawn),
        (FirstReview, "record_first_review", FirstReviewed),
        (FirstReview, "withdraw", Withdrawn),
        (FirstReviewed, "assign_second_reviewer", SecondReview),
        (SecondReview, "record_second_review", Decided),
    ];
    let mut tried = 0;
    for state in [
        Submitted,
        FirstReview,
        FirstReviewed,
        SecondReview,
        Decided,
        Withdrawn,
    ] {
        let template = in_state(state);
        for (actor, command) in every_command(&template) {
            let name = command.name();
            let mut app = template.clone();
            let result = app.apply(&actor, command);
            match legal
                .iter()
                .find(|(from, c, _)| *from == state && *c == name)
            {
                Some((_, _, to)) => {
                    let event = result.unwrap_or_else(|e| panic!("{state} {name}: {e}"));
                    assert_eq!(app.state(), *to, "{state} {name}");
                    assert_eq!(event.before.as_deref(), Some(state.as_str()));
                    assert_eq!(event.after.as_deref(), Some(to.as_str()));
                }
                None => {
                    assert_eq!(
                        result.unwrap_err(),
                        SpecialCaseError::IllegalTransition {
                            application_id: "A-1".into(),
                            from: state,
                            command: name,
                        },
                        "{state} {name}"
                    );
                    assert_eq!(app, template, "{state} {name} changed the application");
                }
            }
            tried += 1;
        }
    }
    assert_eq!(tried, 30);
    assert_eq!(
        in_state(Decided)
            .withdraw(&h001(), "too late")
            .unwrap_err()
            .to_string(),
        "application A-1 is decided: withdraw is not possible"
    );
}

#[test]
fn only_the_right_role_and_the_assigned_reviewer_may_act() {
    let mut app = in_state(ReviewState::Submitted);
    let err = app.assign_first_reviewer(&r1(), "r-1").unwrap_err();
    assert_eq!(
        err.to_string(),
        "r-1 (reviewer) may not assign_first_reviewer on application A-1"
    );
    assert!(app.assign_first_reviewer(&h001(), "r-1").is_err());
    assert!(app
        .assign_first_reviewer(&Actor::system("run"), "r-1")
        .is_err());
    assert!(matches!(
        app.assign_first_reviewer(&bureau(), " "),
        Err(SpecialCaseError::EmptyReviewer { .. })
    ));
    assert!(matches!(
        app.withdraw(&Actor::hospital("u-9", "H002"), "not mine"),
        Err(SpecialCaseError::NotAllowed { .. })
    ));

    let mut app = in_state(ReviewState::FirstReview);
    let o = opinions(&app, Outcome::Rejected);
    assert_eq!(
        app.record_first_review(&r2(), o.clone())
            .unwrap_err()
            .to_string(),
        "r-2 (reviewer) is not the reviewer assigned to record_first_review on application A-1"
    );
    assert!(matches!(
        app.record_first_review(&bureau(), o.clone()),
        Err(SpecialCaseError::NotAllowed { .. })
    ));
    assert!(matches!(
        app.record_first_review(&h001(), o),
        Err(SpecialCaseError::NotAllowed { .. })
    ));

    let mut app = in_state(ReviewState::FirstReviewed);
    assert_eq!(
        app.assign_second_reviewer(&bureau(), "r-1")
            .unwrap_err()
            .to_string(),
        "application A-1: the second reviewer must not be the first reviewer r-1"
    );
    let mut app = in_state(ReviewState::SecondReview);
    let o = opinions(&app, Outcome::Rejected);
    assert!(matches!(
        app.record_second_review(&r1(), o),
        Err(SpecialCaseError::NotAssigned { .. })
    ));
    assert_eq!(app.state(), ReviewState::SecondReview);
}

#[test]
fn a_review_needs_one_reasoned_opinion_per_case() {
    let app = in_state(ReviewState::FirstReview);
    let record = |opinions: Vec<CaseOpinion>| {
        let mut app = app.clone();
        let result = app.record_first_review(&r1(), opinions).map(drop);
        if result.is_err() {
            assert_eq!(app.state(), ReviewState::FirstReview);
        }
        result.map_err(|e| e.to_string())
    };
    assert_eq!(
        record(vec![opinion("K1", Outcome::Rejected)]),
        Err("application A-1: no opinion on case K2".into())
    );
    assert_eq!(
        record(vec![
            opinion("K1", Outcome::Rejected),
            opinion("K2", Outcome::Rejected),
            opinion("K9", Outcome::Rejected)
        ]),
        Err("application A-1: case K9 is not in the application".into())
    );
    assert_eq!(
        record(vec![
            opinion("K1", Outcome::Rejected),
            opinion("K1", Outcome::ApprovedPerItem),
            opinion("K2", Outcome::Rejected)
        ]),
        Err("application A-1: more than one opinion on case K1".into())
    );
    let mut silent = opinion("K2", Outcome::Rejected);
    silent.reason = String::new();
    assert_eq!(
        record(vec![opinion("K1", Outcome::Rejected), silent]),
        Err("application A-1: the opinion on case K2 has no reason".into())
    );
    assert_eq!(
        record(vec![
            opinion("K1", Outcome::ApprovedExtraPoints { points: dec!(0) }),
            opinion("K2", Outcome::Rejected)
        ]),
        Err("application A-1: case K1 approved with 0 extra points, expected points > 0".into())
    );
    assert_eq!(
        record(vec![
            opinion("K1", Outcome::ApprovedExtraPoints { points: dec!(12.5) }),
            opinion("K2", Outcome::Rejected)
        ]),
        Ok(())
    );
}

#[test]
fn a_reviewer_never_sees_the_hospital_and_the_hospital_never_sees_a_reviewer() {
    let app = in_state(ReviewState::SecondReview);
    let first = app.reviewer_view(&r1()).unwrap();
    assert_eq!(first.case_ids, ["K1", "K2"]);
    assert_eq!(first.first_review, None);
    let second = app.reviewer_view(&r2()).unwrap();
    let seen = second.first_review.as_ref().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].outcome, Outcome::ApprovedPerItem);
    for view in [&first, &second] {
        let text = format!("{view:?}");
        assert!(!text.contains("H001") && !text.contains("u-1"), "{text}");
        assert!(!text.contains("r-1") && !text.contains("r-2"), "{text}");
    }
    assert!(matches!(
        app.reviewer_view(&Actor::reviewer("r-3")),
        Err(SpecialCaseError::NotAssigned { .. })
    ));
    assert!(matches!(
        app.reviewer_view(&h001()),
        Err(SpecialCaseError::NotAllowed { .. })
    ));
    assert!(matches!(
        app.reviewer_view(&bureau()),
        Err(SpecialCaseError::NotAllowed { .. })
    ));

    let pending = app.hospital_view(&h001()).unwrap();
    assert_eq!(
        (pending.state, pending.outcomes.as_ref()),
        (ReviewState::SecondReview, None)
    );
    let decided = in_state(ReviewState::Decided)
        .hospital_view(&h001())
        .unwrap();
    let outcomes = decided.outcomes.as_ref().unwrap();
    assert_eq!(
        outcomes[0],
        opinion("K1", Outcome::ApprovedExtraPoints { points: dec!(60) })
    );
    assert_eq!(outcomes[1].reason, "expert reason for K2");
    for view in [&pending, &decided] {
        let text = format!("{view:?}");
        assert!(!text.contains("r-1") && !text.contains("r-2"), "{text}");
    }
    assert!(matches!(
        app.hospital_view(&Actor::hospital("u-9", "H002")),
        Err(SpecialCaseError::NotAllowed { .. })
    ));
    assert!(app.hospital_view(&r1()).is_err());
}

#[test]
fn the_half_year_notice_counts_cases_applied_approved_and_rejected_per_hospital() {
    let decided = in_state(ReviewState::Decided); // H001 2025Q2: K1 approved, K2 rejected
    let mut q1 = submitted("A-2", "H001", "2025Q1", &["K3", "K4", "K5"]);
    q1.assign_first_reviewer(&bureau(), "r-1").unwrap(); // pending
    let mut withdrawn = submitted("A-3", "H001", "2025Q1", &["K6"]);
    withdrawn.withdraw(&h001(), "duplicate").unwrap();
    let h2_app = submitted("A-4", "H002", "2025Q3", &["M1"]);
    let apps = [decided, q1, withdrawn, h2_app];

    let h1: HalfYear = "2025H1".parse().unwrap();
    assert_eq!(h1.notice_month().to_string(), "2025-07");
    let rows = half_year_notice(&apps, h1, &["H003", "H002"]).unwrap();
    let lines: Vec<String> = rows.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "H001 2025H1: 6 cases applied for in 3 applications; 1 approved, 1 rejected, 1 withdrawn, 3 pending",
            "H002 2025H1: 0 cases applied for in 0 applications; 0 approved, 0 rejected, 0 withdrawn, 0 pending",
            "H003 2025H1: 0 cases applied for in 0 applications; 0 approved, 0 rejected, 0 withdrawn, 0 pending",
        ]
    );
    let rows = half_year_notice(&apps, "2025H2".parse().unwrap(), &[]).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].hospital_id.as_str(), rows[0].cases_pending),
        ("H002", 1)
    );
    assert_eq!(
        half_year_notice(&apps, "2024H2".parse().unwrap(), &[])
            .unwrap_err()
            .to_string(),
        "half-year 2024H2: the first special-case notice covers 2025H1"
    );
    // a yearly review period counts in the second half
    assert!(!h1.contains(Period::Year(2025).last_month()));
    assert_eq!(YearMonth::new(2025, 6).unwrap().half_year(), h1);
}
