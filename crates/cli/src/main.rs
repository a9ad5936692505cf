//! The `drgdip` command: a thin layer of argument parsing and file handling over the library
//! crates (codes, scheme, drg, io, pay, dip).

use clap::{Parser, Subcommand};

mod cmd_budget;
mod cmd_dip;
mod cmd_disclose;
mod cmd_exclusions;
mod cmd_explain;
mod cmd_governance;
mod cmd_group;
mod cmd_ledger;
mod cmd_negotiate;
mod cmd_pay;
mod cmd_payments;
mod cmd_report;
mod cmd_scheme;
mod cmd_serve;
mod cmd_settle;
mod cmd_simulate;
mod cmd_special;
mod cmd_tokens;
mod ledger;
mod progress;
mod shared;

/// mimalloc: the batch runs allocate and free small buffers on every core (glibc's malloc
/// was 4–8% of a run's CPU time, see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v2's `mi_option_purge_delay` (the 16th option of its `mi_option_t`; the sys crate
/// names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory stays with the process of a batch command instead of being returned to the
/// kernel after 10 ms: each chunk's buffers are freed and allocated again, and returning them
/// made the kernel zero fresh pages on every fault (5,557 page faults → 626 and ≈ 20% of the
/// wall time of a 1,000,000-row run; +24 MB of peak memory, docs/performance.md). An
/// explicit `MIMALLOC_PURGE_DELAY` in the environment is left to mimalloc.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one integer option of the allocator; any value is valid for it.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

/// No transparent huge pages for this process. mimalloc asks for them on its arena
/// (`madvise(MADV_HUGEPAGE)`), and each first touch of a 2 MiB page then has the kernel zero
/// all of it: on the 2-core machine that was a third of the CPU time of a 1,000,000-row
/// Parquet run and a quarter of a CSV one (docs/performance.md). With 4 KiB pages only what
/// is used is zeroed. An explicit `MIMALLOC_ALLOW_THP` in the environment is left to mimalloc.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // SAFETY: sets the process's "no THP" flag, checked by the kernel at each later page
    // fault; it changes no memory the program holds.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_transparent_huge_pages() {}

/// drgdip — CHS-DRG 2.0 / DIP 2.0 grouping and payment, from the discharge record to the yuan.
#[derive(Debug, Parser)]
#[command(name = "drgdip", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Group a case file: one result row per input row, in order.
    Group(cmd_group::GroupArgs),
    /// Explain the grouping of one case (from a file or from flags).
    Explain(cmd_explain::ExplainArgs),
    /// Load, check and describe the known schemes.
    Schemes(cmd_scheme::SchemesArgs),
    /// Compute DRG relative weights from a year of history.
    Weights(cmd_pay::WeightsArgs),
    /// Pay each case of a file under the region's DRG parameters.
    Pay(cmd_pay::PayArgs),
    /// DIP 2.0: build the region's disease library, score cases, the point value.
    Dip(cmd_dip::DipArgs),
    /// The exclusion catalogue (除外目录): check it, and what each item did over a case file.
    Exclusions(cmd_exclusions::ExclusionsArgs),
    /// Settle one month: import, group and pay its cases, one statement per hospital.
    Settle(cmd_settle::SettleArgs),
    /// Clear a year: final amounts per hospital, step by step.
    Clear(cmd_settle::ClearArgs),
    /// Prepayment: decide, list.
    Prepay(cmd_settle::PrepayArgs),
    /// The book of record: settled cases with what priced them, settlement runs.
    Ledger(cmd_ledger::LedgerArgs),
    /// Payments of the fund against the monthly statements: record (CSV), list.
    Payments(cmd_payments::PaymentsArgs),
    /// What the fund still owes as of a date (应付未付), by statement, with aging bands.
    Arrears(cmd_payments::ArrearsArgs),
    /// Opinions of hospitals and medical workers (意见收集反馈): submit, classify, forward, answer, close, list.
    Opinions(cmd_governance::OpinionsArgs),
    /// The data working group (医保数据工作组): a year's roster checked and recorded.
    WorkingGroup(cmd_governance::WorkingGroupArgs),
    /// The HTTP API.
    Serve(cmd_serve::ServeArgs),
    /// Tokens files for the HTTP API: `tokens init` writes one with fresh random tokens.
    Tokens(cmd_tokens::TokensArgs),
    /// The special-case review (特例单议) over the ledger: submit, assign, review, spot checks,
    /// the notice.
    #[command(name = "special-cases")]
    SpecialCases(cmd_special::SpecialArgs),
    /// Simulate a proposal (方案测算): the same cases under the baseline and the proposal.
    Simulate(cmd_simulate::SimulateArgs),
    /// The impact of a scheme change (分组方案切换): crosswalk, ADRG changes, CMI and payment.
    CompareSchemes(cmd_simulate::CompareSchemesArgs),
    /// Local DRG weights against the national reference weights.
    WeightsCompare(cmd_simulate::WeightsCompareArgs),
    /// Reports: hospital monthly feedback, region quarter and year, special-case notice.
    Report(cmd_report::ReportArgs),
    /// 亮家底 — the disclosure pack of a month, a quarter or a year (CSV, HTML).
    Disclose(cmd_disclose::DiscloseArgs),
    /// The budget (总额预算): versions, adjustments, execution per month, year-end forecast.
    Budget(cmd_budget::BudgetArgs),
    /// Negotiation rounds (谈判协商): parties, proposals each simulated, the agreed parameters, minutes.
    Negotiate(cmd_negotiate::NegotiateArgs),
}

/// A closed output pipe (`drgdip schemes | head -1`) ends the process quietly, as it ends any
/// Unix filter, instead of a panic in `println!`. Not for `serve`, whose sockets must not kill
/// the server when a client goes away.
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: resetting a signal's disposition to its default at the start of main, before any
    // thread is started, has no other effect on the program's state.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn quiet_on_closed_pipe() {}

fn main() {
    no_transparent_huge_pages();
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        // (a server keeps its default: a large upload's memory goes back to the kernel
        // instead of staying with the process for its lifetime)
        keep_freed_memory();
        quiet_on_closed_pipe();
    }
    let result = match cli.command {
        Command::Group(a) => cmd_group::run(a),
        Command::Explain(a) => cmd_explain::run(a),
        Command::Schemes(a) => cmd_scheme::run(a),
        Command::Weights(a) => cmd_pay::run_weights(a),
        Command::Pay(a) => cmd_pay::run_pay(a),
        Command::Dip(a) => cmd_dip::run(a),
        Command::Exclusions(a) => cmd_exclusions::run(a),
        Command::Settle(a) => cmd_settle::run_settle(a),
        Command::Clear(a) => cmd_settle::run_clear(a),
        Command::Prepay(a) => cmd_settle::run_prepay(a),
        Command::Ledger(a) => cmd_ledger::run(a),
        Command::Payments(a) => cmd_payments::run_payments(a),
        Command::Arrears(a) => cmd_payments::run_arrears(a),
        Command::Opinions(a) => cmd_governance::run_opinions(a),
        Command::WorkingGroup(a) => cmd_governance::run_working_group(a),
        Command::Serve(a) => cmd_serve::run(a),
        Command::Tokens(a) => cmd_tokens::run(a),
        Command::Report(a) => cmd_report::run(a),
        Command::Disclose(a) => cmd_disclose::run(a),
        Command::SpecialCases(a) => cmd_special::run(a),
        Command::Simulate(a) => cmd_simulate::run_simulate(a),
        Command::CompareSchemes(a) => cmd_simulate::run_compare_schemes(a),
        Command::WeightsCompare(a) => cmd_simulate::run_weights_compare(a),
        Command::Budget(a) => cmd_budget::run(a),
        Command::Negotiate(a) => cmd_negotiate::run(a),
    };
    if let Err(e) = result {
        // the reader of our output went away (`drgdip group -o - | head`): not an error
        let broken_pipe = e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            std::process::exit(0);
        }
        eprintln!("drgdip: error: {e:#}");
        std::process::exit(2);
    }
}

#[cfg(test)]
mod tests {
    /// The option number is mimalloc v2's purge delay: its default is 10 (ms) and it takes -1.
    /// Guards the hand-written constant against an upgrade of the allocator that renumbers it.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads and sets one integer option of the allocator.
        unsafe {
            assert_eq!(
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                10
            );
            super::keep_freed_memory();
            assert_eq!(
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                -1
            );
        }
    }
}
