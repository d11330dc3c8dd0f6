//! The command line: the only place that knows clap, prints, or picks exit codes.

mod args;
mod commands;
mod json;
mod logging;
mod progress;
mod report;
mod settings;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command and reports how it went.
pub fn run() -> ExitCode {
    let cli = args::Cli::parse();
    logging::init(cli.verbose);
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => report::report(&err),
    }
}
