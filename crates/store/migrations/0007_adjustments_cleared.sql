-- drgdip ledger, schema version 7: an adjustment no statement carried by the clearing of its
-- case's year (the hospital settled no later month) is counted in that clearing and marked
-- with the year (cleared_year); it is then never carried onto a statement. Portable SQL.
ALTER TABLE adjustments ADD COLUMN cleared_year BIGINT;
