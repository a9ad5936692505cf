-- drgdip ledger, schema version 9: the budget's versions (总额预算, payment-model.md §8).
-- Portable SQL.
--
-- budget_versions: one row per version of a year's budget, never updated or deleted (an
-- adjustment is a new version); `body` is the version as JSON (the split, the reason, the
-- approval), the columns are for selection.
CREATE TABLE budget_versions (
    year        BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (year, version)
);
