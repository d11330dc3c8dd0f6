//! `regpull completions SHELL` and `regpull man`: generated from the clap
//! grammar, so they can never disagree with `--help`.

use std::process::ExitCode;

use clap::CommandFactory;
use regpull::Error;

use crate::cli::args::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: &CompletionsArgs) -> Result<ExitCode, Error> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "regpull", &mut script);
    print(&script)
}

/// Writes to stdout; a reader that stops early (`| head`) is not an error.
fn print(bytes: &[u8]) -> Result<ExitCode, Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Usage {
            message: format!("cannot write to standard output: {e}"),
            hint: None,
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

pub fn man(args: &ManArgs) -> Result<ExitCode, Error> {
    let cmd = Cli::command();
    let io_err = |path: std::path::PathBuf| {
        move |e: std::io::Error| Error::Usage {
            message: format!("cannot write the manual to {}: {e}", path.display()),
            hint: Some("--out-dir needs a writable directory".into()),
        }
    };
    let Some(dir) = &args.out_dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .expect("rendering into memory does not fail");
        return print(&page);
    };
    std::fs::create_dir_all(dir).map_err(io_err(dir.clone()))?;
    clap_mangen::generate_to(cmd, dir).map_err(io_err(dir.clone()))?;
    Ok(ExitCode::SUCCESS)
}
