-- drgdip ledger, schema version 4: payments (拨付) against the monthly statements.
--
-- Portable SQL, as 0001. One row per payment the fund made to a hospital, against the
-- statement of (hospital_id, month). Append-only: 0005 adds the triggers (one text per
-- backend) that refuse UPDATE and DELETE; a payment recorded in error is answered by the
-- bureau, not erased. (Schema version 3 is another change, numbered before this one.)
INSERT INTO counters (name, value) VALUES ('payment', 0);

CREATE TABLE payments (
    id          BIGINT PRIMARY KEY,         -- from the counter 'payment'
    hospital_id TEXT NOT NULL,
    month       TEXT NOT NULL,              -- YYYY-MM: the statement paid
    date        TEXT NOT NULL,              -- YYYY-MM-DD: the day the money went out
    amount      TEXT NOT NULL,              -- exact decimal, > 0, at most two decimals
    reference   TEXT NOT NULL,              -- the bank or treasury reference
    recorded_at TEXT NOT NULL,              -- RFC 3339, UTC
    actor       TEXT NOT NULL,
    UNIQUE (hospital_id, reference)         -- re-recording a file never pays twice
);
CREATE INDEX payments_statement ON payments (hospital_id, month);
