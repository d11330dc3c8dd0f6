//! What a push refuses, and how it says so: a name the layout lacks, an
//! index missing a platform, credentials the destination refuses. No output
//! ever carries the password.

use super::{Dest, PASSWORD, run, stored, strings, support};

use support::image;

#[test]
fn a_name_the_layout_lacks_is_named_with_the_layout() {
    let img = image::image("linux", "amd64", &[&[("f", b"x")]]);
    let (_dir, layout) = stored(&[("example.com/app:1", &img)]);
    let l = layout.to_str().unwrap();
    let r = run(
        &strings(&["push", "-l", l, "example.com/nope:2", "localhost:5000/x:1"]),
        false,
    );
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(r.stderr.contains("example.com/nope:2"), "{}", r.stderr);
    assert!(r.stderr.contains(l), "names the layout: {}", r.stderr);
    assert!(
        r.stderr.contains("regpull list"),
        "hints at list: {}",
        r.stderr
    );
}

#[test]
fn an_index_missing_a_platform_is_refused_naming_the_manifest() {
    let idx = image::multi_platform(false);
    let (_dir, layout) = super::new_layout();
    let l = regpull::Layout::open_or_create(&layout).unwrap();
    // Every platform but the second.
    for (i, (_, img)) in idx.images.iter().enumerate() {
        if i != 1 {
            image::store_blobs(&l, img);
        }
    }
    l.write_blob(&idx.index.bytes).unwrap();
    let desc = serde_json::from_value(idx.index.descriptor()).unwrap();
    l.add_image("example.com/multi:1", &desc).unwrap();
    let dest = Dest::open();
    let r = dest.regpull(&[
        "push",
        "-l",
        layout.to_str().unwrap(),
        "example.com/multi:1",
        &format!("{}/multi:1", dest.host),
    ]);
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    let missing = idx.images[1].1.manifest.digest.to_string();
    assert!(r.stderr.contains(&missing), "{}", r.stderr);
    assert!(r.stderr.contains("linux/arm64/v8"), "{}", r.stderr);
    assert!(r.stderr.contains("--all-platforms"), "{}", r.stderr);
    assert_eq!(super::completed_uploads(&dest.log()), 0, "nothing was sent");
}

#[test]
fn refused_credentials_exit_with_the_auth_code_and_a_hint_and_no_secret() {
    let img = image::image("linux", "amd64", &[&[("f", b"x")]]);
    let (dir, layout) = stored(&[("example.com/app:1", &img)]);
    let l = layout.to_str().unwrap();
    // The right user with a wrong password, over TLS, logged at -vv.
    let dest = Dest::htpasswd();
    let wrong = dir.path().join("password");
    let wrong_password = format!("{PASSWORD}-but-wrong");
    std::fs::write(&wrong, &wrong_password).unwrap();
    let ca = dest.flags[1].clone();
    let r = run(
        &strings(&[
            "push",
            "-vv",
            "-l",
            l,
            "example.com/app:1",
            &format!("{}/app:1", dest.host),
            "--ca-cert",
            &ca,
            "--username",
            super::USER,
            "--password-file",
            wrong.to_str().unwrap(),
        ]),
        false,
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--password-file"),
        "names the source: {}",
        r.stderr
    );
    assert!(!r.stderr.contains(&wrong_password) && !r.stdout.contains(&wrong_password));
    r.no_secret();

    // No credentials at all for a token registry: refused too, with --json.
    let token = Dest::token();
    let r = run(
        &strings(&[
            "push",
            "--json",
            "-l",
            l,
            "example.com/app:1",
            &format!("{}/app:1", token.host),
        ]),
        false,
    );
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    let failed = &r.of_type("push_image_failed")[0];
    assert_eq!(failed["class"], "auth");
    assert!(
        failed["hint"].as_str().unwrap().contains("anonymous"),
        "{failed}"
    );
    assert_eq!(r.of_type("push_summary")[0]["exit_code"], 3);
}
