//! What `apptainer build` puts into an image built from a Docker/OCI image
//! (apptainer/apptainer `internal/pkg/build/sources/base_environment.go` and
//! `conveyorPacker_oci.go`), written in regpull's own words:
//!
//! - `/.singularity.d/env/10-docker2singularity.sh`: Env as exports; PATH
//!   always, the others only where the caller has not set them;
//! - `/.singularity.d/runscript`: Entrypoint + Cmd as `docker run` combines
//!   them with the arguments of `apptainer run`. Apptainer recognizes a
//!   Docker-style runscript by its `eval "set ${SINGULARITY_OCI_RUN}"` line
//!   and interprets it with its own shell, so that line is kept exactly;
//! - `/.singularity.d/labels.json`: the config's labels and where the image
//!   came from;
//! - the rest of the skeleton (`actions/`, the other `env/` scripts, the
//!   `/singularity`, `/environment` and `/.run`-style links) and the mount
//!   points Apptainer binds over (made only where the image has nothing).

use std::collections::BTreeMap;

use serde::Serialize;

use super::quote::{double_quoted_inner, double_quoted_words, is_var_name, single_quoted};
use crate::export::image::Image;
use crate::unpack::Extra;

const SOURCE_ENV: &str = "for script in /.singularity.d/env/*.sh; do\n    if [ -f \"$script\" ]; then\n        . \"$script\"\n    fi\ndone\n";

fn actions() -> [(&'static str, String); 5] {
    let with_env = |body: &str| format!("#!/bin/sh\n{SOURCE_ENV}\n{body}");
    [
        ("exec", with_env("exec \"$@\"\n")),
        (
            "run",
            with_env(
                "if [ -x /.singularity.d/runscript ]; then\n    exec /.singularity.d/runscript \"$@\"\nfi\n\
                 echo \"this image has no runscript; starting /bin/sh\" >&2\nexec /bin/sh \"$@\"\n",
            ),
        ),
        (
            "shell",
            with_env(
                "if [ -n \"$SINGULARITY_SHELL\" ] && [ -x \"$SINGULARITY_SHELL\" ]; then\n    exec \"$SINGULARITY_SHELL\" \"$@\"\nfi\n\
                 if [ -x /bin/bash ]; then\n    PS1=\"Apptainer> \" exec /bin/bash --norc \"$@\"\nfi\nexec /bin/sh \"$@\"\n",
            ),
        ),
        (
            "start",
            with_env("exec /.singularity.d/startscript \"$@\"\n"),
        ),
        (
            "test",
            with_env(
                "if [ -x /.singularity.d/test ]; then\n    exec /.singularity.d/test \"$@\"\nfi\necho \"this image has no test\" >&2\n",
            ),
        ),
    ]
}

const ENV_BASE: &str = "#!/bin/sh\n# The base environment: nothing for images from a registry.\n";
const ENV_ENVIRONMENT: &str = "#!/bin/sh\n# Custom environment shell code should follow\n";
const ENV_APPS: &str = "#!/bin/sh\n# SCIF apps: none in images from a registry.\n";
const ENV_99_BASE: &str = "#!/bin/sh\n\
if [ -z \"$LD_LIBRARY_PATH\" ]; then\n    LD_LIBRARY_PATH=\"/.singularity.d/libs\"\nelse\n    LD_LIBRARY_PATH=\"$LD_LIBRARY_PATH:/.singularity.d/libs\"\nfi\n\
if [ -z \"$PS1\" ]; then\n    PS1=\"Apptainer> \"\nfi\nexport LD_LIBRARY_PATH PS1\n";
const ENV_RUNTIMEVARS: &str = "#!/bin/sh\n\
if [ -n \"${SING_USER_DEFINED_PREPEND_PATH:-}\" ]; then\n    PATH=\"$SING_USER_DEFINED_PREPEND_PATH:$PATH\"\nfi\n\
if [ -n \"${SING_USER_DEFINED_APPEND_PATH:-}\" ]; then\n    PATH=\"$PATH:$SING_USER_DEFINED_APPEND_PATH\"\nfi\n\
if [ -n \"${SING_USER_DEFINED_PATH:-}\" ]; then\n    PATH=\"$SING_USER_DEFINED_PATH\"\nfi\n\
unset SING_USER_DEFINED_PREPEND_PATH SING_USER_DEFINED_APPEND_PATH SING_USER_DEFINED_PATH\nexport PATH\n";

/// The runscript: `apptainer run IMAGE ARGS` does what `docker run IMAGE
/// ARGS` does. Arguments are referred to as `"${1}"`, `"${2}"`... in the
/// string that is `eval`ed, so they reach the program unexpanded, whatever
/// quotes or `$` they hold.
fn runscript(entrypoint: &[String], cmd: &[String]) -> String {
    format!(
        "#!/bin/sh\nOCI_ENTRYPOINT={}\nOCI_CMD={}\n{}",
        single_quoted(&double_quoted_words(entrypoint)),
        single_quoted(&double_quoted_words(cmd)),
        r#"
# ENTRYPOINT only: run it with the arguments.
# CMD only: run it, or the arguments instead.
# both: run ENTRYPOINT with the arguments, or with CMD when there are none.
CMDLINE_ARGS=""
i=1
while [ "$i" -le "$#" ]; do
    CMDLINE_ARGS="$CMDLINE_ARGS \"\${$i}\""
    i=$((i + 1))
done
if [ -n "$OCI_ENTRYPOINT" ]; then
    if [ $# -gt 0 ]; then
        SINGULARITY_OCI_RUN="$OCI_ENTRYPOINT $CMDLINE_ARGS"
    else
        SINGULARITY_OCI_RUN="$OCI_ENTRYPOINT $OCI_CMD"
    fi
elif [ $# -gt 0 ]; then
    SINGULARITY_OCI_RUN="$CMDLINE_ARGS"
elif [ -n "$OCI_CMD" ]; then
    SINGULARITY_OCI_RUN="$OCI_CMD"
else
    SINGULARITY_OCI_RUN='"/bin/sh"'
fi
eval "set ${SINGULARITY_OCI_RUN}"
exec "$@"
"#
    )
}

/// Env as exports. PATH is the image's; other variables keep a value the
/// caller set (`${K:-default}`), as Apptainer does.
fn docker_env(env: &[String]) -> String {
    let mut s = String::from("#!/bin/sh\n");
    for e in env {
        let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
        if !is_var_name(k) {
            continue;
        }
        let v = double_quoted_inner(v);
        if k == "PATH" {
            s.push_str(&format!("export PATH=\"{v}\"\n"));
        } else {
            s.push_str(&format!("export {k}=\"${{{k}:-\"{v}\"}}\"\n"));
        }
    }
    s
}

/// labels.json: the image's labels, then what Apptainer adds (which wins).
fn labels(image: &Image) -> Vec<u8> {
    let mut l: BTreeMap<String, String> = image.run.labels.clone();
    l.insert("org.label-schema.schema-version".into(), "1.0".into());
    l.insert(
        "org.opencontainers.image.base.name".into(),
        image.name.clone(),
    );
    l.insert(
        "org.opencontainers.image.base.digest".into(),
        image.inspection.manifest_digest.to_string(),
    );
    let arch = image.run.arch();
    if !arch.is_empty() {
        l.insert("org.opencontainers.image.architecture".into(), arch.into());
        l.insert("org.label-schema.build-arch".into(), arch.into());
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    l.serialize(&mut ser).expect("strings serialize");
    out
}

pub fn files(image: &Image) -> Vec<Extra> {
    let dir = |path: &str, mode| Extra::Dir {
        path: path.into(),
        mode,
    };
    let script = |path: String, contents: String| Extra::File {
        path,
        contents: contents.into_bytes(),
        mode: 0o755,
        replace: true,
    };
    let mut out = vec![
        dir("/.singularity.d", 0o755),
        dir("/.singularity.d/libs", 0o755),
        dir("/.singularity.d/actions", 0o755),
        dir("/.singularity.d/env", 0o755),
    ];
    // Mount points Apptainer binds over, where the image has nothing.
    for (d, mode) in [
        ("/dev", 0o755),
        ("/proc", 0o555),
        ("/root", 0o700),
        ("/tmp", 0o1777),
        ("/var/tmp", 0o1777),
        ("/etc", 0o755),
        ("/sys", 0o555),
        ("/home", 0o755),
    ] {
        out.push(dir(d, mode));
    }
    for f in ["/etc/hosts", "/etc/resolv.conf"] {
        out.push(Extra::File {
            path: f.into(),
            contents: Vec::new(),
            mode: 0o644,
            replace: false,
        });
    }
    for (name, body) in actions() {
        out.push(script(format!("/.singularity.d/actions/{name}"), body));
    }
    for (name, body) in [
        ("01-base.sh", ENV_BASE.to_string()),
        ("10-docker2singularity.sh", docker_env(&image.run.env)),
        ("90-environment.sh", ENV_ENVIRONMENT.to_string()),
        ("95-apps.sh", ENV_APPS.to_string()),
        ("99-base.sh", ENV_99_BASE.to_string()),
        ("99-runtimevars.sh", ENV_RUNTIMEVARS.to_string()),
    ] {
        out.push(script(format!("/.singularity.d/env/{name}"), body));
    }
    out.push(script(
        "/.singularity.d/runscript".into(),
        runscript(&image.run.entrypoint, &image.run.cmd),
    ));
    out.push(script(
        "/.singularity.d/startscript".into(),
        "#!/bin/sh\n".into(),
    ));
    out.push(Extra::File {
        path: "/.singularity.d/labels.json".into(),
        contents: labels(image),
        mode: 0o644,
        replace: true,
    });
    out.push(Extra::File {
        path: "/.singularity.d/Singularity".into(),
        contents: deffile(image).into_bytes(),
        mode: 0o644,
        replace: true,
    });
    for (link, target) in [
        ("/singularity", ".singularity.d/runscript"),
        ("/.run", ".singularity.d/actions/run"),
        ("/.exec", ".singularity.d/actions/exec"),
        ("/.shell", ".singularity.d/actions/shell"),
        ("/.test", ".singularity.d/actions/test"),
        ("/environment", ".singularity.d/env/90-environment.sh"),
    ] {
        out.push(Extra::Symlink {
            path: link.into(),
            target: target.into(),
        });
    }
    out
}

/// The definition `apptainer build IMAGE docker://NAME` would have recorded.
pub fn deffile(image: &Image) -> String {
    format!("bootstrap: docker\nfrom: {}\n\n", image.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the runscript with sh, with `printf '[%s]'` standing in for exec's program.
    fn run(entrypoint: &[&str], cmd: &[&str], args: &[&str]) -> String {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let script =
            runscript(&v(entrypoint), &v(cmd)).replace("exec \"$@\"", "printf '[%s]' \"$@\"");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .arg("sh")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn runscript_combines_entrypoint_cmd_and_arguments_as_docker_run() {
        assert_eq!(run(&["/e", "x y"], &["c"], &[]), "[/e][x y][c]");
        assert_eq!(
            run(&["/e"], &["c"], &["a b", "$(false)", "it's \"q\""]),
            "[/e][a b][$(false)][it's \"q\"]"
        );
        assert_eq!(run(&[], &["/c", "$HOME"], &[]), "[/c][$HOME]");
        assert_eq!(run(&[], &["/c"], &["x"]), "[x]");
        assert_eq!(run(&[], &[], &[]), "[/bin/sh]");
        assert!(runscript(&[], &[]).contains("\neval \"set ${SINGULARITY_OCI_RUN}\"\n"));
    }

    #[test]
    fn docker_env_exports_keep_callers_values_but_not_path() {
        let env = docker_env(&[
            "PATH=/x:$y".into(),
            "A=1 \"2\"".into(),
            "bad-name=z".into(),
            "EMPTY".into(),
        ]);
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{env}\nprintf '%s|%s|%s|%s' \"$PATH\" \"$A\" \"$EMPTY\" \"$KEEP\""
            ))
            .env("A", "caller")
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "/x:$y|caller||");
        assert!(!env.contains("bad-name"));
    }
}
