//! What `enroot import` writes into a root filesystem, from the image config
//! (NVIDIA/enroot `src/docker.sh`, `docker::configure`, v4.1.2), so that
//! `enroot create` + `enroot start` run the image as Docker would:
//!
//! - `/etc/rc`: the config's labels as comments, then `cd` to WorkingDir,
//!   source `/etc/rc.local` when it is not empty, and `exec` Entrypoint with
//!   the arguments given to `enroot start`, or Entrypoint + Cmd without any
//!   (`/bin/sh` when both are empty);
//! - `/etc/environment`: Env, one `KEY=VALUE` a line (enroot substitutes and
//!   filters it at start);
//! - `/etc/rc.local`: a commented stub for users to edit;
//! - `/etc/fstab`: a writable bind for each of Volumes, which enroot expands
//!   (`${ENROOT_ROOTFS}`) at start.
//!
//! Enroot's own bash quoting (`${var@Q}`) is replaced by POSIX quoting, so
//! an argument with a newline stays one argument under dash and busybox too.

use super::quote::{double_quoted_inner, sh_word};
use crate::export::image::RunConfig;
use crate::unpack::Extra;

const RC_LOCAL: &str = "\
# This file is sourced by /etc/rc when the container starts.
# It can be used to manipulate the entrypoint or the command of the container.
";

pub fn files(run: &RunConfig) -> Vec<Extra> {
    let workdir = if run.working_dir.is_empty() {
        "/".to_string()
    } else {
        run.working_dir.clone()
    };
    let mut out = vec![Extra::Dir {
        path: "/etc".into(),
        mode: 0o755,
    }];
    if workdir != "/" {
        out.push(Extra::Dir {
            path: workdir.clone(),
            mode: 0o755,
        });
    }
    let file = |path: &str, contents: String| Extra::File {
        path: path.into(),
        contents: contents.into_bytes(),
        mode: 0o644,
        replace: true,
    };
    out.push(file("/etc/rc", rc(run, &workdir)));
    out.push(file("/etc/rc.local", RC_LOCAL.to_string()));
    out.push(file("/etc/environment", environment(&run.env)));
    out.push(file("/etc/fstab", fstab(&run.volumes)));
    out
}

fn rc(run: &RunConfig, workdir: &str) -> String {
    let mut s = String::new();
    for (k, v) in &run.labels {
        // A newline would end the comment and start a command.
        let one_line = |t: &str| t.replace(['\n', '\r'], " ");
        s.push_str(&format!("# {} {}\n", one_line(k), one_line(v)));
    }
    if !s.is_empty() {
        s.push('\n');
    }
    let wd = double_quoted_inner(workdir);
    s.push_str(&format!("mkdir -p \"{wd}\" 2> /dev/null\n"));
    s.push_str(&format!("cd \"{wd}\" && unset OLDPWD || exit 1\n\n"));
    s.push_str("if [ -s /etc/rc.local ]; then\n    . /etc/rc.local\nfi\n\n");
    let words = |v: &[String]| v.iter().map(|w| sh_word(w)).collect::<Vec<_>>().join(" ");
    let entrypoint = words(&run.entrypoint);
    let cmd = if run.entrypoint.is_empty() && run.cmd.is_empty() {
        sh_word("/bin/sh")
    } else {
        words(&run.cmd)
    };
    s.push_str(&format!(
        "if [ $# -gt 0 ]; then\n    exec {entrypoint} \"$@\"\nelse\n    exec {entrypoint} {cmd}\nfi\n"
    ));
    s
}

fn environment(env: &[String]) -> String {
    // A value with a newline cannot be one line of this file; enroot would
    // read its pieces as other variables.
    env.iter()
        .filter(|e| !e.contains(['\n', '\r']))
        .map(|e| format!("{e}\n"))
        .collect()
}

fn fstab(volumes: &[String]) -> String {
    let mut v: Vec<&String> = volumes
        .iter()
        .filter(|p| p.starts_with('/') && !p.contains(char::is_whitespace))
        .collect();
    v.sort();
    v.iter()
        .map(|p| format!("${{ENROOT_ROOTFS}}{p} {p} none x-create=dir,bind,rw,nosuid,nodev\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunConfig {
        RunConfig {
            entrypoint: vec!["/docker-entrypoint.sh".into(), "it's".into()],
            cmd: vec!["nginx".into(), "-g".into(), "daemon off;".into()],
            env: vec![
                "PATH=/usr/bin:/bin".into(),
                "A=b c".into(),
                "BAD=x\ny".into(),
            ],
            working_dir: "/app".into(),
            volumes: vec!["/data".into(), "/cache".into(), "/has space".into()],
            labels: [("maintainer".to_string(), "me\nrm -rf /".to_string())].into(),
            architecture: "amd64".into(),
        }
    }

    #[test]
    fn rc_is_enroots_template_with_posix_quoting() {
        let rc = rc(&run(), "/app");
        assert_eq!(
            rc,
            "# maintainer me rm -rf /\n\n\
             mkdir -p \"/app\" 2> /dev/null\n\
             cd \"/app\" && unset OLDPWD || exit 1\n\n\
             if [ -s /etc/rc.local ]; then\n    . /etc/rc.local\nfi\n\n\
             if [ $# -gt 0 ]; then\n    exec '/docker-entrypoint.sh' 'it'\\''s' \"$@\"\n\
             else\n    exec '/docker-entrypoint.sh' 'it'\\''s' 'nginx' '-g' 'daemon off;'\nfi\n"
        );
    }

    #[test]
    fn an_image_with_no_command_runs_a_shell() {
        let rc = rc(&RunConfig::default(), "/");
        assert!(
            rc.ends_with("    exec  \"$@\"\nelse\n    exec  '/bin/sh'\nfi\n"),
            "{rc}"
        );
    }

    #[test]
    fn environment_and_fstab() {
        assert_eq!(environment(&run().env), "PATH=/usr/bin:/bin\nA=b c\n");
        assert_eq!(
            fstab(&run().volumes),
            "${ENROOT_ROOTFS}/cache /cache none x-create=dir,bind,rw,nosuid,nodev\n\
             ${ENROOT_ROOTFS}/data /data none x-create=dir,bind,rw,nosuid,nodev\n"
        );
    }
}
