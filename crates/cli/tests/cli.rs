//! The `discover` binary, run as a user would run it (offline: the catalogue needs no network).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

mod contract;

fn discover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_discover")).args(args).output().expect("the binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nativeauth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn gmail_is_detected_from_the_catalogue() {
    let output = discover(&["alice@gmail.com", "--json", "--offline"]);
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    assert_eq!(report["email"], "alice@gmail.com");
    assert_eq!(report["detected"], true);
    assert_eq!(report["provider"]["nylas"], "gmail");
    assert_eq!(report["provider"]["id"], "gmail");
    assert_eq!(report["source"], "catalogue");
    assert_eq!(report["trust"], "verified");
    assert_eq!(report["auth"], "oauth2");
    let imap = &report["incoming"][0];
    assert_eq!(
        (imap["protocol"].as_str(), imap["host"].as_str()),
        (Some("imap"), Some("imap.gmail.com"))
    );
    assert_eq!((imap["port"].as_u64(), imap["security"].as_str()), (Some(993), Some("tls")));
    assert_eq!(imap["username"], "alice@gmail.com");
    let smtp = &report["outgoing"][0];
    assert_eq!(
        (smtp["host"].as_str(), smtp["port"].as_u64(), smtp["security"].as_str()),
        (Some("smtp.gmail.com"), Some(465), Some("tls"))
    );
    assert_eq!(report["exchange"], Value::Null);
    assert_eq!(report["error"], Value::Null);
    assert_eq!(report["trace"][0]["source"], "catalogue");
    assert_eq!(report["trace"][0]["outcome"], "found");
}

#[test]
fn usernames_are_rendered_for_the_address() {
    let report = json(&discover(&["Tim.Cook+x@ICLOUD.com", "--json", "--offline"]));
    assert_eq!(report["email"], "Tim.Cook+x@icloud.com");
    assert_eq!(report["provider"]["nylas"], "icloud");
    assert_eq!(report["auth"], "app-password");
    assert_eq!(report["incoming"][0]["username"], "Tim.Cook+x");
    assert_eq!(report["outgoing"][0]["username"], "Tim.Cook+x@icloud.com");
}

#[test]
fn lookalike_domains_find_nothing() {
    for address in ["bob@notaol.com", "bob@gmail.com.evil.example"] {
        let output = discover(&[address, "--offline", "--json"]);
        assert_eq!(output.status.code(), Some(1), "{address}");
        let report = json(&output);
        assert_eq!(report["detected"], false);
        assert_eq!(report["provider"], Value::Null);
        assert_eq!(report["error"]["kind"], "not-found");
    }
    let output = discover(&["bob@notaol.com", "--offline"]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Offline, only the catalogue was asked: the report says so and what to try next.
    assert!(
        stdout.contains("nothing found") && stdout.contains("offline nothing else was asked"),
        "{stdout}"
    );
    assert!(stdout.contains("run without --offline"), "{stdout}");
}

#[test]
fn invalid_addresses_exit_2_and_say_what_is_wrong() {
    let output = discover(&["not an address"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a valid email address") && stderr.contains("no '@'"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = discover(&["a@localhost", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json(&output);
    assert_eq!(report["detected"], false);
    assert_eq!(report["error"]["kind"], "invalid-email");
    assert!(report["error"]["message"].as_str().unwrap().contains("single label"));
}

#[test]
fn human_output_says_what_the_login_page_must_ask_and_why() {
    let output = discover(&["carol@yahoo.co.uk", "--offline"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "Nylas provider \"yahoo\"",
        "app-password",
        "imap.mail.yahoo.com:993",
        "catalogue",
        "trace",
        "verified",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(discover(&[]).status.code(), Some(2));
    assert_eq!(discover(&["a@gmail.com", "--timeout", "soon"]).status.code(), Some(2));
    assert_eq!(discover(&["a@gmail.com", "--no-such-flag"]).status.code(), Some(2));
}

#[test]
fn a_user_catalogue_extends_the_builtin_one() {
    let path = temp_file(
        "extra.toml",
        r#"[[provider]]
id = "acme"
name = "Acme Mail"
nylas = "imap"
auth = "password"
domains = ["acme.example", "gmail.com"]
[[provider.incoming]]
protocol = "imap"
host = "imap.acme.example"
port = 993
security = "tls"
[[provider.outgoing]]
protocol = "smtp"
host = "smtp.acme.example"
port = 587
security = "starttls"
"#,
    );
    let path = path.to_str().unwrap();
    let report = json(&discover(&["x@acme.example", "--offline", "--json", "--catalogue", path]));
    assert_eq!(report["provider"]["id"], "acme");
    assert_eq!(report["outgoing"][0]["security"], "starttls");
    let report = json(&discover(&["x@gmail.com", "--offline", "--json", "--catalogue", path]));
    assert_eq!(report["provider"]["id"], "acme", "the user's entry wins");
    let output = discover(&[
        "x@yahoo.com",
        "--offline",
        "--json",
        "--catalogue",
        path,
        "--no-builtin-catalogue",
    ]);
    assert_eq!(output.status.code(), Some(1), "the built-in catalogue was replaced");
}

#[test]
fn catalogue_problems_are_reported_with_positions() {
    let path = temp_file(
        "broken.toml",
        "[[provider]]\nid = \"x\"\nname = \"X\"\nnylas = \"imap\"\nauth = \"password\"\n[[provider.incoming]]\nprotocol = \"imap\"\nhost = \"imap.x.example\"\nport = 0\nsecurity = \"tls\"\n",
    );
    let output = discover(&["--check-catalogue", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.toml:9:8: port 0"), "{stderr}");
    assert!(stderr.contains("no valid outgoing server"), "{stderr}");

    let output = discover(&["a@gmail.com", "--catalogue", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));

    let builtin = concat!(env!("CARGO_MANIFEST_DIR"), "/../../providers.toml");
    let output = discover(&["--check-catalogue", builtin]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn check_catalogue_reports_every_problem_in_one_run_with_a_count() {
    // An unknown key, an unknown value and a wrong type used to hide everything after them.
    let path = temp_file(
        "many.toml",
        concat!(
            "[[provider]]\nid = \"a\"\nname = \"A\"\nnylas = \"imapx\"\nauth = \"password\"\n",
            "colour = \"red\"\ndomains = [\"a.example\", \"a.example\"]\n",
            "[[provider.incoming]]\nprotocol = \"imap\"\nhost = \"imap.a.example\"\nport = 0\n",
            "security = \"tls\"\n",
            "[[provider.outgoing]]\nprotocol = \"smtp\"\nhost = \"smtp.a.example\"\nport = 70000\n",
            "security = \"ssl\"\n",
        ),
    );
    let output = discover(&["--check-catalogue", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let expected = [
        "many.toml:1:1: provider \"a\" has no valid incoming server",
        "many.toml:4:9: nylas: unknown variant `imapx`",
        "many.toml:6:1: unknown field `colour`",
        "many.toml:7:25: duplicate domain \"a.example\"",
        "many.toml:11:8: port 0",
        "many.toml:16:8: port: invalid value: integer `70000`",
        "many.toml:17:12: security: unknown variant `ssl`",
    ];
    assert_eq!(lines.len(), expected.len() + 1, "{stderr}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(line.contains(expected), "{line:?} should contain {expected:?}\n{stderr}");
    }
    assert!(lines[expected.len()].starts_with("discover: 7 problems in "), "{stderr}");

    // TOML syntax errors: the parser recovers, so each is reported.
    let path = temp_file("syntax.toml", "x = \n[[provider]\nname = \"a\"\ny = [1,\n");
    let output = discover(&["--check-catalogue", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in
        ["syntax.toml:1:5: ", "syntax.toml:2:12: ", "syntax.toml:4:8: ", "discover: 3 problems"]
    {
        assert!(stderr.contains(expected), "{expected:?} missing:\n{stderr}");
    }
}

#[test]
fn payloads_show_placeholders_instead_of_secrets() {
    let output = discover(&["alice@gmail.com", "--offline", "--payload", "v2", "--name", "Alice"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let body = json(&output);
    assert_eq!(body["provider"], "gmail");
    assert_eq!(body["name"], "Alice");
    assert_eq!(body["scopes"], "email.modify,email.send");
    assert_eq!(body["settings"]["google_refresh_token"], "<REFRESH_TOKEN>");

    let body = json(&discover(&["tim@icloud.com", "--offline", "--payload", "v3"]));
    assert_eq!(
        body,
        serde_json::json!({"provider": "icloud", "settings": {"username": "tim@icloud.com", "password": "<PASSWORD>"}})
    );

    let body = json(&discover(&[
        "x@comcast.net",
        "--offline",
        "--payload",
        "v2",
        "--scopes",
        "email.read_only",
    ]));
    assert_eq!(body["provider"], "imap");
    assert_eq!(body["scopes"], "email.read_only");
    assert_eq!(body["settings"]["imap_host"], "imap.comcast.net");
    assert_eq!(body["settings"]["imap_password"], "<PASSWORD>");
    assert_eq!(body["settings"]["ssl_required"], true);
}

#[test]
fn payload_errors_exit_2_with_the_valid_scopes() {
    let output = discover(&["alice@gmail.com", "--offline", "--payload", "v2", "--scopes", "mail"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown scope \"mail\"") && stderr.contains("email.read_only"),
        "{stderr}"
    );
    let output = discover(&["bob@notaol.com", "--offline", "--payload", "v2"]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn batch_writes_json_lines_in_input_order_with_line_numbers_and_a_summary() {
    let mut input = String::from("# addresses\n\n");
    let addresses =
        ["alice@gmail.com", "not an address", "bob@yahoo.co.uk", "x@notaol.com", "tim@icloud.com"];
    for address in addresses {
        input.push_str(address);
        input.push('\n');
    }
    let path = temp_file("batch.txt", &input);
    let output = discover(&["--batch", path.to_str().unwrap(), "--offline", "--concurrency", "3"]);
    assert_eq!(output.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    let numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![3, 4, 5, 6, 7], "input order, blank lines and comments skipped");
    assert_eq!(lines[0]["provider"]["nylas"], "gmail");
    assert_eq!(lines[1]["error"]["kind"], "invalid-email");
    assert_eq!(lines[1]["email"], "not an address");
    assert_eq!(lines[3]["error"]["kind"], "not-found");
    assert_eq!(lines[4]["provider"]["nylas"], "icloud");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("summary: 5 addresses, 3 detected"), "{stderr}");
    assert!(
        stderr.contains("catalogue 3")
            && stderr.contains("invalid-email 1")
            && stderr.contains("not-found 1"),
        "{stderr}"
    );
}

#[test]
fn the_human_trace_is_a_waterfall_that_says_why_the_winner_won() {
    let output = discover(&["alice@gmail.com", "--offline"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("bars to scale"), "{text}");
    assert!(
        text.lines().any(|l| l.contains("|") && l.contains("#") && l.contains("catalogue")),
        "{text}"
    );
    assert!(text.contains("winner: catalogue (verified)"), "{text}");
}

#[test]
fn logs_to_a_pipe_have_no_colour_and_payload_refuses_json() {
    let output = discover(&["alice@gmail.com", "--offline", "-vv"]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.is_empty(), "-vv logs something");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escapes on a pipe: {stderr:?}");

    // --payload prints the request body; --json would be silently ignored, so it is refused.
    let output = discover(&["alice@comcast.net", "--offline", "--payload", "v2", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn every_error_names_the_program_and_help_states_defaults_once() {
    let output = discover(&["--check-catalogue", "/nonexistent/providers.toml"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("discover: "), "{stderr}");

    let help = String::from_utf8_lossy(&discover(&["--help"]).stdout).into_owned();
    // The exit statuses, as the README lists them, batch included.
    assert!(help.contains("with --batch, 0 when the run completed"), "{help}");
    for flag in ["--https-port", "--http-port"] {
        let start = help.find(&format!("{flag} <PORT>")).unwrap();
        // The entry runs to the next line that starts an option.
        let entry: Vec<&str> = help[start..]
            .lines()
            .enumerate()
            .take_while(|(i, line)| *i == 0 || !line.trim_start().starts_with('-'))
            .map(|(_, line)| line)
            .collect();
        let entry = entry.join("\n");
        assert_eq!(entry.matches("default").count(), 1, "{flag}: {entry}");
    }
}

#[test]
fn the_json_contract_lists_every_field() {
    let batch = temp_file("contract.txt", "bob@gmail.com\nnot an address\nann@gmial.com\n");
    let mut reports = vec![
        json(&discover(&["alice@gmail.com", "--offline", "--json"])),
        json(&discover(&["not an address", "--offline", "--json"])),
    ];
    let output = discover(&["--batch", batch.to_str().unwrap(), "--offline"]);
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        reports.push(serde_json::from_str(line).unwrap());
    }
    assert_eq!(reports.len(), 5, "two reports and three batch lines");

    for report in &reports {
        contract::assert_documented(report);
    }
}

#[test]
fn the_steps_before_login_are_in_both_outputs() {
    let gmx = discover(&["ann@gmx.de", "--offline", "--json"]);
    let report = json(&gmx);
    assert_eq!(report["requires"][0]["step"], "enable-imap", "{report}");
    assert!(report["requires"][0]["url"].as_str().is_some_and(|u| u.starts_with("https://")));
    let gmail = json(&discover(&["ann@gmail.com", "--offline", "--json"]));
    assert_eq!(gmail["requires"], serde_json::json!([]), "always present");
    let qq = json(&discover(&["ann@qq.com", "--offline", "--json"]));
    let steps: Vec<&str> =
        qq["requires"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["enable-imap", "app-password"], "an app-password provider implies the step");
    let human = discover(&["ann@gmx.de", "--offline"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("  first       enable-imap: switch IMAP access on"), "{text}");
}
