//! The `regpull` binary: parse arguments, run the command, turn the result into an
//! exit code. Everything else lives in the library or in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
