//! Case files: the discharge-record CSV (by header name, any column order), the repair and
//! validation of each row into a [`CaseRecord`], the errors file, and a streaming, parallel
//! batch runner that keeps input order and never drops a row.

mod batch;
mod new_tech;
mod record;

pub use batch::{read_valid_records, run_batch, BatchError, BatchStats, Chunk, RowIn};
pub use new_tech::{parse_new_tech_items, NewTechItem};
pub use record::{
    col, csv_field, parse_date, parse_row, CaseRecord, Columns, ColumnsError, Problem, RowOutcome,
    COLUMNS,
};
