//! The HTTP edge: what the public is told, which origins and hosts are this server's, the
//! cookies' prefix, and the sandbox's guard against production settings.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::net::Ipv4Addr;

use common::{csrf_field, set_cookies, start};
use nativeauth::{AddressPolicy, DiscoveryConfig};
use nativeauth_server::Api;
use nativeauth_testkit::{DnsServer, Zone};
use serde_json::{Value, json};

#[tokio::test]
async fn the_public_never_sees_addresses_resolver_errors_or_trace_lines() {
    // Names that resolve to loopback, private and metadata addresses; the guard refuses them
    // and discovery finds nothing. What the public hears is one plain sentence.
    let zone = Zone::new()
        .mx("corp-internal.test", 10, "mail.corp-internal.test")
        .a("mail.corp-internal.test", Ipv4Addr::new(127, 0, 0, 1))
        .a("autoconfig.corp-internal.test", Ipv4Addr::new(10, 20, 30, 40))
        .a("autodiscover.corp-internal.test", Ipv4Addr::new(169, 254, 169, 254))
        .a("imap.corp-internal.test", Ipv4Addr::new(192, 168, 1, 9))
        .a("smtp.corp-internal.test", Ipv4Addr::new(172, 16, 0, 5))
        .mx("nomail.test", 0, ".");
    let dns = DnsServer::start(zone);
    let discovery = DiscoveryConfig::builder()
        .nameservers([dns.addr()])
        .address_policy(AddressPolicy::strict())
        .deadline(std::time::Duration::from_secs(3))
        .build();
    let harness = start(Api::V2, Some(discovery), |_| {}).await;
    let internal = [
        "127.0.0",
        "10.20.30",
        "169.254",
        "192.168",
        "172.16",
        "DNS",
        "resolve",
        "RFC",
        "refused",
        "private",
        "loopback",
        "catalogue",
        "autoconfig",
        "corp-internal",
        "trace",
    ];
    for (email, sentence) in [
        ("a@corp-internal.test", "did not answer"),
        ("a@nomail.test", "does not accept email"),
        ("a@no-such-domain.test", "does not exist"),
    ] {
        let (status, body) = harness.detect(email).await;
        assert_eq!(status, 200);
        let text = body.to_string();
        assert!(body["reason"].as_str().unwrap().contains(sentence), "{email}: {body}");
        assert_eq!(body["notes"], json!([]), "{email}: {text}");
        for word in internal {
            let shown = body["reason"].as_str().unwrap().to_ascii_lowercase();
            assert!(!shown.contains(&word.to_ascii_lowercase()), "{email}: {word} in {text}");
        }
        for word in ["127.0.0", "10.20.30", "169.254", "192.168", "172.16", "DNS", "resolves"] {
            assert!(!text.contains(word), "{email}: {word} anywhere in {text}");
        }
        // The form shows the same sentence, and nothing more.
        let session = harness.open("").await;
        let page = harness
            .post_form(
                "/login",
                &session.cookies,
                &[("csrf", session.csrf.as_str()), ("email", email)],
            )
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(sentence), "{email}: {page}");
        for word in ["127.0.0", "10.20.30", "169.254", "DNS", "resolves"] {
            assert!(!page.contains(word), "{email}: {word} on the page");
        }
    }
    // In German too.
    let german = harness
        .http
        .post(format!("{}/api/detect", harness.base))
        .header("Accept-Language", "de")
        .json(&json!({ "email": "a@nomail.test" }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(german["reason"].as_str().unwrap().contains("nimmt keine E-Mails an"), "{german}");
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_a_text_browser_is_not() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("").await;
    let post = |origin: Option<&'static str>, fetch_site: Option<&'static str>| {
        let mut request = harness
            .http
            .post(format!("{}/login", harness.base))
            .header("Cookie", &session.cookies)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(common::form_body(&[("csrf", &session.csrf), ("email", "ann@yahoo.com")]));
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("Sec-Fetch-Site", site);
        }
        request.send()
    };
    assert_eq!(post(Some("https://evil.example"), None).await.unwrap().status(), 403);
    assert_eq!(post(None, Some("cross-site")).await.unwrap().status(), 403);
    assert_eq!(post(None, None).await.unwrap().status(), 200, "no browser headers: a text browser");
    assert_eq!(post(None, Some("same-origin")).await.unwrap().status(), 200);
    // `Origin: null` (a form post under no-referrer) defers to Sec-Fetch-Site.
    assert_eq!(post(Some("null"), Some("same-origin")).await.unwrap().status(), 200);
    assert_eq!(post(Some("null"), Some("cross-site")).await.unwrap().status(), 403);
}

#[tokio::test]
async fn with_public_url_a_rebinding_host_is_neither_served_nor_same_origin() {
    let harness = common::start_knowing_base(Api::V2, |file, base| {
        file.public_url = Some(base.to_owned());
    })
    .await;
    let port = harness.base.rsplit(':').next().unwrap().to_owned();
    let rebound = format!("attacker.test:{port}");
    // A DNS-rebinding page: its own name now points here; Host and Origin are its own.
    let detect = harness
        .http
        .post(format!("{}/api/detect", harness.base))
        .header("Host", &rebound)
        .header("Origin", format!("http://{rebound}"))
        .json(&json!({ "email": "ann@yahoo.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(detect.status(), 421);
    let page = harness
        .http
        .get(format!("{}/", harness.base))
        .header("Host", &rebound)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
    for exempt in ["/healthz", "/metrics"] {
        let response = harness
            .http
            .get(format!("{}{exempt}", harness.base))
            .header("Host", "internal-name:9000")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{exempt}");
    }
    // The page's own origin is still this server's.
    let (status, _) = harness.detect("ann@yahoo.com").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn over_https_the_cookies_carry_the_host_prefix() {
    let harness = common::start_knowing_base(Api::V2, |file, base| {
        file.https = true;
        file.public_url = Some(base.to_owned());
    })
    .await;
    let response = harness.http.get(format!("{}/?state=s", harness.base)).send().await.unwrap();
    let cookies = set_cookies(&response);
    assert!(
        cookies.iter().all(|c| c.starts_with("__Host-") && c.contains("; Secure")),
        "{cookies:?}"
    );
    assert!(cookies.iter().all(|c| c.contains("Path=/") && !c.contains("Domain")), "{cookies:?}");
    // An unprefixed cookie, as a sibling subdomain could plant, is not read.
    let csrf = csrf_field(&response.text().await.unwrap());
    let planted = cookies_of_named(&cookies).replace("__Host-", "");
    let refused = harness
        .http
        .post(format!("{}/api/login", harness.base))
        .header("Origin", &harness.base)
        .header("Cookie", planted)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({ "email": "ann@yahoo.com", "password": "pw" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

fn cookies_of_named(set_cookies: &[String]) -> String {
    set_cookies.iter().filter_map(|c| c.split(';').next()).collect::<Vec<_>>().join("; ")
}

/// A production configuration of `settings` (offline discovery, v2, the test app secret).
fn offline_config(settings: nativeauth_server::Settings) -> nativeauth_server::ServerConfig {
    let secrets = nativeauth_server::Secrets::builder()
        .client_secret("s")
        .app_secret(common::APP_SECRET)
        .build();
    nativeauth_server::ServerConfig::builder()
        .settings(settings)
        .client_id("client")
        .secrets(secrets)
        .discovery(DiscoveryConfig::builder().offline(true).build())
        .build()
}

#[tokio::test]
async fn https_without_public_url_does_not_start() {
    let file = nativeauth_server::Settings {
        https: true,
        success_url: Some("https://app.example/welcome".into()),
        ..nativeauth_server::Settings::default()
    };
    let config = offline_config(file);
    let error = nativeauth_server::router(config).unwrap_err().to_string();
    assert!(error.contains("public_url"), "{error}");
}

/// Runs `nativeauth-server --sandbox` with `args` and `env`; what it printed when it stopped.
fn sandbox_refuses(args: &[&str], env: &[(&str, &str)], config: Option<&str>) -> String {
    // Under `timeout`: a sandbox that started after all fails the test instead of hanging it.
    let mut command = std::process::Command::new("timeout");
    command.arg("20").arg(env!("CARGO_BIN_EXE_nativeauth-server"));
    command.args(["--sandbox", "--offline"]).args(args);
    for name in [
        "NATIVEAUTH_REDIS_URL",
        "NATIVEAUTH_CALLBACK_SECRET",
        "NATIVEAUTH_APP_SECRET",
        "NYLAS_CLIENT_SECRET",
        "NYLAS_API_KEY",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let path = std::env::temp_dir().join(format!(
        "sandbox-{}-{}.toml",
        std::process::id(),
        args.len() + env.len()
    ));
    if let Some(config) = config {
        std::fs::write(&path, config).unwrap();
        command.arg("--config").arg(&path);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success(), "the sandbox started with {args:?} {env:?} {config:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The binary names a secret from the environment by its variable, and tells a variable set
/// to nothing from one not set at all.
#[test]
fn a_missing_secret_is_named_by_its_variable() {
    let path = std::env::temp_dir().join(format!("secrets-{}.toml", std::process::id()));
    std::fs::write(&path, "client_id = \"c\"\nsuccess_url = \"https://app.example/done\"\n")
        .unwrap();
    let run = |app_secret: Option<&str>| {
        // Under `timeout`: a server that started after all fails the test instead of hanging it.
        let mut command = std::process::Command::new("timeout");
        command.arg("20").arg(env!("CARGO_BIN_EXE_nativeauth-server"));
        command.args(["--offline", "--listen", "127.0.0.1:0", "--config"]).arg(&path);
        for name in ["NATIVEAUTH_APP_SECRET", "NATIVEAUTH_KEY", "NATIVEAUTH_COOKIE_KEY"] {
            command.env_remove(name);
        }
        command.env("NYLAS_CLIENT_SECRET", "s");
        if let Some(value) = app_secret {
            command.env("NATIVEAUTH_APP_SECRET", value);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let empty = run(Some(""));
    assert!(empty.contains("NATIVEAUTH_APP_SECRET is set but empty"), "{empty}");
    let unset = run(None);
    assert!(unset.contains("NATIVEAUTH_APP_SECRET is not set"), "{unset}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn the_sandbox_refuses_every_production_setting_naming_it() {
    let stderr = sandbox_refuses(&["--listen", "0.0.0.0:0"], &[], None);
    assert!(stderr.contains("--listen 0.0.0.0:0 is not a loopback address"), "{stderr}");
    let stderr = sandbox_refuses(
        &["--listen", "127.0.0.1:0"],
        &[],
        Some("https = true\npublic_url = \"https://l.example\"\n"),
    );
    assert!(stderr.contains("https = true"), "{stderr}");
    let stderr = sandbox_refuses(
        &["--listen", "127.0.0.1:0"],
        &[],
        Some("redis_url = \"redis://127.0.0.1:9/\"\n"),
    );
    assert!(stderr.contains("redis_url"), "{stderr}");
    for name in [
        "NATIVEAUTH_REDIS_URL",
        "NATIVEAUTH_CALLBACK_SECRET",
        "NATIVEAUTH_APP_SECRET",
        "NYLAS_CLIENT_SECRET",
        "NYLAS_API_KEY",
    ] {
        let stderr = sandbox_refuses(&["--listen", "127.0.0.1:0"], &[(name, "x")], None);
        assert!(stderr.contains(&format!("unset {name}")), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn sandbox_pages_say_so() {
    let harness = common::start_sandboxed().await;
    let page = harness.http.get(format!("{}/", harness.base)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Sandbox: for development only"), "{html}");
    let production = start(Api::V2, None, |_| {}).await;
    let html = production.get_text("/").await;
    assert!(!html.contains("Sandbox"));
}

#[tokio::test]
async fn a_metrics_token_guards_metrics() {
    let harness = common::start_with_metrics_token("metrics-token-1").await;
    let get = |token: Option<&'static str>| {
        let mut request = harness.http.get(format!("{}/metrics", harness.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("metrics-token-2")).await.unwrap().status(), 401);
    let ok = get(Some("metrics-token-1")).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("nativeauth_logins_total"));
}

#[tokio::test]
async fn with_metrics_listen_metrics_are_served_there_only() {
    let file = nativeauth_server::Settings {
        success_url: Some("https://app.example/welcome".into()),
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..nativeauth_server::Settings::default()
    };
    let config = offline_config(file);
    let router = nativeauth_server::router(config).unwrap();
    let page = common::serve(router.clone()).await;
    let metrics = common::serve(nativeauth_server::metrics_only(router)).await;
    let _ = nativeauth::crypto_provider().install_default();
    let http = reqwest::Client::new();
    let status = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(format!("http://{page}/metrics")).await, 404);
    assert_eq!(status(format!("http://{page}/healthz")).await, 200);
    assert_eq!(status(format!("http://{metrics}/metrics")).await, 200);
    assert_eq!(status(format!("http://{metrics}/")).await, 404);
    assert_eq!(status(format!("http://{metrics}/healthz")).await, 404);
}
