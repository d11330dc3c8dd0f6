//! The command line: the only place that knows clap, prints, or picks exit codes.

mod args;
mod commands;
mod events;
mod hints;
mod image_list;
mod json;
mod logging;
mod progress;
mod proxy_hint;
mod push_events;
mod report;
mod settings;
mod units;

use std::process::ExitCode;

use clap::Parser;

/// Parses the arguments, runs the command and reports how it went.
pub fn run() -> ExitCode {
    let cli = args::Cli::parse();
    logging::init(cli.verbose);
    let json = cli.command.json();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            if json {
                json::emit(&events::error_event(&err));
            }
            report::report(&err)
        }
    }
}
