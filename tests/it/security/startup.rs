//! Start-up fails closed: no open server off loopback, no enforced server without a usable
//! credential, no weaker fallback for a bad key file or JWT setting.

use crate::common::TestServer;

fn refuses(args: &[&str], says: &[&str]) {
    let (code, out) = TestServer::refused(args);
    assert_ne!(code, Some(0), "{args:?} must not start: {out}");
    for s in says {
        assert!(
            out.contains(s),
            "{args:?}: the message must name {s:?}: {out}"
        );
    }
}

#[tokio::test]
async fn a_public_bind_without_authentication_is_refused() {
    refuses(&["--bind", "0.0.0.0"], &["--no-auth", "strata keys create"]);
    // Explicitly open is allowed, and so is a loopback bind with nothing configured.
    let open = TestServer::start(&["--bind", "0.0.0.0", "--no-auth"]).await;
    assert_eq!(open.client().get("/whoami").await.json()["role"], "admin");
}

#[tokio::test]
async fn authentication_without_a_usable_credential_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("none.json");
    let empty = empty.to_str().unwrap();
    refuses(&["--auth"], &["strata keys create"]);
    refuses(&["--api-keys-file", empty], &["holds no key"]);
    refuses(&["--no-auth", "--api-keys-file", empty], &["--no-auth"]);
    refuses(&["--no-auth", "--auth"], &["--auth"]);
}

#[tokio::test]
async fn bad_key_files_and_jwt_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "zepto_|not|a|key|file\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    refuses(
        &["--api-keys-file", garbage.to_str().unwrap()],
        &["malformed"],
    );

    let keys = dir.path().join("keys.json");
    super::cli_key(&keys, "root", "admin", &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
        refuses(&["--api-keys-file", keys.to_str().unwrap()], &["chmod 600"]);
    }

    let pem = dir.path().join("bad.pem");
    std::fs::write(
        &pem,
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    )
    .unwrap();
    let jwt = [
        "--jwt-issuer",
        "https://idp.test",
        "--jwt-audience",
        "strata",
    ];
    refuses(
        &[&["--jwt-secret", "short"][..], &jwt].concat(),
        &["32 bytes"],
    );
    refuses(
        &["--jwt-secret", "a-secret-that-is-long-enough-for-hs256!!"],
        &["--jwt-issuer"],
    );
    refuses(
        &[&["--jwt-public-key", pem.to_str().unwrap()][..], &jwt].concat(),
        &["--jwt-public-key"],
    );
    refuses(&["--tenant", "nocolon"], &["--tenant"]);
}
