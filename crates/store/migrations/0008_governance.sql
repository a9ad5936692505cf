-- drgdip ledger, schema version 8: governance records (payment-model.md §11). Portable SQL.
--
-- opinions: 意见收集反馈, one row per opinion, its life in `body` (JSON); the columns are for
-- selection. rosters: 医保数据工作组, the data working group's roster of a year (JSON), the
-- last recorded one of a year in force (earlier ones stay in the audit log).
INSERT INTO counters (name, value) VALUES ('opinion', 0);

CREATE TABLE opinions (
    id           TEXT PRIMARY KEY,           -- OP-000001
    hospital_id  TEXT NOT NULL,
    submitted_on TEXT NOT NULL,              -- YYYY-MM-DD
    status       TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    body         TEXT NOT NULL               -- the Opinion, JSON
);
CREATE INDEX opinions_hospital ON opinions (hospital_id, submitted_on);

CREATE TABLE rosters (
    year        BIGINT PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    body        TEXT NOT NULL                -- the Roster, JSON
);
