-- drgdip ledger, schema version 6: adjustments (补差, payment-model.md §6).
--
-- A re-run of a month whose statement of a hospital was already paid (a payment recorded
-- against it) leaves that statement and its cases as they were; each case whose fund_due the
-- re-run changed (or added, or no longer has) becomes one adjustment, carried onto the
-- hospital's next statement (statement_month, empty while pending). Portable SQL, as 0001.
INSERT INTO counters (name, value) VALUES ('adjustment', 0);

CREATE TABLE adjustments (
    id              BIGINT PRIMARY KEY,     -- from the counter 'adjustment'
    hospital_id     TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    case_month      TEXT NOT NULL,          -- YYYY-MM: the paid statement the case is on
    old_fund_due    TEXT NOT NULL,
    new_fund_due    TEXT NOT NULL,
    difference      TEXT NOT NULL,          -- new − old, exact
    run_id          BIGINT NOT NULL,        -- the re-run that found it
    at              TEXT NOT NULL,
    statement_month TEXT                    -- YYYY-MM of the statement carrying it; NULL: pending
);
CREATE INDEX adjustments_hospital ON adjustments (hospital_id, statement_month);
