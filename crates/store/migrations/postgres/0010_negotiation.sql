-- drgdip ledger, schema version 10 (PostgreSQL): negotiation rounds.
--
-- A negotiation round (谈判协商, payment-model.md §9) is written once and never changed:
-- every table is insert-only (the triggers below refuse UPDATE and DELETE). A round's state is
-- what its rows say: open (no proposal), proposals, agreed or closed (its one outcome row).
--
-- negotiation_rounds: the round, its header (JSON: region, year, title, elements, the files
--   it is simulated on with their SHA-256) and the full text of the baseline parameter file
--   and of the baseline weights.
-- negotiation_parties: the bureau, hospital representatives (the hospitals they speak for),
--   associations, insured persons' representatives (JSON).
-- negotiation_proposals: proposals and counter-proposals: who, when, the parameter file's
--   full text and SHA-256, optional weights text and SHA-256, the note, the options and the
--   simulation's summary (JSON).
-- negotiation_sim_hospitals / negotiation_sim_groups: each proposal's simulation as the rows
--   of `drgdip simulate`'s hospitals.csv and groups.csv (amounts as exact decimal text), so it
--   is read later without re-running it.
-- negotiation_outcomes: at most one per round: agreed (the proposal, its SHA-256, who
--   agreed) or closed without agreement.
-- negotiation_minutes: the minutes, appended.
INSERT INTO counters (name, value) VALUES ('negotiation', 0);

CREATE TABLE negotiation_rounds (
    id              BIGINT PRIMARY KEY,
    region          TEXT NOT NULL,
    year            BIGINT NOT NULL,
    opened_at       TEXT NOT NULL,
    actor           TEXT NOT NULL,
    baseline_text   TEXT NOT NULL,
    baseline_sha256 TEXT NOT NULL,
    weights_text    TEXT NOT NULL,
    weights_sha256  TEXT NOT NULL,
    body            TEXT NOT NULL
);

CREATE TABLE negotiation_parties (
    round_id  BIGINT NOT NULL REFERENCES negotiation_rounds (id),
    seq       BIGINT NOT NULL,
    party_id  TEXT NOT NULL,
    added_at  TEXT NOT NULL,
    actor     TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (round_id, seq),
    UNIQUE (round_id, party_id)
);

CREATE TABLE negotiation_proposals (
    round_id       BIGINT NOT NULL REFERENCES negotiation_rounds (id),
    number         BIGINT NOT NULL,
    party_id       TEXT NOT NULL,
    submitted_at   TEXT NOT NULL,
    actor          TEXT NOT NULL,
    params_text    TEXT NOT NULL,
    params_sha256  TEXT NOT NULL,
    weights_text   TEXT,
    weights_sha256 TEXT,
    body           TEXT NOT NULL,
    PRIMARY KEY (round_id, number)
);

CREATE TABLE negotiation_sim_hospitals (
    round_id          BIGINT NOT NULL,
    proposal          BIGINT NOT NULL,
    hospital_id       TEXT NOT NULL,
    cases             BIGINT NOT NULL,
    payment_baseline  TEXT NOT NULL,
    payment_proposal  TEXT NOT NULL,
    fund_due_baseline TEXT NOT NULL,
    fund_due_proposal TEXT NOT NULL,
    difference        TEXT NOT NULL,
    relative_change   TEXT NOT NULL,
    cmi_baseline      TEXT NOT NULL,
    cmi_proposal      TEXT NOT NULL,
    bound             TEXT NOT NULL,
    adjustment        TEXT NOT NULL,
    PRIMARY KEY (round_id, proposal, hospital_id),
    FOREIGN KEY (round_id, proposal) REFERENCES negotiation_proposals (round_id, number)
);

CREATE TABLE negotiation_sim_groups (
    round_id          BIGINT NOT NULL,
    proposal          BIGINT NOT NULL,
    drg_baseline      TEXT NOT NULL,
    drg_proposal      TEXT NOT NULL,
    cases             BIGINT NOT NULL,
    payment_baseline  TEXT NOT NULL,
    payment_proposal  TEXT NOT NULL,
    fund_due_baseline TEXT NOT NULL,
    fund_due_proposal TEXT NOT NULL,
    difference        TEXT NOT NULL,
    PRIMARY KEY (round_id, proposal, drg_baseline, drg_proposal),
    FOREIGN KEY (round_id, proposal) REFERENCES negotiation_proposals (round_id, number)
);

CREATE TABLE negotiation_outcomes (
    round_id      BIGINT PRIMARY KEY REFERENCES negotiation_rounds (id),
    kind          TEXT NOT NULL,
    proposal      BIGINT,
    params_sha256 TEXT,
    decided_at    TEXT NOT NULL,
    actor         TEXT NOT NULL,
    body          TEXT NOT NULL
);

CREATE TABLE negotiation_minutes (
    round_id  BIGINT NOT NULL REFERENCES negotiation_rounds (id),
    seq       BIGINT NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (round_id, seq)
);

-- insert-only: updates, deletes and truncation refused
CREATE FUNCTION drgdip_negotiation_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is insert-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER negotiation_rounds_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_rounds
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_rounds_no_truncate BEFORE TRUNCATE ON negotiation_rounds
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_parties_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_parties
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_parties_no_truncate BEFORE TRUNCATE ON negotiation_parties
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_proposals_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_proposals
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_proposals_no_truncate BEFORE TRUNCATE ON negotiation_proposals
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_sim_hospitals_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_sim_hospitals
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_sim_hospitals_no_truncate BEFORE TRUNCATE ON negotiation_sim_hospitals
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_sim_groups_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_sim_groups
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_sim_groups_no_truncate BEFORE TRUNCATE ON negotiation_sim_groups
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_outcomes_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_outcomes
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_outcomes_no_truncate BEFORE TRUNCATE ON negotiation_outcomes
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_minutes_no_update_delete BEFORE UPDATE OR DELETE ON negotiation_minutes
    FOR EACH ROW EXECUTE FUNCTION drgdip_negotiation_insert_only();
CREATE TRIGGER negotiation_minutes_no_truncate BEFORE TRUNCATE ON negotiation_minutes
    FOR EACH STATEMENT EXECUTE FUNCTION drgdip_negotiation_insert_only();
