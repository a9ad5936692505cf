//! 谈判协商 — a negotiation round (`payment-model.md` §9): the bureau and the hospitals'
//! representatives (and associations, optionally the insured persons' representatives) argue
//! about the core payment elements of a year — budget, weights, rates, coefficients — over
//! proposals and counter-proposals, each simulated on the same year of cases, until one is
//! agreed (the parameter version the region settles with) or the round closes without
//! agreement; the minutes are appended as it goes.
//!
//! ```text
//! open ──first proposal──► proposals ──agree (a proposal of the round)──► agreed
//!   │                        │  ▲ counter-proposals
//!   └────────────────────────┴──close without agreement──────────────────► closed
//! ```
//!
//! The rules here are pure: a party is listed once, before the outcome; only a listed party
//! proposes, and only before the outcome; a counter-proposal answers a proposal of the same
//! round; the agreed version is one of the round's proposals, named by its number and its
//! SHA-256, agreed by listed parties among which the bureau; the minutes are appended, never
//! rewritten. Who sees what: the bureau every round; a hospital's user the rounds where a
//! hospital representative speaks for its hospital, and in them the simulation lines of the
//! hospitals those representatives speak for ([`Round::visible_hospitals`]) — the region's
//! totals and the groups' lines are the region's, shown to every party.
//!
//! Every change returns its [`AuditEvent`]; the caller keeps the records (the ledger's
//! `negotiation_*` tables, insert-only).

use std::collections::BTreeSet;
use std::fmt;

use drgdip_settle::{Action, Actor, AuditEvent};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most characters of a title, a note or one entry of the minutes.
pub const MAX_TEXT: usize = 8000;
/// The most characters of an id (a party's, a hospital's).
pub const MAX_ID: usize = 32;

macro_rules! named {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The value's name in files and the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// The value of a name, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($s => Some($name::$v),)+ _ => None }
            }

            /// The names, joined, for error messages.
            pub fn names() -> String {
                [$($s),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named! {
    /// A core payment element under negotiation.
    Element {
        /// 总额预算 — the budget.
        Budget = "budget",
        /// 权重 (分值) — the weights (scores).
        Weights = "weights",
        /// 费率 (点值) — the rates (point values).
        Rates = "rates",
        /// 系数 — the coefficients.
        Coefficients = "coefficients",
    }
}

named! {
    /// Who a party is.
    PartyKind {
        /// 医保经办机构 — the bureau.
        Bureau = "bureau",
        /// 医疗机构代表 — a representative of hospitals (speaks for the hospitals listed).
        HospitalRepresentative = "hospital_representative",
        /// 行业协会 — an association (hospital or medical association).
        Association = "association",
        /// 参保人代表 — a representative of the insured persons.
        InsuredRepresentative = "insured_representative",
    }
}

named! {
    /// Where a round stands.
    State {
        /// Opened, no proposal yet.
        Open = "open",
        /// One proposal or more, no outcome yet.
        Proposals = "proposals",
        /// A proposal agreed: the parameter version the region settles with.
        Agreed = "agreed",
        /// Closed without agreement.
        Closed = "closed",
    }
}

/// Why a step is refused; the round is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NegotiationError {
    /// The actor's role may not take the step.
    #[error("{actor} ({role}) may not {what}: {why}")]
    Role {
        /// Who asked.
        actor: String,
        /// In which role.
        role: String,
        /// What for.
        what: String,
        /// Who may.
        why: String,
    },
    /// A hospital's user asked for a round its hospital is no party to.
    #[error("round {round} is not visible to hospital {hospital_id}: no representative of the round speaks for it")]
    NotYours {
        /// The round.
        round: u64,
        /// The asking user's hospital.
        hospital_id: String,
    },
    /// The round's state does not allow the step.
    #[error("round {round} is {state}: {why}")]
    State {
        /// The round.
        round: u64,
        /// Its state.
        state: State,
        /// Why the step is refused.
        why: String,
    },
    /// A field of the wrong form.
    #[error("{field}: {message}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

fn field(name: &str, message: impl Into<String>) -> NegotiationError {
    NegotiationError::Field {
        field: name.to_string(),
        message: message.into(),
    }
}

/// Free text: at most [`MAX_TEXT`] characters, no control character but tab and line feed,
/// not blank when `required`.
pub fn check_text(name: &str, text: &str, required: bool) -> Result<(), NegotiationError> {
    if required && text.trim().is_empty() {
        return Err(field(name, "expected text, found none"));
    }
    let n = text.chars().count();
    if n > MAX_TEXT {
        return Err(field(name, format!("{n} characters, at most {MAX_TEXT}")));
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && *c != '\t' && *c != '\n')
    {
        return Err(field(
            name,
            format!("a control character {c:?} (only tab and line feed are kept)"),
        ));
    }
    Ok(())
}

/// An id: 1 to [`MAX_ID`] characters of letters, digits, `-`, `_`, `.`, the first a letter
/// or a digit (the API's ids).
pub fn check_id(name: &str, id: &str) -> Result<(), NegotiationError> {
    let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id.chars().count() <= MAX_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(field(
            name,
            format!(
                "{id:?}: expected 1 to {MAX_ID} letters, digits, '-', '_' or '.', the first a letter or a digit"
            ),
        ))
    }
}

/// A file a round is simulated on, named by its path and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// Where it was read (on the machine that opened the round).
    pub path: String,
    /// The SHA-256 of its bytes (hex).
    pub sha256: String,
}

/// What opening a round records (the baseline's text and the weights' text are kept by the
/// ledger beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundHeader {
    /// The round's number (given by the ledger).
    pub id: u64,
    /// The region (`region.code` of the baseline).
    pub region: String,
    /// The year negotiated (`region.year` of the baseline).
    pub year: i32,
    /// What the round is about.
    pub title: String,
    /// The elements under negotiation.
    pub elements: Vec<Element>,
    /// The year of cases every proposal is simulated on.
    pub cases: FileRef,
    /// The parameters in force: every proposal is simulated against them.
    pub baseline: FileRef,
    /// The hospitals (levels), for both sides.
    pub hospitals: FileRef,
    /// The baseline's DRG weights (and a proposal's, unless it brings its own).
    pub weights: FileRef,
}

/// A party to a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Its id in the round (`bureau`, `rep-tertiary`, …).
    pub party_id: String,
    /// Who it is.
    pub kind: PartyKind,
    /// Its name (a person, an office, an association).
    pub name: String,
    /// For a hospital representative: the hospitals it speaks for (at least one); empty for
    /// the others.
    pub hospital_ids: Vec<String>,
}

/// The options a proposal was simulated with (`engine::simulate`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalOptions {
    /// Weights rescaled so that Σ payment is the baseline's (预算中性).
    pub budget_neutral: bool,
    /// The lowest relative change of any hospital's payment (保底), as given.
    pub floor: Option<String>,
    /// The highest relative change (封顶), as given.
    pub ceiling: Option<String>,
}

/// A proposal of a round, without its texts and simulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalHead {
    /// Its number in the round (1, 2, …).
    pub number: u32,
    /// The listed party that proposes it.
    pub party_id: String,
    /// The proposal it answers (a counter-proposal), if any.
    pub counter_to: Option<u32>,
    /// The SHA-256 of the parameter file's text.
    pub params_sha256: String,
    /// The SHA-256 of its own weights file, if it brings one.
    pub weights_sha256: Option<String>,
    /// Why, in words.
    pub note: String,
    /// The options it was simulated with.
    pub options: ProposalOptions,
}

/// How a round ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A proposal agreed.
    Agreed {
        /// The proposal.
        proposal: u32,
        /// Its parameter file's SHA-256: the agreed parameter version.
        params_sha256: String,
        /// The listed parties that agreed.
        parties: Vec<String>,
        /// A note.
        note: String,
    },
    /// Closed without agreement.
    Closed {
        /// Why.
        reason: String,
    },
}

/// A round as the rules see it: its header, parties, proposals and outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// What opening it recorded.
    pub header: RoundHeader,
    /// The parties, in the order listed.
    pub parties: Vec<Party>,
    /// The proposals, by number.
    pub proposals: Vec<ProposalHead>,
    /// The outcome, once there is one.
    pub outcome: Option<Outcome>,
}

fn bureau_only(actor: &Actor, what: &str) -> Result<(), NegotiationError> {
    if actor.role.is_bureau() {
        Ok(())
    } else {
        Err(NegotiationError::Role {
            actor: actor.id.clone(),
            role: actor.role.kind().to_string(),
            what: what.to_string(),
            why: "the bureau records a round (hospitals' representatives propose through it)"
                .into(),
        })
    }
}

impl RoundHeader {
    /// Checks a header before the round is opened (by the bureau): title, elements.
    pub fn check(&self, actor: &Actor) -> Result<(), NegotiationError> {
        bureau_only(actor, "open a negotiation round")?;
        check_text("title", &self.title, true)?;
        if self.elements.is_empty() {
            return Err(field(
                "elements",
                format!("name at least one of {}", Element::names()),
            ));
        }
        let distinct: BTreeSet<_> = self.elements.iter().collect();
        if distinct.len() != self.elements.len() {
            return Err(field("elements", "an element is named twice"));
        }
        Ok(())
    }

    /// The audit event of opening it.
    pub fn opened(&self, actor: &Actor) -> AuditEvent {
        AuditEvent::new(
            actor,
            Action::NegotiationOpened,
            self.subject(),
            format!("{} {}: {}", self.region, self.year, self.title),
        )
        .after(format!(
            "state=open elements={} baseline={} cases={}",
            self.elements
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(","),
            self.baseline.sha256,
            self.cases.sha256
        ))
    }

    /// `negotiation 3`: the audit log's subject.
    pub fn subject(&self) -> String {
        format!("negotiation {}", self.id)
    }
}

impl Round {
    /// Where the round stands.
    pub fn state(&self) -> State {
        match (&self.outcome, self.proposals.is_empty()) {
            (Some(Outcome::Agreed { .. }), _) => State::Agreed,
            (Some(Outcome::Closed { .. }), _) => State::Closed,
            (None, true) => State::Open,
            (None, false) => State::Proposals,
        }
    }

    fn refuse(&self, why: impl Into<String>) -> NegotiationError {
        NegotiationError::State {
            round: self.header.id,
            state: self.state(),
            why: why.into(),
        }
    }

    fn before_outcome(&self, what: &str) -> Result<(), NegotiationError> {
        if self.outcome.is_some() {
            return Err(self.refuse(format!("no {what} after the outcome")));
        }
        Ok(())
    }

    /// The listed party `id`.
    pub fn party(&self, id: &str) -> Option<&Party> {
        self.parties.iter().find(|p| p.party_id == id)
    }

    /// The proposal `number`.
    pub fn proposal(&self, number: u32) -> Option<&ProposalHead> {
        self.proposals.iter().find(|p| p.number == number)
    }

    /// Lists `party` (the bureau records it), with its audit event: before the outcome, an
    /// id not yet listed, a hospital representative with its hospitals, the others without.
    pub fn add_party(&self, actor: &Actor, party: &Party) -> Result<AuditEvent, NegotiationError> {
        bureau_only(actor, "list a party")?;
        self.before_outcome("new party")?;
        check_id("party_id", &party.party_id)?;
        check_text("name", &party.name, true)?;
        if self.party(&party.party_id).is_some() {
            return Err(field(
                "party_id",
                format!("{:?} is listed already", party.party_id),
            ));
        }
        match (party.kind, party.hospital_ids.is_empty()) {
            (PartyKind::HospitalRepresentative, true) => {
                return Err(field(
                    "hospital_ids",
                    "a hospital representative speaks for at least one hospital",
                ))
            }
            (PartyKind::HospitalRepresentative, false) => {}
            (kind, false) => {
                return Err(field(
                    "hospital_ids",
                    format!(
                    "only a hospital representative lists hospitals, not a party of kind {kind}"
                ),
                ))
            }
            (_, true) => {}
        }
        let mut seen = BTreeSet::new();
        for h in &party.hospital_ids {
            check_id("hospital_ids", h)?;
            if !seen.insert(h.as_str()) {
                return Err(field("hospital_ids", format!("{h:?} is named twice")));
            }
        }
        Ok(AuditEvent::new(
            actor,
            Action::NegotiationPartyAdded,
            self.header.subject(),
            format!("{} {} ({})", party.kind, party.party_id, party.name),
        )
        .after(if party.hospital_ids.is_empty() {
            format!("party={}", party.party_id)
        } else {
            format!(
                "party={} hospitals={}",
                party.party_id,
                party.hospital_ids.join(",")
            )
        }))
    }

    /// The number the next proposal takes.
    pub fn next_number(&self) -> u32 {
        self.proposals.iter().map(|p| p.number).max().unwrap_or(0) + 1
    }

    /// Checks a proposal before it is simulated and recorded (by the bureau, for the listed
    /// party that makes it): before the outcome; the party listed; a counter-proposal answers
    /// a proposal of the round. `head.number` must be [`Round::next_number`].
    pub fn check_proposal(
        &self,
        actor: &Actor,
        head: &ProposalHead,
    ) -> Result<(), NegotiationError> {
        bureau_only(actor, "record a proposal")?;
        self.before_outcome("proposal")?;
        if self.party(&head.party_id).is_none() {
            return Err(field(
                "party",
                format!(
                    "{:?} is not a party to round {}: list it first (a party must be listed to propose)",
                    head.party_id, self.header.id
                ),
            ));
        }
        if let Some(c) = head.counter_to {
            if self.proposal(c).is_none() {
                return Err(field(
                    "counter_to",
                    format!("round {} has no proposal {c}", self.header.id),
                ));
            }
        }
        if head.number != self.next_number() {
            return Err(field(
                "number",
                format!(
                    "the next proposal is {}, not {}",
                    self.next_number(),
                    head.number
                ),
            ));
        }
        check_text("note", &head.note, false)?;
        Ok(())
    }

    /// The audit event of a recorded proposal (`summary`: its simulation's totals in a line).
    pub fn proposed(&self, actor: &Actor, head: &ProposalHead, summary: &str) -> AuditEvent {
        let what = match head.counter_to {
            Some(c) => format!("counter-proposal {} to {c}", head.number),
            None => format!("proposal {}", head.number),
        };
        AuditEvent::new(
            actor,
            Action::NegotiationProposed,
            self.header.subject(),
            format!("{what} by {}: {}", head.party_id, head.note),
        )
        .before(format!("state={}", self.state()))
        .after(format!(
            "state=proposals proposal={} params={} {summary}",
            head.number, head.params_sha256
        ))
    }

    /// Agrees proposal `number`, whose parameters have `params_sha256`, by `parties` (listed,
    /// the bureau among them); the outcome with its audit event.
    pub fn agree(
        &self,
        actor: &Actor,
        number: u32,
        params_sha256: &str,
        parties: &[String],
        note: &str,
    ) -> Result<(Outcome, AuditEvent), NegotiationError> {
        bureau_only(actor, "record an agreement")?;
        self.before_outcome("agreement")?;
        check_text("note", note, false)?;
        let proposal = self.proposal(number).ok_or_else(|| {
            field(
                "proposal",
                format!(
                    "round {} has no proposal {number}: the agreed version must be one of the round's proposals",
                    self.header.id
                ),
            )
        })?;
        if !proposal
            .params_sha256
            .eq_ignore_ascii_case(params_sha256.trim())
        {
            return Err(field(
                "sha256",
                format!(
                    "{params_sha256:?} is not the SHA-256 of proposal {number} ({})",
                    proposal.params_sha256
                ),
            ));
        }
        if parties.is_empty() {
            return Err(field("parties", "name the parties that agree"));
        }
        let mut bureau = false;
        let mut seen = BTreeSet::new();
        for p in parties {
            let party = self.party(p).ok_or_else(|| {
                field(
                    "parties",
                    format!("{p:?} is not a party to round {}", self.header.id),
                )
            })?;
            if !seen.insert(p.as_str()) {
                return Err(field("parties", format!("{p:?} is named twice")));
            }
            bureau |= party.kind == PartyKind::Bureau;
        }
        if !bureau {
            return Err(field(
                "parties",
                "the bureau's party must be among those that agree",
            ));
        }
        let outcome = Outcome::Agreed {
            proposal: number,
            params_sha256: proposal.params_sha256.clone(),
            parties: parties.to_vec(),
            note: note.to_string(),
        };
        let event = AuditEvent::new(
            actor,
            Action::NegotiationAgreed,
            self.header.subject(),
            format!("proposal {number} agreed by {}: {note}", parties.join(",")),
        )
        .before(format!("state={}", self.state()))
        .after(format!(
            "state=agreed proposal={number} params={}",
            proposal.params_sha256
        ));
        Ok((outcome, event))
    }

    /// Closes the round without agreement, with its audit event.
    pub fn close(
        &self,
        actor: &Actor,
        reason: &str,
    ) -> Result<(Outcome, AuditEvent), NegotiationError> {
        bureau_only(actor, "close a round")?;
        self.before_outcome("closing")?;
        check_text("reason", reason, true)?;
        let event = AuditEvent::new(
            actor,
            Action::NegotiationClosed,
            self.header.subject(),
            reason.to_string(),
        )
        .before(format!("state={}", self.state()))
        .after("state=closed");
        Ok((
            Outcome::Closed {
                reason: reason.to_string(),
            },
            event,
        ))
    }

    /// Checks an entry of the minutes (any time, after the outcome too: the minutes of the
    /// closing meeting), with its audit event.
    pub fn minutes(&self, actor: &Actor, text: &str) -> Result<AuditEvent, NegotiationError> {
        bureau_only(actor, "append to the minutes")?;
        check_text("text", text, true)?;
        let first: String = text.lines().next().unwrap_or("").chars().take(80).collect();
        Ok(AuditEvent::new(
            actor,
            Action::NegotiationMinutes,
            self.header.subject(),
            first,
        )
        .after(format!("{} characters appended", text.chars().count())))
    }

    /// The hospitals whose simulation lines `actor` sees: `None` every hospital (the
    /// bureau), else those that the round's hospital representatives speaking for the
    /// actor's hospital speak for. Refused: a hospital no representative of the round speaks
    /// for, a reviewer.
    pub fn visible_hospitals(
        &self,
        actor: &Actor,
    ) -> Result<Option<BTreeSet<String>>, NegotiationError> {
        if actor.role.is_bureau() {
            return Ok(None);
        }
        let Some(own) = actor.hospital_id() else {
            return Err(NegotiationError::Role {
                actor: actor.id.clone(),
                role: actor.role.kind().to_string(),
                what: format!("see negotiation round {}", self.header.id),
                why: "the bureau and the hospitals a representative of the round speaks for see it"
                    .into(),
            });
        };
        let set: BTreeSet<String> = self
            .parties
            .iter()
            .filter(|p| {
                p.kind == PartyKind::HospitalRepresentative
                    && p.hospital_ids.iter().any(|h| h == own)
            })
            .flat_map(|p| p.hospital_ids.iter().cloned())
            .collect();
        if set.is_empty() {
            return Err(NegotiationError::NotYours {
                round: self.header.id,
                hospital_id: own.to_string(),
            });
        }
        Ok(Some(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> FileRef {
        FileRef {
            path: p.into(),
            sha256: format!("{p}-sha"),
        }
    }

    fn round() -> Round {
        Round {
            header: RoundHeader {
                id: 1,
                region: "350100".into(),
                year: 2025,
                title: "2025 rates".into(),
                elements: vec![Element::Rates],
                cases: file("cases"),
                baseline: file("baseline"),
                hospitals: file("hospitals"),
                weights: file("weights"),
            },
            parties: vec![],
            proposals: vec![],
            outcome: None,
        }
    }

    fn party(id: &str, kind: PartyKind, hospitals: &[&str]) -> Party {
        Party {
            party_id: id.into(),
            kind,
            name: format!("{id} name"),
            hospital_ids: hospitals.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn head(number: u32, party: &str, counter_to: Option<u32>) -> ProposalHead {
        ProposalHead {
            number,
            party_id: party.into(),
            counter_to,
            params_sha256: format!("sha{number}"),
            weights_sha256: None,
            note: String::new(),
            options: ProposalOptions::default(),
        }
    }

    fn listed() -> Round {
        let mut r = round();
        r.parties = vec![
            party("bureau", PartyKind::Bureau, &[]),
            party(
                "rep-a",
                PartyKind::HospitalRepresentative,
                &["H001", "H002"],
            ),
            party("rep-b", PartyKind::HospitalRepresentative, &["H003"]),
            party("assoc", PartyKind::Association, &[]),
        ];
        r
    }

    #[test]
    fn the_state_machine_runs_open_proposals_agreed_and_nothing_after_the_outcome() {
        let bureau = Actor::bureau("b");
        let mut r = listed();
        assert_eq!(r.state(), State::Open);
        r.check_proposal(&bureau, &head(1, "bureau", None)).unwrap();
        r.proposals.push(head(1, "bureau", None));
        assert_eq!(r.state(), State::Proposals);
        r.check_proposal(&bureau, &head(2, "rep-a", Some(1)))
            .unwrap();
        r.proposals.push(head(2, "rep-a", Some(1)));
        let parties = vec!["bureau".to_string(), "rep-a".to_string()];
        let (outcome, event) = r.agree(&bureau, 2, "SHA2", &parties, "agreed").unwrap();
        assert_eq!(event.action, Action::NegotiationAgreed);
        assert_eq!(
            event.after.as_deref(),
            Some("state=agreed proposal=2 params=sha2")
        );
        r.outcome = Some(outcome);
        assert_eq!(r.state(), State::Agreed);
        for e in [
            r.check_proposal(&bureau, &head(3, "bureau", None))
                .unwrap_err(),
            r.agree(&bureau, 1, "sha1", &parties, "").unwrap_err(),
            r.close(&bureau, "too late").unwrap_err(),
            r.add_party(&bureau, &party("x", PartyKind::Association, &[]))
                .unwrap_err(),
        ] {
            assert!(
                matches!(
                    e,
                    NegotiationError::State {
                        state: State::Agreed,
                        ..
                    }
                ),
                "{e}"
            );
        }
        // the minutes go on after the outcome
        assert!(r.minutes(&bureau, "signed").is_ok());
    }

    #[test]
    fn closing_without_agreement_ends_the_round() {
        let bureau = Actor::bureau("b");
        let mut r = listed();
        assert!(r.close(&bureau, " ").is_err());
        let (outcome, event) = r.close(&bureau, "no agreement").unwrap();
        assert_eq!(event.after.as_deref(), Some("state=closed"));
        r.outcome = Some(outcome);
        assert_eq!(r.state(), State::Closed);
        assert!(r.check_proposal(&bureau, &head(1, "bureau", None)).is_err());
    }

    #[test]
    fn only_a_listed_party_proposes_and_a_counter_answers_a_proposal_of_the_round() {
        let bureau = Actor::bureau("b");
        let mut r = listed();
        let e = r
            .check_proposal(&bureau, &head(1, "rep-z", None))
            .unwrap_err();
        assert!(e.to_string().contains("must be listed"), "{e}");
        let e = r
            .check_proposal(&bureau, &head(1, "rep-a", Some(1)))
            .unwrap_err();
        assert!(e.to_string().contains("no proposal 1"), "{e}");
        let e = r
            .check_proposal(&bureau, &head(2, "rep-a", None))
            .unwrap_err();
        assert!(e.to_string().contains("next proposal is 1"), "{e}");
        r.proposals.push(head(1, "bureau", None));
        assert!(r
            .check_proposal(&bureau, &head(2, "rep-b", Some(1)))
            .is_ok());
    }

    #[test]
    fn the_agreed_version_is_a_proposal_of_the_round_with_its_sha_and_the_bureau_agrees() {
        let bureau = Actor::bureau("b");
        let mut r = listed();
        r.proposals.push(head(1, "bureau", None));
        let both = vec!["bureau".to_string(), "rep-a".to_string()];
        let e = r.agree(&bureau, 2, "sha2", &both, "").unwrap_err();
        assert!(
            e.to_string().contains("one of the round's proposals"),
            "{e}"
        );
        let e = r.agree(&bureau, 1, "sha2", &both, "").unwrap_err();
        assert!(
            e.to_string().contains("not the SHA-256 of proposal 1"),
            "{e}"
        );
        let e = r
            .agree(&bureau, 1, "sha1", &["rep-a".to_string()], "")
            .unwrap_err();
        assert!(e.to_string().contains("bureau's party"), "{e}");
        let e = r
            .agree(&bureau, 1, "sha1", &["nobody".to_string()], "")
            .unwrap_err();
        assert!(e.to_string().contains("not a party"), "{e}");
        assert!(r.agree(&bureau, 1, "sha1", &[], "").is_err());
        assert!(r.agree(&bureau, 1, "sha1", &both, "").is_ok());
    }

    #[test]
    fn parties_are_listed_once_and_only_representatives_list_hospitals() {
        let bureau = Actor::bureau("b");
        let r = listed();
        assert!(r
            .add_party(&bureau, &party("rep-a", PartyKind::Association, &[]))
            .is_err());
        assert!(r
            .add_party(
                &bureau,
                &party("rep-c", PartyKind::HospitalRepresentative, &[])
            )
            .is_err());
        assert!(r
            .add_party(
                &bureau,
                &party("ins", PartyKind::InsuredRepresentative, &["H001"])
            )
            .is_err());
        assert!(r
            .add_party(
                &bureau,
                &party(
                    "rep-c",
                    PartyKind::HospitalRepresentative,
                    &["H004", "H004"]
                )
            )
            .is_err());
        assert!(r
            .add_party(&bureau, &party("bad id", PartyKind::Association, &[]))
            .is_err());
        let event = r
            .add_party(
                &bureau,
                &party("rep-c", PartyKind::HospitalRepresentative, &["H004"]),
            )
            .unwrap();
        assert_eq!(event.after.as_deref(), Some("party=rep-c hospitals=H004"));
    }

    #[test]
    fn the_bureau_writes_and_a_hospital_sees_the_hospitals_its_representatives_speak_for() {
        let r = listed();
        let hospital = Actor::hospital("u1", "H002");
        let e = r
            .add_party(&hospital, &party("x", PartyKind::Association, &[]))
            .unwrap_err();
        assert!(matches!(e, NegotiationError::Role { .. }), "{e}");
        assert!(r.minutes(&hospital, "x").is_err());
        assert!(r.close(&hospital, "x").is_err());
        assert!(r
            .check_proposal(&hospital, &head(1, "rep-a", None))
            .is_err());
        assert_eq!(r.visible_hospitals(&Actor::bureau("b")).unwrap(), None);
        let seen = r.visible_hospitals(&hospital).unwrap().unwrap();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["H001", "H002"]);
        let e = r
            .visible_hospitals(&Actor::hospital("u9", "H009"))
            .unwrap_err();
        assert!(matches!(e, NegotiationError::NotYours { .. }), "{e}");
        assert!(r.visible_hospitals(&Actor::reviewer("e1")).is_err());
    }

    #[test]
    fn a_header_names_its_elements_once_and_has_a_title() {
        let bureau = Actor::bureau("b");
        let mut h = round().header;
        assert!(h.check(&bureau).is_ok());
        assert!(h.check(&Actor::hospital("u", "H001")).is_err());
        h.elements = vec![Element::Rates, Element::Rates];
        assert!(h.check(&bureau).is_err());
        h.elements.clear();
        assert!(h.check(&bureau).is_err());
        h.elements = vec![Element::Budget];
        h.title = "a\u{1}b".into();
        assert!(h.check(&bureau).is_err());
        assert_eq!(h.opened(&bureau).action, Action::NegotiationOpened);
        for e in Element::ALL {
            assert_eq!(Element::parse(e.as_str()), Some(*e));
        }
    }
}
