//! Case files: the discharge-record CSV (by header name, any column order; one record per
//! physical line unless declared multiline), the repair and validation of each row into a
//! [`CaseRecord`], the typed row problems and the errors file, and a streaming, parallel
//! batch runner that keeps input order and never drops a row.

mod batch;
pub mod formats;
pub mod mapping;
mod new_tech;
pub mod output;
mod problem;
mod reader;
mod record;
pub mod seen;

pub use batch::{
    read_valid_records, run_batch, run_batch_with, BatchError, BatchOptions, BatchStats, Chunk,
    RowIn,
};
pub use formats::InputFormat;
pub use mapping::{Mapping, MappingError};
pub use new_tech::{parse_new_tech_items, NewTechItem};
pub use output::{OutputFormat, TableWriter};
pub use problem::{
    csv_field, escape_control, problems_text, push_csv_field, AmountError, AmountUnit, CodeList,
    Problem, ProblemKind, Purpose, Unit,
};
pub use reader::{CaseReader, InputSpec};
pub use record::{
    col, parse_amount, parse_date, parse_row, CaseRecord, Columns, ColumnsError, ReadLimits,
    ReadOptions, RowOutcome, COLUMNS,
};
pub use seen::IdCheckLimits;
