-- drgdip ledger, schema version 3: the book of record (payment-model.md §6), closed years.
--
-- Each settled case keeps what priced it (scheme and version, status, MDC/ADRG, the payment
-- group — DRG code or DIP group id —, the insured region's class); each settlement run keeps
-- the inputs it read: the program version, the method, the case file, the parameter file and
-- the weights or DIP library, each with its SHA-256, and the point value it used. Rows written
-- before this version have empty texts (they were settled before the ledger kept these).
ALTER TABLE cases ADD COLUMN scheme TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN scheme_version TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN mdc TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN adrg TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN pay_group TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN insured TEXT NOT NULL DEFAULT 'local';

ALTER TABLE settlement_runs ADD COLUMN program_version TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN method TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN case_file TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN case_file_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN params_file TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN params_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN weights_file TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN weights_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE settlement_runs ADD COLUMN point_value TEXT NOT NULL DEFAULT '';

CREATE INDEX cases_run ON cases (run_id);

-- The years cleared (年度清算): a month of a closed year is not re-settled and its clearing is
-- not re-run until the year is reopened (an audited command). One row per closed year.
CREATE TABLE closed_years (
    year   BIGINT PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    reason TEXT NOT NULL
);
