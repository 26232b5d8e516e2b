//! `discover` on the network path, against local servers only: a DNS server on loopback
//! (`--nameserver`), mockito behind a TLS front with a test CA (`--ca-file`, `--https-port`).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::Ipv4Addr;
use std::process::{Command, Output};

use mockito::{Matcher, Server};
use nativeauth_testkit::{DnsServer, TestCa, TlsFront, Zone};
use serde_json::Value;

mod contract;

fn discover(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_discover")).args(args).output().expect("the binary runs")
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

const AUTOCONFIG: &str = r#"<clientConfig version="1.1"><emailProvider id="shop.test"><domain>shop.test</domain>
<incomingServer type="imap"><hostname>imap.shop.test</hostname><port>993</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.shop.test</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>"#;

#[test]
fn a_workspace_domain_is_gmail_via_mx() {
    let dns = DnsServer::start(Zone::new().mx("corp.test", 1, "aspmx.l.google.com"));
    let ns = dns.addr().to_string();
    let output = discover(&["ceo@corp.test", "--json", "--nameserver", &ns, "--no-ispdb"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let report = json(&output);
    assert_eq!(report["provider"]["nylas"], "gmail");
    assert_eq!(report["source"], "mx");
    // Google's own servers: a forged MX can only lead to the real Google.
    assert_eq!(report["trust"], "verified");
    assert_eq!(report["auth"], "oauth2");
}

#[test]
fn https_autoconfig_is_found_and_private_targets_are_refused_unless_allowed() {
    let mut http = Server::new();
    // mockito prefers the last matching mock once expectations are met: the catch-all first.
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create();
    http.mock("GET", "/mail/config-v1.1.xml")
        .match_query(Matcher::UrlEncoded("emailaddress".into(), "max@shop.test".into()))
        .with_body(AUTOCONFIG)
        .create();
    let ca = TestCa::new(&["autoconfig.shop.test"]);
    let front = TlsFront::start(&ca, http.socket_address());
    let dns = DnsServer::start(
        Zone::new().a("autoconfig.shop.test", Ipv4Addr::LOCALHOST).empty("shop.test"),
    );
    let dir = std::env::temp_dir().join(format!("nativeauth-cli-net-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.root_pem()).unwrap();
    let ns = dns.addr().to_string();
    let port = front.addr().port().to_string();
    let common = [
        "max@shop.test",
        "--json",
        "--nameserver",
        &ns,
        "--no-ispdb",
        "--https-port",
        &port,
        "--ca-file",
        ca_file.to_str().unwrap(),
    ];

    // The guard is on: autoconfig.shop.test resolves to 127.0.0.1 and is refused.
    let output = discover(&common);
    assert_eq!(output.status.code(), Some(3), "{}", String::from_utf8_lossy(&output.stdout));
    let report = json(&output);
    assert_eq!(report["detected"], false);
    assert_eq!(report["error"]["kind"], "network");
    assert!(report["error"]["message"].as_str().unwrap().contains("refused"), "{report:#}");
    assert_eq!(front.connections(), 0, "refused before any connection");

    // Proxy variables must not bypass the address guard (nor carry the fetch).
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    proxy.set_nonblocking(true).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_discover"))
        .args(common)
        .args(["--allow-target-range", "127.0.0.1/32"])
        .env("HTTPS_PROXY", &proxy_url)
        .env("HTTP_PROXY", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    assert!(proxy.accept().is_err(), "the proxy saw no connection");

    // Allowing exactly 127.0.0.1 (or lifting the guard) lets it through.
    for allow in [&["--allow-target-range", "127.0.0.1/32"][..], &["--allow-private-targets"][..]] {
        let args: Vec<&str> = common.iter().copied().chain(allow.iter().copied()).collect();
        let output = discover(&args);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
        let report = json(&output);
        assert_eq!(report["source"], "autoconfig");
        assert_eq!(report["trust"], "verified");
        assert_eq!(report["incoming"][0]["host"], "imap.shop.test");
        assert_eq!(report["outgoing"][0]["port"], 465);
        assert!(
            report["trace"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["source"] == "autoconfig" && s["outcome"] == "found")
        );
    }
}

#[test]
fn the_human_trace_shows_every_step() {
    let dns =
        DnsServer::start(Zone::new().mx("m365.test", 0, "m365-test.mail.protection.outlook.com"));
    let ns = dns.addr().to_string();
    let output = discover(&["it@m365.test", "--nameserver", &ns, "--no-ispdb"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for expected in
        ["Microsoft 365", "office365", "found by    mx", "verified", "MX m365.test", "cannot beat"]
    {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn a_dns_server_that_never_answers_ends_by_the_deadline_with_exit_3() {
    let dns = DnsServer::start(Zone::new().silent("slow.test"));
    let ns = dns.addr().to_string();
    let started = std::time::Instant::now();
    let output =
        discover(&["x@slow.test", "--json", "--nameserver", &ns, "--no-ispdb", "--timeout", "1"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(json(&output)["error"]["kind"], "timeout");
}

#[test]
fn parse_autoconfig_prints_what_a_file_yields() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/data/fixtures/deltachat/mozilla-autoconfig-lakenet.ch.xml"
    );
    let output = discover(&["--parse-autoconfig", file, "--email", "example@lakenet.ch"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let doc = json(&output);
    assert_eq!(doc["incoming"].as_array().unwrap().len(), 4);
    assert_eq!(doc["incoming"][0]["host"], "mail.lakenet.ch");
    assert_eq!(doc["incoming"][0]["username"], "example@lakenet.ch");
    assert_eq!(doc["outgoing"][0]["security"], "starttls");
    assert_eq!(doc["imap_and_smtp"], true);

    let exchange = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/data/fixtures/thunderbird/exchange.test.xml"
    );
    let output = discover(&["--parse-autoconfig", exchange]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not <clientConfig>"));
}

#[test]
fn on_premises_exchange_behind_the_autodiscover_subdomain() {
    let mut http = Server::new();
    http.mock("POST", Matcher::Any).with_status(404).expect_at_least(0).create();
    http.mock("GET", Matcher::Any).with_status(404).expect_at_least(0).create();
    let settings = r#"<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"><Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account><Action>settings</Action><Protocol><Type>EXPR</Type><EwsUrl>https://mail.onprem.test/EWS/Exchange.asmx</EwsUrl></Protocol></Account></Response></Autodiscover>"#;
    let autodiscover = http
        .mock("POST", "/autodiscover/autodiscover.xml")
        .match_header("host", Matcher::Regex("^autodiscover\\.onprem\\.test".into()))
        .match_header("authorization", Matcher::Missing)
        .with_body(settings)
        .create();
    let ca = TestCa::new(&["onprem.test", "autodiscover.onprem.test"]);
    let front = TlsFront::start(&ca, http.socket_address());
    let dns = DnsServer::start(
        Zone::new()
            .a("onprem.test", Ipv4Addr::LOCALHOST)
            .a("autodiscover.onprem.test", Ipv4Addr::LOCALHOST),
    );
    let dir = std::env::temp_dir().join(format!("nativeauth-cli-ex-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.root_pem()).unwrap();
    let (ns, port, http_port) = (
        dns.addr().to_string(),
        front.addr().port().to_string(),
        http.socket_address().port().to_string(),
    );
    let args = [
        "boss@onprem.test",
        "--nameserver",
        &ns,
        "--no-ispdb",
        "--https-port",
        &port,
        "--http-port",
        &http_port,
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--allow-target-range",
        "127.0.0.1/32",
    ];
    let output = discover(&[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let report = json(&output);
    assert_eq!(report["provider"]["nylas"], "exchange");
    assert_eq!(report["source"], "autodiscover");
    assert_eq!(report["exchange"]["ews_url"], "https://mail.onprem.test/EWS/Exchange.asmx");
    assert_eq!(report["exchange"]["eas_host"], "mail.onprem.test");
    contract::assert_documented(&report);
    let steps: Vec<&str> = report["trace"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["source"] == "autodiscover")
        .map(|s| s["target"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    autodiscover.assert();
    let v2 = json(&discover(&[&args[..], &["--payload", "v2", "--name", "Boss"]].concat()));
    assert_eq!(v2["provider"], "exchange");
    assert_eq!(
        v2["settings"],
        serde_json::json!({"username": "boss@onprem.test", "password": "<PASSWORD>", "exchange_server_host": "mail.onprem.test"})
    );
    let v3 = json(&discover(&[&args[..], &["--payload", "v3"]].concat()));
    assert_eq!(
        v3,
        serde_json::json!({"provider": "ews", "settings": {"username": "boss@onprem.test", "password": "<PASSWORD>", "exchange_server_host": "mail.onprem.test"}})
    );
    let human = discover(&args);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("exchange    EWS https://mail.onprem.test/EWS/Exchange.asmx"), "{text}");
}

#[test]
fn parse_autodiscover_prints_what_a_response_says() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testkit/data/fixtures/exchangelib/");
    let output =
        discover(&["--parse-autodiscover", &format!("{dir}pox-08-settings-exch-and-expr.xml")]);
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    assert_eq!(doc["action"], "settings");
    assert_eq!(doc["exchange"]["ews_url"], "https://expr.example.com/EWS/Exchange.asmx");
    let doc = json(&discover(&["--parse-autodiscover", &format!("{dir}pox-07-redirect-url.xml")]));
    assert_eq!(doc["redirect_url"], "https://example.com/foo.asmx");
    let output =
        discover(&["--parse-autodiscover", &format!("{dir}soap-04-error-invalid-setting.xml")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SOAP"));
}

#[test]
fn an_unverified_detection_needs_accept_unverified_for_a_payload() {
    let dns = DnsServer::start(
        Zone::new().srv("_imaps._tcp.srvonly.test", 0, 1, 993, "imap.srvonly.test").srv(
            "_submission._tcp.srvonly.test",
            0,
            1,
            587,
            "smtp.srvonly.test",
        ),
    );
    let ns = dns.addr().to_string();
    let base = ["sam@srvonly.test", "--nameserver", &ns, "--no-ispdb", "--payload", "v2"];
    let refused = discover(&base);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("unverified") && stderr.contains("srv"), "{stderr}");
    assert!(refused.stdout.is_empty(), "no payload is printed");

    let accepted = discover(&[&base[..], &["--accept-unverified"]].concat());
    assert_eq!(accepted.status.code(), Some(0), "{}", String::from_utf8_lossy(&accepted.stderr));
    let body = json(&accepted);
    assert_eq!(body["settings"]["imap_host"], "imap.srvonly.test");
    assert_eq!(body["settings"]["ssl_required"], true);
}

#[test]
fn a_mistyped_domain_says_so_and_suggests_the_fix() {
    let dns = DnsServer::start(Zone::new());
    let ns = dns.addr().to_string();
    let human = discover(&["ann@gmial.com", "--nameserver", &ns]);
    assert_eq!(human.status.code(), Some(1), "{}", String::from_utf8_lossy(&human.stdout));
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("gmial.com does not exist"), "{text}");
    assert!(text.contains("did you mean ann@gmail.com?"), "{text}");
    let report = json(&discover(&["ann@gmial.com", "--json", "--nameserver", &ns]));
    assert_eq!(report["error"]["kind"], "no-such-domain");
    assert_eq!(report["suggestion"], "ann@gmail.com");
}

/// `discover --check-login` with `password` on standard input, against a user catalogue that
/// puts `login.test` on two loopback servers; returns the exit status and the JSON.
fn check_login(password: &str, imap_refusal: &str) -> (Option<i32>, Value, String) {
    use nativeauth_testkit::{MailAccount, MailMode, MailProtocol, MailServer};
    use std::io::Write;
    let hosts = ["imap.login.test", "smtp.login.test"];
    let ca = TestCa::new(&hosts);
    let dns = DnsServer::start(hosts.iter().fold(Zone::new(), |z, h| z.a(h, Ipv4Addr::LOCALHOST)));
    let account = |refusal: &str| {
        Some(MailAccount {
            username: "ann@login.test".into(),
            password: "right-pw".into(),
            refusal: refusal.into(),
        })
    };
    let imap = MailServer::start_with_account(
        MailProtocol::Imap,
        MailMode::ImplicitTls(&ca),
        account(imap_refusal),
    );
    let smtp = MailServer::start_with_account(
        MailProtocol::Smtp,
        MailMode::ImplicitTls(&ca),
        account("535 5.7.8 no"),
    );
    let dir = std::env::temp_dir().join(format!("nativeauth-login-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalogue = dir.join(format!("login-{}.toml", imap.addr().port()));
    std::fs::write(
        &catalogue,
        format!(
            r#"[[provider]]
id = "login"
name = "Login Mail"
nylas = "imap"
auth = "app-password"
app_password_url = "https://login.test/app-passwords"
domains = ["login.test"]
[[provider.incoming]]
protocol = "imap"
host = "imap.login.test"
port = {}
security = "tls"
[[provider.outgoing]]
protocol = "smtp"
host = "smtp.login.test"
port = {}
security = "tls"
"#,
            imap.addr().port(),
            smtp.addr().port()
        ),
    )
    .unwrap();
    let ca_file = dir.join(format!("ca-{}.pem", imap.addr().port()));
    std::fs::write(&ca_file, ca.root_pem()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_discover"))
        .args(["ann@login.test", "--check-login", "--json", "--catalogue"])
        .arg(&catalogue)
        .arg("--ca-file")
        .arg(&ca_file)
        .args(["--nameserver", &dns.addr().to_string(), "--allow-target-range", "127.0.0.1/32"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), json(&output), stderr)
}

#[test]
fn check_login_signs_in_and_reports_refusals_in_words_and_json() {
    let (code, report, stderr) =
        check_login("right-pw", "NO [AUTHENTICATIONFAILED] Invalid credentials");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["login"]["ok"], true);
    assert_eq!(report["login"]["kind"], "ok");

    let gmail = "NO [ALERT] Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)";
    let (code, report, stderr) = check_login("account-pw", gmail);
    assert_eq!(code, Some(4), "a refusal: {stderr}");
    contract::assert_documented(&report);
    let login = &report["login"];
    assert_eq!(
        (login["ok"].as_bool(), login["kind"].as_str()),
        (Some(false), Some("app-password-required"))
    );
    assert_eq!(login["protocol"], "imap");
    assert_eq!(login["help_url"], "https://login.test/app-passwords");
    assert!(!report.to_string().contains("account-pw"), "no secret in the output");
    assert!(!stderr.contains("account-pw"));
}

#[test]
fn a_catalogue_answer_online_traces_each_provider_once() {
    // Nothing answers on this port; the catalogue's answer means nothing asks it.
    let output = discover(&["alice@gmail.com", "--nameserver", "127.0.0.1:9", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let report = json(&output);
    let trace = report["trace"].as_array().unwrap();
    let catalogue: Vec<&Value> = trace.iter().filter(|s| s["source"] == "catalogue").collect();
    assert_eq!(catalogue.len(), 1, "the catalogue found it, and is not also skipped: {trace:?}");
    assert_eq!(catalogue[0]["outcome"], "found");
    let others: Vec<&Value> = trace.iter().filter(|s| s["source"] != "catalogue").collect();
    assert!(!others.is_empty(), "the network providers are listed as skipped: {trace:?}");
    assert!(others.iter().all(|s| s["outcome"] == "skipped"), "{trace:?}");
}

#[test]
fn a_batch_with_a_shared_cache_leaves_its_answers_to_the_next_one() {
    let redis = nativeauth_testkit::RedisServer::start();
    let dns = DnsServer::start(Zone::new().mx("shared.test", 10, "aspmx.l.google.com"));
    let ns = dns.addr().to_string();
    let dir = std::env::temp_dir().join(format!("nativeauth-cli-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("addresses.txt");
    std::fs::write(&input, "a@shared.test\nb@shared.test\n").unwrap();
    // A test fleet's namespace: --nameserver keeps a run out of the login servers' one.
    let run = || {
        discover_with_key(&[
            "--batch",
            input.to_str().unwrap(),
            "--nameserver",
            &ns,
            "--no-ispdb",
            "--cache",
            &redis.url(),
            "--cache-namespace",
            "cli-test",
        ])
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    assert_eq!(dns.count("shared.test", hickory_proto::rr::RecordType::MX), 1);
    let second = run();
    assert_eq!(second.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8_lossy(&second.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.iter().all(|l| l["provider"]["nylas"] == "gmail"), "{lines:?}");
    assert_eq!(
        dns.count("shared.test", hickory_proto::rr::RecordType::MX),
        1,
        "the second batch asked no DNS"
    );

    // A single discovery uses it too.
    let single = discover_with_key(&[
        "c@shared.test",
        "--nameserver",
        &ns,
        "--cache",
        &redis.url(),
        "--cache-namespace",
        "cli-test",
        "--json",
    ]);
    assert_eq!(json(&single)["source"], "mx");
    assert_eq!(dns.count("shared.test", hickory_proto::rr::RecordType::MX), 1);

    // In the login servers' namespace, a run with --nameserver reads but does not publish,
    // and says why.
    let production = discover_with_key(&[
        "d@shared.test",
        "--nameserver",
        &ns,
        "--cache",
        &redis.url(),
        "--json",
    ]);
    assert_eq!(json(&production)["source"], "mx");
    let stderr = String::from_utf8_lossy(&production.stderr);
    assert!(stderr.contains("without publishing") && stderr.contains("--nameserver"), "{stderr}");
    let keys = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "--scan", "--pattern", "nativeauth:*"])
        .output()
        .expect("redis-cli runs");
    assert!(keys.stdout.is_empty(), "{}", String::from_utf8_lossy(&keys.stdout));

    // A URL that is not Redis's is refused with the program's prefix.
    let refused = discover_with_key(&["c@shared.test", "--cache", "http://127.0.0.1/"]);
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).starts_with("discover: --cache"));
    // Without the fleet's key, nothing is shared: refused, saying why.
    let keyless = discover(&["c@shared.test", "--cache", &redis.url()]);
    assert_eq!(keyless.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&keyless.stderr).contains("NATIVEAUTH_KEY"));
    // A root key too short to be a key is refused too.
    let short = Command::new(env!("CARGO_BIN_EXE_discover"))
        .args(["c@shared.test", "--cache", &redis.url()])
        .env("NATIVEAUTH_KEY", "short")
        .output()
        .expect("the binary runs");
    assert_eq!(short.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("at least 32"),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
}

fn discover_with_key(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_discover"))
        .args(args)
        .env("NATIVEAUTH_COOKIE_KEY", "fleet-root-key-of-at-least-32-bytes")
        .output()
        .expect("the binary runs")
}
