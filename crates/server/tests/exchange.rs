//! The hand-over of a sign-in to the app: the browser brings back only a one-time code, the app
//! checks `state` against its own session and exchanges the code server-to-server. Also signed
//! start links, the callback as a mere notification, and the keys.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{APP_SECRET, Harness, Session, cookies_of, csrf_field, query_param, start};
use nativeauth::DiscoveryConfig;
use nativeauth_server::{
    Api, Secrets, SecretsBuilder, ServerConfig, ServerConfigBuilder, ServerSetupError,
};
use serde_json::{Value, json};

/// Signs in as `email` on `session` and returns the success redirect.
async fn sign_in(harness: &Harness, session: &Session, email: &str) -> String {
    let response = harness.login(session, json!({ "email": email, "password": "pw" })).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["redirect"].as_str().unwrap().to_owned()
}

/// Opens the page twice in one browser, as a page of another site can make the victim's
/// browser do: the last `state` wins.
async fn open_planted(harness: &Harness, first: &str, planted: &str) -> Session {
    let response =
        harness.http.get(format!("{}/?state={first}", harness.base)).send().await.unwrap();
    let first_cookies = cookies_of(&response);
    let response = harness
        .http
        .get(format!("{}/?state={planted}", harness.base))
        .header("Cookie", &first_cookies)
        .send()
        .await
        .unwrap();
    let planted_cookies = cookies_of(&response);
    let csrf = csrf_field(&response.text().await.unwrap());
    Session { cookies: planted_cookies, csrf }
}

#[tokio::test]
async fn a_planted_state_is_refused_by_the_apps_check() {
    let harness = start(Api::V2, None, |_| {}).await;
    // The victim's app session holds "victim-session"; an attacker's page made the browser open
    // the login page with the attacker's own state afterwards.
    let session = open_planted(&harness, "victim-session", "attacker-session").await;
    let redirect = sign_in(&harness, &session, "ann@yahoo.com").await;
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("attacker-session"));

    // The app, following the README, compares with its own session first and refuses.
    let refused = harness.app_receives("victim-session", &redirect).await.unwrap_err();
    assert!(refused.contains("is not this session's"), "{refused}");

    // An app that skipped the comparison but sends its own session's state is refused by the
    // server, and the code is spent: the attacker's session cannot use it afterwards either.
    let code = query_param(&redirect, "code").unwrap();
    let (status, body) = harness
        .exchange_with(Some(APP_SECRET), json!({ "code": code, "state": "victim-session" }))
        .await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("state-mismatch")));
    let (status, body) = harness
        .exchange_with(Some(APP_SECRET), json!({ "code": code, "state": "attacker-session" }))
        .await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("code-used")));

    // The same browser without a planted state goes through.
    let session = harness.open("?state=victim-session").await;
    let redirect = sign_in(&harness, &session, "ann@yahoo.com").await;
    let result = harness.app_receives("victim-session", &redirect).await.unwrap();
    assert_eq!(result["email_address"], "ann@yahoo.com");
}

#[tokio::test]
async fn every_refusal_has_its_status_and_kind_and_the_secret_is_checked_first() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("?state=s").await;
    let redirect = sign_in(&harness, &session, "ann@yahoo.com").await;
    let code = query_param(&redirect, "code").unwrap();
    let exchange = |secret: Option<&'static str>, body: Value| harness.exchange_with(secret, body);

    let (status, body) = exchange(None, json!({ "code": code })).await;
    assert_eq!((status, body["kind"].as_str()), (401, Some("app-secret-missing")));
    let (status, body) =
        exchange(Some("test-app-secret-0123456789abcdef-012"), json!({ "code": code })).await;
    assert_eq!((status, body["kind"].as_str()), (401, Some("app-secret-wrong")));
    // The secret is checked before the code: a wrong secret does not spend it, and an unknown
    // code with a wrong secret says nothing about the code.
    let (status, body) = exchange(Some("nope"), json!({ "code": "0".repeat(64) })).await;
    assert_eq!((status, body["kind"].as_str()), (401, Some("app-secret-wrong")));
    let (status, body) = exchange(Some(APP_SECRET), json!({ "code": "0".repeat(64) })).await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("code-unknown")));
    let (status, body) = exchange(Some(APP_SECRET), json!({ "cod": code })).await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("invalid-request")));

    // `state` is optional; given, it must match.
    let (status, body) = exchange(Some(APP_SECRET), json!({ "code": code })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "s");
    let (status, body) = exchange(Some(APP_SECRET), json!({ "code": code })).await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("code-used")));

    let metrics = harness.http.get(format!("{}/metrics", harness.base)).send().await.unwrap();
    let text = metrics.text().await.unwrap();
    for line in [
        "nativeauth_exchanges_total{outcome=\"ok\"} 1",
        "nativeauth_exchanges_total{outcome=\"code-used\"} 1",
        "nativeauth_exchanges_total{outcome=\"code-unknown\"} 1",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[tokio::test]
async fn two_exchanges_at_once_have_exactly_one_winner() {
    let harness = start(Api::V3, None, |_| {}).await;
    let session = harness.open("?state=race").await;
    let redirect = sign_in(&harness, &session, "ann@gmx.de").await;
    let code = query_param(&redirect, "code").unwrap();
    let body = json!({ "code": code, "state": "race" });
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, url, body) =
            (harness.http.clone(), format!("{}/api/exchange", harness.base), body.clone());
        attempts.spawn(async move {
            let response = http.post(url).bearer_auth(APP_SECRET).json(&body).send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        });
    }
    let answers = attempts.join_all().await;
    let winners: Vec<_> = answers.iter().filter(|(status, _)| *status == 200).collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(status, body)| *status == 200 || body["kind"] == "code-used"));
}

#[tokio::test]
async fn the_code_is_shared_across_a_fleet_and_redis_holds_no_token() {
    let redis = nativeauth_testkit::RedisServer::start();
    let url = redis.url();
    let a = start(Api::V2, None, |file| file.redis_url = Some(url.clone())).await;
    let b = start(Api::V2, None, |file| file.redis_url = Some(url.clone())).await;
    let session = a.open("?state=fleet").await;
    let redirect = sign_in(&a, &session, "ann@yahoo.com").await;
    let code = query_param(&redirect, "code").unwrap();

    // What Redis holds now: neither the code nor (once known) the token in the clear.
    let dump = redis_dump(redis.port());
    assert!(!dump.is_empty(), "the result went to Redis");
    assert!(!dump.contains(&code));

    let result = b.app_receives("fleet", &redirect).await.unwrap();
    let token = result["linked"]["access_token"].as_str().unwrap();
    assert!(!dump.contains(token), "the token is sealed in Redis");
    assert!(!dump.contains("ann@yahoo.com"));
    let (status, body) =
        a.exchange_with(Some(APP_SECRET), json!({ "code": code, "state": "fleet" })).await;
    assert_eq!((status, body["kind"].as_str()), (400, Some("code-used")), "single use fleet-wide");
}

/// Every key and value in the Redis on `port`, as text.
fn redis_dump(port: u16) -> String {
    let cli = |args: &[&str]| {
        let output = std::process::Command::new("redis-cli")
            .args(["-p", &port.to_string(), "--raw"])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let mut dump = String::new();
    for key in cli(&["--scan"]).lines() {
        dump.push_str(key);
        dump.push('\n');
        dump.push_str(&cli(&["GET", key]));
    }
    dump
}

#[tokio::test]
async fn a_failing_callback_is_tried_three_times_and_the_exchange_still_works() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let failing = axum::Router::new().route(
        "/callback",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down") }
        }),
    );
    let failing_url = format!("http://{}/callback", common::serve(failing).await);
    let harness = start(Api::V2, None, |file| file.callback_url = Some(failing_url)).await;
    let session = harness.open("?state=cb").await;
    let started = std::time::Instant::now();
    let redirect = sign_in(&harness, &session, "ann@yahoo.com").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "the user does not wait");
    harness.app_receives("cb", &redirect).await.unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let metric = "nativeauth_callback_failures_total 1";
    loop {
        let text = harness.get_text("/metrics").await;
        if text.contains(metric) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no {metric}: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn ports_may_be_json_numbers() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("").await;
    let response = harness
        .login(
            &session,
            json!({ "email": "ann@unknown-company.example", "password": "pw",
                    "imap_host": "imap.unknown-company.example", "imap_port": 993,
                    "smtp_host": "smtp.unknown-company.example", "smtp_port": 465 }),
        )
        .await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let out_of_range = harness
        .login(
            &session,
            json!({ "email": "ann@unknown-company.example", "password": "pw",
                    "imap_host": "imap.unknown-company.example", "imap_port": 70000,
                    "smtp_host": "smtp.unknown-company.example", "smtp_port": 465 }),
        )
        .await;
    assert_eq!(out_of_range.status(), 400);
    assert_eq!(out_of_range.json::<Value>().await.unwrap()["kind"], "invalid-port");
}

fn link(harness: &Harness, state: &str, email: &str, expires: u64) -> String {
    nativeauth_server::signed_start_link(
        &format!("{}/", harness.base),
        APP_SECRET,
        state,
        email,
        expires,
    )
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

async fn open_link(harness: &Harness, url: &str) -> (u16, Session, String) {
    let response = harness.http.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let cookies = cookies_of(&response);
    let html = response.text().await.unwrap();
    let csrf = if html.contains(r#"name="csrf""#) { csrf_field(&html) } else { String::new() };
    (status, Session { cookies, csrf }, html)
}

#[tokio::test]
async fn signed_start_links_are_required_when_asked_and_pin_the_address() {
    let harness = start(Api::V2, None, |file| file.require_signed_start = true).await;
    let invalid = "sign-in link is invalid or has expired";

    // Unsigned, forged, expired, too far ahead: refused with a page that sends the user back.
    let good = link(&harness, "s1", "ann@yahoo.com", now() + 600);
    let cases = [
        format!("{}/?state=s1&email=ann%40yahoo.com", harness.base),
        good.replace("state=s1", "state=s2"),
        good.replace("email=ann%40yahoo.com", "email=bob%40yahoo.com"),
        good.replace("&sig=", "&sig=00"),
        link(&harness, "s1", "ann@yahoo.com", now() - 1),
        link(&harness, "s1", "ann@yahoo.com", now() + 3700),
    ];
    for url in &cases {
        let (status, _, html) = open_link(&harness, url).await;
        assert_eq!(status, 403, "{url}");
        assert!(html.contains(invalid) && !html.contains("<form"), "{url}: {html}");
    }
    // A genuine link: the page, and only the pinned address signs in.
    let (status, session, html) = open_link(&harness, &good).await;
    assert_eq!(status, 200);

    // Without the signed start cookie, the API refuses too (the page could be skipped).
    let csrf_only: String =
        session.cookies.split("; ").filter(|c| c.starts_with("nativeauth_csrf=")).collect();
    let skipped = Session { cookies: csrf_only, csrf: session.csrf.clone() };
    let response =
        harness.login(&skipped, json!({ "email": "ann@yahoo.com", "password": "pw" })).await;
    assert_eq!(response.status(), 403);
    assert_eq!(response.json::<Value>().await.unwrap()["kind"], "link-invalid");

    assert!(html.contains(r#"value="ann@yahoo.com""#));
    let other =
        harness.login(&session, json!({ "email": "bob@yahoo.com", "password": "pw" })).await;
    assert_eq!(other.status(), 403);
    assert_eq!(other.json::<Value>().await.unwrap()["kind"], "address-pinned");
    // The form too.
    let form = harness
        .post_form(
            "/login",
            &session.cookies,
            &[("csrf", session.csrf.as_str()), ("email", "bob@yahoo.com"), ("password", "pw")],
        )
        .await;
    assert_eq!(form.status(), 403);
    assert!(form.text().await.unwrap().contains("link is for another email address"));
    let redirect = sign_in(&harness, &session, "Ann@Yahoo.com").await;
    let result = harness.app_receives("s1", &redirect).await.unwrap();
    assert!(result["email_address"].as_str().unwrap().eq_ignore_ascii_case("ann@yahoo.com"));
    assert_eq!(result["signed_link"], true);

    // A link without an address pins nothing.
    let (_, session, _) = open_link(&harness, &link(&harness, "s3", "", now() + 60)).await;
    let redirect = sign_in(&harness, &session, "bob@yahoo.com").await;
    assert_eq!(query_param(&redirect, "state").as_deref(), Some("s3"));
}

#[tokio::test]
async fn without_the_requirement_a_bad_signature_is_still_refused() {
    let harness = start(Api::V2, None, |_| {}).await;
    let forged = link(&harness, "s1", "ann@yahoo.com", now() + 60).replace("state=s1", "state=s9");
    let (status, _, _) = open_link(&harness, &forged).await;
    assert_eq!(status, 403);
    let (status, session, _) = open_link(&harness, &format!("{}/?state=plain", harness.base)).await;
    assert_eq!(status, 200, "unsigned links are fine unless required");
    // …and the app can tell: the result says the link was not signed.
    let redirect = sign_in(&harness, &session, "bob@yahoo.com").await;
    let result = harness.app_receives("plain", &redirect).await.unwrap();
    assert_eq!(result["signed_link"], false);
}

#[tokio::test]
async fn the_readme_python_builds_the_same_link_the_server_accepts() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let python = readme
        .split("```python")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains("def start_link("))
        .expect("the README has the Python start-link builder");
    let harness = start(Api::V2, None, |file| file.require_signed_start = true).await;
    let expires = now() + 300;
    let (state, email) = ("päge 7/&x=1", "ann+tag@yahoo.com");
    let script = format!(
        "{python}\nprint(start_link({base:?}, {APP_SECRET:?}, {state:?}, {email:?}, {expires}))\n",
        base = format!("{}/", harness.base),
    );
    let output =
        std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let from_python = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let from_rust = link(&harness, state, email, expires);
    assert_eq!(query_param(&from_python, "sig"), query_param(&from_rust, "sig"));
    assert!(query_param(&from_python, "sig").is_some_and(|sig| sig.len() == 64));
    let (status, _, html) = open_link(&harness, &from_python).await;
    assert_eq!(status, 200, "{html}");
}

/// A production configuration (offline discovery), with `tweak` applied to its builder.
fn config(tweak: impl FnOnce(ServerConfigBuilder) -> ServerConfigBuilder) -> ServerConfig {
    let builder = ServerConfig::builder()
        .success_url("https://app.example/welcome")
        .client_id("client")
        .secrets(Secrets::builder().client_secret("s").api_key("k").app_secret(APP_SECRET).build())
        .discovery(DiscoveryConfig::builder().offline(true).build());
    tweak(builder).build()
}

/// [`config`]'s secrets with `change` applied.
fn with_secrets(
    builder: ServerConfigBuilder,
    change: impl FnOnce(SecretsBuilder) -> SecretsBuilder,
) -> ServerConfigBuilder {
    let base = Secrets::builder().client_secret("s").api_key("k").app_secret(APP_SECRET);
    builder.secrets(change(base).build())
}

#[tokio::test]
async fn the_server_refuses_to_start_without_what_the_hand_over_needs() {
    assert!(nativeauth_server::router(config(|b| b)).is_ok());
    let shown = format!("{:?}", config(|b| b));
    assert!(!shown.contains(APP_SECRET) && shown.contains("[REDACTED]"), "{shown}");
    let refused = |tweak: fn(ServerConfigBuilder) -> ServerConfigBuilder| {
        nativeauth_server::router(config(tweak)).err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert!(refused(|b| b.redis_url("redis://127.0.0.1:9/")).contains("set NATIVEAUTH_KEY"));
    assert!(refused(|b| with_secrets(b, |s| s.root_key("short"))).contains("root key"));
    assert!(refused(|b| b.edit(|s| s.success_url = None)).contains("success_url is required"));
    // With a root key, a fleet starts.
    assert!(
        nativeauth_server::router(config(|b| {
            with_secrets(b.redis_url("redis://127.0.0.1:9/"), |s| s.root_key(common::ROOT_KEY))
        }))
        .is_ok()
    );
    // A success URL on the page's own origin is a path; one naming another host is not.
    assert!(nativeauth_server::router(config(|b| b.success_url("/done"))).is_ok());
    assert!(refused(|b| b.success_url("//evil.example/done")).contains("success_url"));
    // An error says what to fix, its cause included, and names the setter of an empty secret
    // set in code, or the one never called.
    let insecure = refused(|b| b.api_url("http://api.example"));
    assert!(insecure.contains("cannot be built: "), "{insecure}");
    assert_eq!(
        refused(|b| with_secrets(b, |s| s.client_secret(""))),
        "the secret given to Secrets::builder().client_secret(…) is empty"
    );
    assert_eq!(
        refused(|b| b.secrets(Secrets::builder().client_secret("s").build())),
        "Secrets::builder().app_secret(…) was not called (or set NATIVEAUTH_APP_SECRET and use \
         Secrets::from_env())"
    );
    assert_eq!(refused(|b| b.api(Api::V3)), "", "v3 needs the API key, which config() sets");
    assert!(
        refused(|b| b.api(Api::V3).secrets(Secrets::builder().app_secret(APP_SECRET).build()))
            .contains("Secrets::builder().api_key(…) was not called")
    );
    // No sandbox value is a default: without a client id, v2 does not start.
    assert!(refused(|b| b.client_id("")).contains("client_id"));
    let error =
        nativeauth_server::router(config(|b| with_secrets(b, |s| s.root_key("x")))).unwrap_err();
    assert!(matches!(error, ServerSetupError::RootKey(_)));
}

/// The sandbox built from code leaves `success_url` out, signs in against its own in-process
/// API, and its pages say it is the sandbox.
#[tokio::test]
async fn the_sandbox_starts_from_the_builder() {
    let (config, sandbox) = ServerConfig::builder()
        .discovery(DiscoveryConfig::builder().offline(true).build())
        .build_sandbox()
        .await
        .unwrap();
    assert!(config.is_sandbox());
    assert_eq!(config.settings().api_url.as_deref(), Some(sandbox.url().as_str()));
    assert!(!config.settings().client_id.is_empty());
    let router = nativeauth_server::router(config).unwrap();
    let address = common::serve(router).await;
    let page = reqwest::get(format!("http://{address}/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Sandbox: for development only"), "{page}");
}

/// An embedding app cannot start the sandbox with production settings either.
#[tokio::test]
async fn the_sandbox_refuses_production_settings_from_code() {
    let offline = || DiscoveryConfig::builder().offline(true).build();
    let refused = |result: Result<_, nativeauth_server::SandboxError>| match result {
        Err(error @ nativeauth_server::SandboxError::ProductionSettings(_)) => error.to_string(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the sandbox started"),
    };
    let https = ServerConfig::builder().public_url("https://login.example").discovery(offline());
    assert!(refused(https.build_sandbox().await).contains("https = true"));
    let fleet = ServerConfig::builder().redis_url("redis://127.0.0.1:9/").discovery(offline());
    assert!(refused(fleet.build_sandbox().await).contains("redis_url"));
}

/// The TOML file maps onto the builder (a key left out keeps its default, setters after it
/// win), and the settings the binary applied to discovery apply to an embedded server too.
#[test]
fn the_toml_file_maps_onto_the_builder_and_discovery_settings_apply() {
    let dir = std::env::temp_dir().join(format!("nativeauth-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("login.toml");
    std::fs::write(
        &path,
        "client_id = \"from-file\"\nsuccess_url = \"https://app.example/a\"\ncache_mib = 3\n\
         max_network_detections = 7\n[brand]\nname = \"Acme\"\n",
    )
    .unwrap();
    let config = ServerConfig::builder()
        .settings_from_toml_file(&path)
        .unwrap()
        .success_url("https://app.example/b")
        .build();
    let settings = config.settings();
    assert_eq!(settings.client_id, "from-file");
    assert_eq!(settings.success_url.as_deref(), Some("https://app.example/b"));
    assert_eq!(settings.brand.name, "Acme");
    assert_eq!(settings.login_attempts_per_minute, 10, "a key left out keeps its default");
    assert_eq!(config.discovery().cache_capacity(), 3 * 1024 * 1024);
    assert_eq!(config.discovery().max_network_discoveries(), Some(7));
    // Unset, discovery's own values stay.
    let discovery = DiscoveryConfig::builder().cache_capacity(12345).build();
    let config = ServerConfig::builder().discovery(discovery).build();
    assert_eq!(config.discovery().cache_capacity(), 12345);

    std::fs::write(&path, "client_id = \"x\"\nclient_secret = \"not here\"\n").unwrap();
    let error = ServerConfig::builder().settings_from_toml_file(&path).unwrap_err();
    assert!(format!("{error:?}").contains("client_secret"), "{error:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
