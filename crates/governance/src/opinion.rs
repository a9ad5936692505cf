//! 意见收集反馈 — the opinions channel (`payment-model.md` §11).
//!
//! A hospital, or a medical worker through the hospital's account, submits an opinion on the
//! grouping (naming a group or a case), the technical specification, the pricing
//! coordination or something else. The bureau classifies it (topic, and the level whose
//! business it is: local, provincial, national), answers it or forwards it to the provincial
//! or national bureau (with the date and the channel), and closes it; the submitting hospital
//! sees every step and the answer, no other hospital sees it.
//!
//! ```text
//! submitted ──classify (bureau)──► classified ──answer (bureau)──► answered ──close──► closed
//!                                   │  ▲ reclassify                  ▲
//!                                   └──forward (bureau; provincial or national)──► forwarded
//!                                        forwarded ──answer (the reply relayed)──► answered
//!                                        forwarded ──close──► closed
//! ```
//! Anything else is an [`OpinionError`] that leaves the opinion unchanged; every change
//! returns its [`AuditEvent`].

use std::collections::BTreeMap;
use std::fmt;

use drgdip_settle::{Action, Actor, AuditEvent, Date};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most characters of an opinion's text, an answer or a note.
pub const MAX_TEXT: usize = 4000;

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
    /// What an opinion is about.
    Topic {
        /// 分组 — the grouping (names a DRG/DIP group or a case).
        Grouping = "grouping",
        /// 技术规范 — the technical specification.
        Technical = "technical",
        /// 价格协同 — the coordination with pricing.
        Pricing = "pricing",
        /// 其他 — anything else.
        Other = "other",
    }
}

named! {
    /// Whose business an opinion is: the region's, the province's or the nation's.
    Level {
        /// 统筹地区 — the region's own (its parameters, its settlement).
        Local = "local",
        /// 省级 — the province's (the Fujian refinement, the exclusion catalogue).
        Provincial = "provincial",
        /// 国家 — the nation's (the CHS-DRG / DIP scheme itself).
        National = "national",
    }
}

named! {
    /// Where an opinion stands.
    Status {
        /// Submitted, not yet classified.
        Submitted = "submitted",
        /// Classified by the bureau.
        Classified = "classified",
        /// Forwarded to the provincial or national bureau.
        Forwarded = "forwarded",
        /// Answered.
        Answered = "answered",
        /// Closed.
        Closed = "closed",
    }
}

/// The bureau's classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The topic as the bureau sees it (may differ from the submitted one).
    pub topic: Topic,
    /// Whose business it is.
    pub level: Level,
    /// Who classified it.
    pub by: String,
    /// When.
    pub on: Date,
}

/// A forwarding to the provincial or national bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forwarding {
    /// To whom.
    pub to: Level,
    /// When it was sent.
    pub on: Date,
    /// How (a document number, a system, a letter).
    pub channel: String,
    /// Who forwarded it.
    pub by: String,
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The answer.
    pub text: String,
    /// Whose answer it is (the level that answered: a forwarded opinion's reply is relayed).
    pub from: Level,
    /// Who recorded it.
    pub by: String,
    /// When.
    pub on: Date,
}

/// The closing of an opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closing {
    /// Who closed it.
    pub by: String,
    /// When.
    pub on: Date,
    /// Why, in words (may be empty).
    pub note: String,
}

/// An opinion and its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opinion {
    /// `OP-000001`: never reused.
    pub id: String,
    /// The submitting hospital.
    pub hospital_id: String,
    /// The user who submitted it (the hospital's account, or a medical worker through it).
    pub submitted_by: String,
    /// The medical worker it comes from, as the hospital gives it (may be empty).
    pub author: String,
    /// When.
    pub submitted_on: Date,
    /// The topic as submitted.
    pub topic: Topic,
    /// The group or case it concerns (required for the grouping).
    pub about: String,
    /// The opinion.
    pub text: String,
    /// Where it stands.
    pub status: Status,
    /// The bureau's classification.
    pub classification: Option<Classification>,
    /// The forwarding, if any.
    pub forwarding: Option<Forwarding>,
    /// The answer, if any.
    pub answer: Option<Answer>,
    /// The closing, if closed.
    pub closing: Option<Closing>,
}

/// An opinion as its hospital submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The topic.
    pub topic: Topic,
    /// The group or case it concerns.
    pub about: String,
    /// The opinion.
    pub text: String,
    /// The medical worker it comes from (may be empty).
    pub author: String,
}

/// What the bureau does with an opinion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Classify (or reclassify, until forwarded or answered).
    Classify {
        /// The topic.
        topic: Topic,
        /// Whose business it is.
        level: Level,
    },
    /// Forward to the provincial or national bureau (the classified level).
    Forward {
        /// How it was sent.
        channel: String,
    },
    /// Answer (a forwarded opinion: the reply relayed).
    Answer {
        /// The answer.
        text: String,
    },
    /// Close.
    Close {
        /// Why (may be empty).
        note: String,
    },
}

impl Step {
    /// The step's name.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Classify { .. } => "classify",
            Step::Forward { .. } => "forward",
            Step::Answer { .. } => "answer",
            Step::Close { .. } => "close",
        }
    }
}

/// Why an opinion, or a step, is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpinionError {
    /// Only a hospital submits; only the bureau takes the steps.
    #[error("{actor} ({role}) may not {what}: {why}")]
    Role {
        /// The actor.
        actor: String,
        /// Its role.
        role: String,
        /// What was asked.
        what: String,
        /// Who may.
        why: String,
    },
    /// A field is empty, too long or of the wrong kind.
    #[error("{field}: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The step does not apply in the opinion's status.
    #[error("opinion {id} is {status}: cannot {step} ({why})")]
    State {
        /// The opinion.
        id: String,
        /// Its status.
        status: Status,
        /// The step.
        step: &'static str,
        /// What would allow it.
        why: &'static str,
    },
    /// Another hospital's opinion.
    #[error("opinion {id} is not of hospital {hospital_id}")]
    NotYours {
        /// The opinion.
        id: String,
        /// The asking hospital.
        hospital_id: String,
    },
}

fn text_field(field: &'static str, text: &str, required: bool) -> Result<String, OpinionError> {
    let t = text.trim();
    if required && t.is_empty() {
        return Err(OpinionError::Field {
            field,
            message: "empty".into(),
        });
    }
    if t.chars().count() > MAX_TEXT {
        return Err(OpinionError::Field {
            field,
            message: format!("{} characters: at most {MAX_TEXT}", t.chars().count()),
        });
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(OpinionError::Field {
            field,
            message: "a control character".into(),
        });
    }
    Ok(t.to_string())
}

impl Opinion {
    /// A hospital's submission, with its audit event. Grouping opinions name the group or the
    /// case they concern.
    pub fn submit(
        id: String,
        actor: &Actor,
        on: Date,
        s: Submission,
    ) -> Result<(Opinion, AuditEvent), OpinionError> {
        let Some(hospital_id) = actor.hospital_id() else {
            return Err(OpinionError::Role {
                actor: actor.id.clone(),
                role: actor.role.kind().to_string(),
                what: "submit an opinion".into(),
                why: "a hospital (or a medical worker through its account) submits".into(),
            });
        };
        let text = text_field("text", &s.text, true)?;
        let about = text_field("about", &s.about, s.topic == Topic::Grouping)?;
        if about.chars().count() > 64 {
            return Err(OpinionError::Field {
                field: "about",
                message: "at most 64 characters: a group or a case id".into(),
            });
        }
        let author = text_field("author", &s.author, false)?;
        let opinion = Opinion {
            id,
            hospital_id: hospital_id.to_string(),
            submitted_by: actor.id.clone(),
            author,
            submitted_on: on,
            topic: s.topic,
            about,
            text,
            status: Status::Submitted,
            classification: None,
            forwarding: None,
            answer: None,
            closing: None,
        };
        let event = AuditEvent::new(
            actor,
            Action::OpinionSubmitted,
            opinion.id.clone(),
            format!("opinion on {} from {}", opinion.topic, opinion.hospital_id),
        )
        .after(opinion.summary());
        Ok((opinion, event))
    }

    /// One line for the audit log.
    pub fn summary(&self) -> String {
        let mut s = format!("status={} topic={}", self.status, self.topic);
        if let Some(c) = &self.classification {
            s.push_str(&format!(" classified={}/{}", c.topic, c.level));
        }
        if let Some(f) = &self.forwarding {
            s.push_str(&format!(" forwarded={} on {}", f.to, f.on));
        }
        s
    }

    /// The topic the opinion counts under: the bureau's classification, else as submitted.
    pub fn counted_topic(&self) -> Topic {
        self.classification.as_ref().map_or(self.topic, |c| c.topic)
    }

    /// Takes the bureau's `step` on `on`, with its audit event; an error leaves it unchanged.
    pub fn take(
        &mut self,
        actor: &Actor,
        on: Date,
        step: Step,
    ) -> Result<AuditEvent, OpinionError> {
        if !actor.role.is_bureau() {
            return Err(OpinionError::Role {
                actor: actor.id.clone(),
                role: actor.role.kind().to_string(),
                what: format!("{} opinion {}", step.name(), self.id),
                why: "the bureau classifies, forwards, answers and closes".into(),
            });
        }
        let state = |why: &'static str| OpinionError::State {
            id: self.id.clone(),
            status: self.status,
            step: step.name(),
            why,
        };
        let before = self.summary();
        let mut next = self.clone();
        let (action, reason) = match &step {
            Step::Classify { topic, level } => {
                if !matches!(self.status, Status::Submitted | Status::Classified) {
                    return Err(state(
                        "only a submitted or classified opinion is (re)classified",
                    ));
                }
                next.status = Status::Classified;
                next.classification = Some(Classification {
                    topic: *topic,
                    level: *level,
                    by: actor.id.clone(),
                    on,
                });
                (
                    Action::OpinionClassified,
                    format!("classified {topic}, the {level} level's business"),
                )
            }
            Step::Forward { channel } => {
                if self.status != Status::Classified {
                    return Err(state("an opinion is forwarded once classified"));
                }
                let level = self.classification.as_ref().map(|c| c.level);
                let to = match level {
                    Some(l @ (Level::Provincial | Level::National)) => l,
                    _ => {
                        return Err(state(
                            "only an opinion classified as the provincial or national level's business is forwarded",
                        ))
                    }
                };
                let channel = text_field("channel", channel, true)?;
                next.status = Status::Forwarded;
                next.forwarding = Some(Forwarding {
                    to,
                    on,
                    channel: channel.clone(),
                    by: actor.id.clone(),
                });
                (
                    Action::OpinionForwarded,
                    format!("forwarded to the {to} bureau by {channel}"),
                )
            }
            Step::Answer { text } => {
                if !matches!(self.status, Status::Classified | Status::Forwarded) {
                    return Err(state("a classified or forwarded opinion is answered"));
                }
                let from = match (&self.forwarding, &self.classification) {
                    (Some(f), _) => f.to,
                    (None, Some(c)) if c.level == Level::Local => Level::Local,
                    _ => {
                        return Err(state(
                            "an opinion of the provincial or national level is forwarded before its answer is recorded",
                        ))
                    }
                };
                let text = text_field("text", text, true)?;
                next.status = Status::Answered;
                next.answer = Some(Answer {
                    text,
                    from,
                    by: actor.id.clone(),
                    on,
                });
                (Action::OpinionAnswered, format!("answered ({from})"))
            }
            Step::Close { note } => {
                if !matches!(self.status, Status::Answered | Status::Forwarded) {
                    return Err(state("an answered or forwarded opinion is closed"));
                }
                let note = text_field("note", note, false)?;
                next.status = Status::Closed;
                next.closing = Some(Closing {
                    by: actor.id.clone(),
                    on,
                    note: note.clone(),
                });
                (
                    Action::OpinionClosed,
                    format!("closed {note}").trim().to_string(),
                )
            }
        };
        *self = next;
        Ok(AuditEvent::new(actor, action, self.id.clone(), reason)
            .before(before)
            .after(self.summary()))
    }

    /// Whether `actor` may see the opinion: the bureau, or its own hospital.
    pub fn visible_to(&self, actor: &Actor) -> bool {
        actor.role.is_bureau() || actor.hospital_id() == Some(self.hospital_id.as_str())
    }
}

/// Counts of opinions by topic (as classified), level and status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// All opinions counted.
    pub total: u64,
    /// By topic.
    pub by_topic: BTreeMap<Topic, u64>,
    /// By level (classified ones; `None`: not yet classified).
    pub by_level: BTreeMap<String, u64>,
    /// By status.
    pub by_status: BTreeMap<Status, u64>,
}

/// The counts of the opinions submitted in `[from, to]`.
pub fn counts<'a>(opinions: impl IntoIterator<Item = &'a Opinion>, from: Date, to: Date) -> Counts {
    let mut c = Counts::default();
    for o in opinions
        .into_iter()
        .filter(|o| o.submitted_on >= from && o.submitted_on <= to)
    {
        c.total += 1;
        *c.by_topic.entry(o.counted_topic()).or_default() += 1;
        let level = o
            .classification
            .as_ref()
            .map_or("unclassified", |cl| cl.level.as_str());
        *c.by_level.entry(level.to_string()).or_default() += 1;
        *c.by_status.entry(o.status).or_default() += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn submitted(topic: Topic, about: &str) -> Opinion {
        Opinion::submit(
            "OP-000001".into(),
            &Actor::hospital("h001-office", "H001"),
            d("2025-07-01"),
            Submission {
                topic,
                about: about.into(),
                text: "  QY groups take too many of our surgical cases  ".into(),
                author: "Dr. Lin".into(),
            },
        )
        .unwrap()
        .0
    }

    fn bureau() -> Actor {
        Actor::bureau("li.wei")
    }

    #[test]
    fn a_hospital_submits_a_grouping_opinion_naming_a_group() {
        let (o, e) = Opinion::submit(
            "OP-000001".into(),
            &Actor::hospital("h001-office", "H001"),
            d("2025-07-01"),
            Submission {
                topic: Topic::Grouping,
                about: "GB25".into(),
                text: "text".into(),
                author: String::new(),
            },
        )
        .unwrap();
        assert_eq!(
            (o.status, o.hospital_id.as_str()),
            (Status::Submitted, "H001")
        );
        assert_eq!(e.action, Action::OpinionSubmitted);
        // a grouping opinion without its group or case
        let e = Opinion::submit(
            "OP-000002".into(),
            &Actor::hospital("h001-office", "H001"),
            d("2025-07-01"),
            Submission {
                topic: Topic::Grouping,
                about: " ".into(),
                text: "text".into(),
                author: String::new(),
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "about: empty");
        // the bureau and reviewers do not submit
        for actor in [bureau(), Actor::reviewer("E001")] {
            let e = Opinion::submit(
                "OP-000003".into(),
                &actor,
                d("2025-07-01"),
                Submission {
                    topic: Topic::Other,
                    about: String::new(),
                    text: "text".into(),
                    author: String::new(),
                },
            )
            .unwrap_err();
            assert!(matches!(e, OpinionError::Role { .. }), "{e}");
        }
    }

    #[test]
    fn a_local_opinion_is_classified_answered_and_closed() {
        let mut o = submitted(Topic::Grouping, "QY");
        assert_eq!(o.text, "QY groups take too many of our surgical cases");
        let step = Step::Classify {
            topic: Topic::Pricing,
            level: Level::Local,
        };
        o.take(&bureau(), d("2025-07-03"), step).unwrap();
        assert_eq!(o.counted_topic(), Topic::Pricing);
        // a local opinion is not forwarded
        let e = o
            .take(
                &bureau(),
                d("2025-07-04"),
                Step::Forward {
                    channel: "x".into(),
                },
            )
            .unwrap_err();
        assert!(matches!(e, OpinionError::State { .. }), "{e}");
        let e = o
            .take(
                &bureau(),
                d("2025-07-04"),
                Step::Answer {
                    text: "the rate is set by …".into(),
                },
            )
            .unwrap();
        assert_eq!(e.action, Action::OpinionAnswered);
        assert_eq!(o.answer.as_ref().unwrap().from, Level::Local);
        o.take(
            &bureau(),
            d("2025-07-05"),
            Step::Close {
                note: String::new(),
            },
        )
        .unwrap();
        assert_eq!(o.status, Status::Closed);
        // closed is closed
        let e = o
            .take(
                &bureau(),
                d("2025-07-06"),
                Step::Answer {
                    text: "again".into(),
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("is closed"), "{e}");
    }

    #[test]
    fn a_provincial_opinion_is_forwarded_before_its_answer_and_the_reply_is_relayed() {
        let mut o = submitted(Topic::Technical, "");
        let classify = Step::Classify {
            topic: Topic::Technical,
            level: Level::Provincial,
        };
        o.take(&bureau(), d("2025-07-03"), classify).unwrap();
        let early = o
            .take(
                &bureau(),
                d("2025-07-04"),
                Step::Answer { text: "no".into() },
            )
            .unwrap_err();
        assert!(
            early.to_string().contains("forwarded before its answer"),
            "{early}"
        );
        let e = o
            .take(
                &bureau(),
                d("2025-07-04"),
                Step::Forward {
                    channel: "  ".into(),
                },
            )
            .unwrap_err();
        assert_eq!(e.to_string(), "channel: empty");
        o.take(
            &bureau(),
            d("2025-07-04"),
            Step::Forward {
                channel: "闽医保函〔2025〕12号".into(),
            },
        )
        .unwrap();
        let f = o.forwarding.clone().unwrap();
        assert_eq!((f.to, f.on), (Level::Provincial, d("2025-07-04")));
        o.take(
            &bureau(),
            d("2025-08-01"),
            Step::Answer {
                text: "the province's reply".into(),
            },
        )
        .unwrap();
        assert_eq!(o.answer.as_ref().unwrap().from, Level::Provincial);
    }

    #[test]
    fn only_the_bureau_takes_steps_and_only_its_hospital_sees_an_opinion() {
        let mut o = submitted(Topic::Other, "");
        let before = o.clone();
        for actor in [Actor::hospital("x", "H001"), Actor::reviewer("E001")] {
            let e = o
                .take(
                    &actor,
                    d("2025-07-03"),
                    Step::Close {
                        note: String::new(),
                    },
                )
                .unwrap_err();
            assert!(matches!(e, OpinionError::Role { .. }));
        }
        assert_eq!(o, before, "a refused step changes nothing");
        assert!(o.visible_to(&Actor::hospital("y", "H001")));
        assert!(o.visible_to(&bureau()));
        assert!(!o.visible_to(&Actor::hospital("z", "H002")));
        assert!(!o.visible_to(&Actor::reviewer("E001")));
    }

    #[test]
    fn counts_are_by_classified_topic_level_and_status_within_the_dates() {
        let mut a = submitted(Topic::Grouping, "GB25");
        a.take(
            &bureau(),
            d("2025-07-02"),
            Step::Classify {
                topic: Topic::Technical,
                level: Level::National,
            },
        )
        .unwrap();
        let b = submitted(Topic::Grouping, "GB25");
        let mut c = submitted(Topic::Other, "");
        c.submitted_on = d("2025-10-01");
        let q3 = counts([&a, &b, &c], d("2025-07-01"), d("2025-09-30"));
        assert_eq!(q3.total, 2);
        assert_eq!(q3.by_topic[&Topic::Technical], 1);
        assert_eq!(q3.by_topic[&Topic::Grouping], 1);
        assert_eq!(q3.by_level["national"], 1);
        assert_eq!(q3.by_level["unclassified"], 1);
        assert_eq!(q3.by_status[&Status::Submitted], 1);
    }

    #[test]
    fn text_is_bounded_and_has_no_control_characters() {
        let long = "字".repeat(MAX_TEXT + 1);
        let e = text_field("text", &long, true).unwrap_err();
        assert!(e.to_string().contains("at most 4000"), "{e}");
        let e = text_field("text", "a\u{0}b", true).unwrap_err();
        assert!(e.to_string().contains("control"), "{e}");
        assert_eq!(text_field("text", "a\nb", true).unwrap(), "a\nb");
    }
}
