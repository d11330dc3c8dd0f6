//! One file per subcommand: build inputs, call the library, print the result.

mod auth;
mod docs;
mod export;
mod gc;
mod inspect;
mod list;
mod login;
mod pull;
mod push;
mod reference;
mod repair;
mod rm;
mod verify;

use std::process::ExitCode;

use super::args::{Cli, Command};

pub fn dispatch(cli: Cli) -> Result<ExitCode, regpull::Error> {
    match cli.command {
        Command::Auth(args) => auth::run(&args),
        Command::Completions(args) => docs::completions(&args),
        Command::Man(args) => docs::man(&args),
        Command::Gc(args) => gc::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::List(args) => list::run(&args),
        Command::Rm(args) => rm::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Login(args) => login::login(&args),
        Command::Logout(args) => login::logout(&args),
        Command::Pull(args) => pull::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Push(args) => push::run(&args),
        Command::Ref(args) => reference::run(&args),
    }
}
