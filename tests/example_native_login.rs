//! The `native_login` example, run end to end against the local sandbox: discover → password
//! on standard input → v2 authorize → token, or v3 grant. `cargo test` builds examples next to
//! the test binaries (`target/<profile>/examples/`).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::process::{Command, Output, Stdio};

use nativeauth_sandbox::{SandboxConfig, serve};

/// Runs the example with `args`, `env` and the password on standard input.
async fn run(
    args: Vec<String>,
    env: (&'static str, &'static str),
    password: &'static str,
) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(nativeauth_testkit::built_example("native_login"))
            .args(&args)
            .env_remove("NYLAS_CLIENT_SECRET")
            .env_remove("NYLAS_API_KEY")
            .env(env.0, env.1)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn args(api: &str, url: &str, address: &str) -> Vec<String> {
    ["--api", api, "--api-url", url, "--name", "Jane", "--offline", address]
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_completes_the_v2_and_v3_flows_against_the_sandbox() {
    let sandbox = serve("127.0.0.1:0".parse().unwrap(), SandboxConfig::default()).await.unwrap();

    let v2 = run(
        args("v2", &sandbox.url(), "jane@comcast.net"),
        ("NYLAS_CLIENT_SECRET", "sandbox-secret"),
        "pw-demo",
    )
    .await;
    let stdout = String::from_utf8_lossy(&v2.stdout);
    assert!(v2.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&v2.stderr));
    assert!(stdout.contains("linked account acc-"), "{stdout}");

    let v3 = run(
        args("v3", &sandbox.url(), "jane@comcast.net"),
        ("NYLAS_API_KEY", "sandbox-api-key"),
        "pw-demo",
    )
    .await;
    let stdout = String::from_utf8_lossy(&v3.stdout);
    assert!(v3.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&v3.stderr));
    assert!(
        stdout.contains("created grant grant-") && stdout.contains("provider imap"),
        "{stdout}"
    );

    for output in [&v2, &v3] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        for secret in ["pw-demo", "sandbox-secret", "sandbox-api-key", "code-", "tok-"] {
            assert!(!all.contains(secret), "{secret} printed:\n{all}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_reports_a_refused_password_and_oauth_providers() {
    let sandbox = serve("127.0.0.1:0".parse().unwrap(), SandboxConfig::default()).await.unwrap();
    let wrong = run(
        args("v2", &sandbox.url(), "jane@comcast.net"),
        ("NYLAS_CLIENT_SECRET", "sandbox-secret"),
        "wrong",
    )
    .await;
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("refused the credentials"),
        "{wrong:?}"
    );
    let outlook = run(
        args("v2", &sandbox.url(), "kim@outlook.com"),
        ("NYLAS_CLIENT_SECRET", "sandbox-secret"),
        "pw",
    )
    .await;
    assert!(!outlook.status.success());
    assert!(
        String::from_utf8_lossy(&outlook.stderr).contains("sign in with Microsoft"),
        "{outlook:?}"
    );
}
