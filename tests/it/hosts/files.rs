//! Which registries.conf files are read, in which order, and how drop-ins
//! replace what came before.

use regpull::hosts::{HostsConfig, HostsError, LoadOptions};

use super::{Machine, shown};

fn table(location: &str, mirror: &str) -> String {
    format!(
        "[[registry]]\nlocation = \"{location}\"\n[[registry.mirror]]\nlocation = \"{mirror}\"\n"
    )
}

#[test]
fn the_system_file_then_system_drop_ins_then_user_drop_ins() {
    let m = Machine::new();
    m.system_conf(&format!(
        "{}{}",
        table("a.example", "sys.example"),
        table("b.example", "sys.example")
    ));
    // Name order within a directory: 10- before 20-.
    m.write(
        "etc/containers/registries.conf.d/20-b.conf",
        &table("b.example", "sys-dropin-20.example"),
    );
    m.write(
        "etc/containers/registries.conf.d/10-b.conf",
        &table("b.example", "sys-dropin-10.example"),
    );
    m.write(
        "etc/containers/registries.conf.d/ignored.txt",
        &table("b.example", "txt.example"),
    );
    m.write(
        "home/.config/containers/registries.conf.d/00-b.conf",
        &table("b.example", "user-dropin.example"),
    );
    m.write(
        "etc/containers/registries.conf.d/30-c.conf",
        &table("c.example", "c-mirror.example"),
    );
    // The drop-in replaces the whole table: a.example is untouched, b.example's
    // last word is the user's drop-in, read after the system's.
    assert_eq!(m.places("a.example/x"), ["sys.example/x", "a.example/x"]);
    assert_eq!(
        m.places("b.example/x"),
        ["user-dropin.example/x", "b.example/x"]
    );
    assert_eq!(
        m.places("c.example/x"),
        ["c-mirror.example/x", "c.example/x"]
    );
    let config = m.load();
    let read: Vec<&String> = config
        .notes()
        .iter()
        .filter(|n| n.starts_with("read "))
        .collect();
    assert_eq!(read.len(), 5, "{read:?}");
    assert!(
        read[0].ends_with("etc/containers/registries.conf"),
        "{read:?}"
    );
    assert!(
        read[1].ends_with("10-b.conf") && read[2].ends_with("20-b.conf"),
        "{read:?}"
    );
    assert!(read[4].ends_with("00-b.conf"), "{read:?}");
    assert!(
        config
            .notes()
            .iter()
            .any(|n| n.contains("replaces the table at"))
    );
}

#[test]
fn a_user_file_replaces_the_system_file_and_its_drop_ins() {
    let m = Machine::new();
    m.system_conf(&table("a.example", "sys.example"));
    m.write(
        "etc/containers/registries.conf.d/b.conf",
        &table("b.example", "sys-dropin.example"),
    );
    m.user_conf(&table("a.example", "user.example"));
    m.write(
        "home/.config/containers/registries.conf.d/c.conf",
        &table("c.example", "user-dropin.example"),
    );
    assert_eq!(m.places("a.example/x"), ["user.example/x", "a.example/x"]);
    assert_eq!(m.places("b.example/x"), ["b.example/x"]);
    assert_eq!(
        m.places("c.example/x"),
        ["user-dropin.example/x", "c.example/x"]
    );
}

#[test]
fn an_explicit_file_is_the_only_one_read_and_must_exist() {
    let mut m = Machine::new();
    m.system_conf(&table("a.example", "sys.example"));
    m.user_conf(&table("a.example", "user.example"));
    m.write(
        "home/.config/containers/registries.conf.d/a.conf",
        &table("a.example", "dropin.example"),
    );
    let explicit = m.write("mine.conf", &table("a.example", "explicit.example"));
    m.explicit_conf = Some(explicit);
    assert_eq!(
        m.places("a.example/x"),
        ["explicit.example/x", "a.example/x"]
    );

    m.explicit_conf = Some(m.path("missing.conf"));
    let e = m.try_load().unwrap_err();
    assert!(matches!(e, HostsError::Read { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&shown(&m.path("missing.conf"))),
        "{e}"
    );
}

#[test]
fn missing_system_files_and_directories_are_fine() {
    let m = Machine::new();
    let config = m.load();
    assert!(
        config
            .notes()
            .iter()
            .any(|n| n.ends_with("registries.conf does not exist"))
    );
    assert!(
        config
            .notes()
            .iter()
            .any(|n| n.ends_with("certs.d does not exist"))
    );
    let nothing = HostsConfig::load(&LoadOptions {
        home: None,
        system_conf: m.path("nowhere/registries.conf"),
        hosts_dir: None,
        ..LoadOptions::default()
    })
    .unwrap();
    let image = "ubuntu".parse().unwrap();
    assert_eq!(nothing.sources(&image).unwrap().len(), 1);
}

#[test]
fn a_drop_in_must_be_v2_and_well_formed() {
    let m = Machine::new();
    let bad = m.write(
        "etc/containers/registries.conf.d/old.conf",
        "[registries.block]\nregistries = [\"a.example\"]\n",
    );
    let e = m.try_load().unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:1: a drop-in must use the v2 format",
            shown(&bad)
        )),
        "{e}"
    );

    let m = Machine::new();
    let bad = m.write(
        "home/.config/containers/registries.conf.d/x.conf",
        "[[registry]\n",
    );
    let e = m.try_load().unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:1: not valid TOML", shown(&bad))),
        "{e}"
    );
}
