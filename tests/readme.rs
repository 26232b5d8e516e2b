//! The README's Rust blocks cannot rot: each is part of a program that is built and run.
//! Every blank-line-separated part of a block must appear, whitespace aside, in one file:
//! `examples/quickstart.rs` (run here against the local sandbox) or a provider crate's
//! `lib.rs`.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nativeauth_sandbox::{SandboxConfig, serve};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The text of every ```rust block of the README.
fn rust_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.trim_start() == "```rust" => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn without_whitespace(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The files a README block may come from.
fn sources() -> Vec<(PathBuf, String)> {
    let mut files = vec![
        Path::new(ROOT).join("examples/quickstart.rs"),
        // The app's side of the login server's hand-over.
        Path::new(ROOT).join("crates/server/examples/app_side.rs"),
    ];
    for crate_dir in std::fs::read_dir(Path::new(ROOT).join("crates/providers")).unwrap() {
        files.push(crate_dir.unwrap().path().join("src/lib.rs"));
    }
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, without_whitespace(&text))
        })
        .collect()
}

#[test]
fn every_rust_block_of_the_readme_is_code_that_builds() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let blocks = rust_blocks(&readme);
    assert!(blocks.len() >= 4, "the README's Rust blocks were found: {}", blocks.len());
    let sources = sources();
    for block in blocks {
        let parts: Vec<String> =
            block.split("\n\n").map(without_whitespace).filter(|p| !p.is_empty()).collect();
        let home = sources.iter().find(|(_, text)| parts.iter().all(|p| text.contains(p.as_str())));
        assert!(
            home.is_some(),
            "this README block is not in examples/quickstart.rs, the server's app_side example or a provider crate:\n{block}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_links_an_account_against_the_sandbox() {
    let sandbox = serve("127.0.0.1:0".parse().unwrap(), SandboxConfig::default()).await.unwrap();
    let catalogue = std::env::temp_dir().join(format!("quickstart-{}.toml", std::process::id()));
    std::fs::write(
        &catalogue,
        "[[provider]]\nid = \"acme\"\nname = \"Acme\"\nnylas = \"imap\"\nauth = \"password\"\ndomains = [\"comcast.net\"]\n[[provider.incoming]]\nprotocol = \"imap\"\nhost = \"imap.acme.example\"\nport = 993\nsecurity = \"tls\"\n[[provider.outgoing]]\nprotocol = \"smtp\"\nhost = \"smtp.acme.example\"\nport = 465\nsecurity = \"tls\"\n",
    )
    .unwrap();
    let args = [sandbox.url(), " Jane@COMCAST.net ".into(), catalogue.display().to_string()];
    let output = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(nativeauth_testkit::built_example("quickstart"))
            .args(&args)
            .env("NYLAS_CLIENT_SECRET", "sandbox-secret")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "pw-demo").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "imap via catalogue (verified)");
    assert!(lines[1].starts_with("imap imap.comcast.net:993 user "), "{stdout}");
    assert!(stdout.contains("linked account acc-"), "{stdout}");
    // Extend: the file's entry wins over the built-in one for its domain.
    assert!(stdout.contains("with the extra catalogue: acme"), "{stdout}");
    assert!(!stdout.contains("pw-demo"), "{stdout}");
}
