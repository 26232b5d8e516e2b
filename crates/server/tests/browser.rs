//! The page in a real browser: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`, installed by `scripts/test`). It types an address, sees the provider
//! and the fields it needs, gets a precise error, signs in against the sandbox and lands on
//! the app's success URL with its `state` and a code, which the app (played here by a small
//! server following the README's rule) checks against its session and exchanges; then the same
//! without JavaScript, and in German.
//! Screenshots of each step are saved under `target/tmp/` for a person to look at.
//!
//! The WebDriver protocol is a handful of JSON calls, spoken here with reqwest (already a
//! dependency) rather than a client crate that would bring a second TLS stack.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::start;
use nativeauth_server::Api;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The app, as the README tells it to behave: `/connect?state=…` keeps `state` in its session
/// (a cookie) and sends the browser to the login page; `/welcome` compares the `state` it
/// receives with the session's, then exchanges the code and shows what was linked.
struct PlayedApp {
    base: String,
    login: std::sync::Arc<std::sync::Mutex<String>>,
    results: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl PlayedApp {
    async fn start() -> Self {
        use axum::extract::Query;
        use axum::http::{HeaderMap, StatusCode, header};
        use axum::response::{IntoResponse, Redirect};
        use std::collections::HashMap;
        let login: std::sync::Arc<std::sync::Mutex<String>> = std::sync::Arc::default();
        let results: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = std::sync::Arc::default();
        let (login_for_connect, login_for_welcome, recorded) =
            (login.clone(), login.clone(), results.clone());
        let router = axum::Router::new()
            .route(
                "/connect",
                axum::routing::get(move |Query(query): Query<HashMap<String, String>>| {
                    let login = login_for_connect.lock().unwrap().clone();
                    async move {
                        let state = query.get("state").cloned().unwrap_or_default();
                        let cookie = format!("app_session_state={state}; Path=/; SameSite=Lax");
                        let target = format!("{login}/?state={state}");
                        ([(header::SET_COOKIE, cookie)], Redirect::to(&target)).into_response()
                    }
                }),
            )
            .route(
                "/welcome",
                axum::routing::get(
                    move |headers: HeaderMap, Query(query): Query<HashMap<String, String>>| {
                        let login = login_for_welcome.lock().unwrap().clone();
                        let recorded = recorded.clone();
                        async move {
                            let session = common::cookie_value(&headers, "app_session_state");
                            let state = query.get("state").cloned().unwrap_or_default();
                            if session.as_deref() != Some(state.as_str()) {
                                return (StatusCode::FORBIDDEN, "refused: not this session")
                                    .into_response();
                            }
                            let code = query.get("code").cloned().unwrap_or_default();
                            let answer = reqwest::Client::new()
                                .post(format!("{login}/api/exchange"))
                                .bearer_auth(common::APP_SECRET)
                                .json(&json!({ "code": code, "state": state }))
                                .send()
                                .await
                                .unwrap();
                            let status = answer.status();
                            let result: Value = answer.json().await.unwrap();
                            if !status.is_success() {
                                return (StatusCode::BAD_GATEWAY, format!("refused: {result}"))
                                    .into_response();
                            }
                            let shown =
                                format!("linked {}", result["email_address"].as_str().unwrap());
                            recorded.lock().unwrap().push(result);
                            shown.into_response()
                        }
                    },
                ),
            );
        let base = format!("http://{}", common::serve(router).await);
        Self { base, login, results }
    }

    fn welcome(&self) -> String {
        format!("{}/welcome", self.base)
    }

    /// Tells the app where the login server is, once it runs.
    fn uses(&self, login: &str) {
        *self.login.lock().unwrap() = login.to_owned();
    }

    fn results(&self) -> Vec<Value> {
        self.results.lock().unwrap().clone()
    }
}

/// `chromedriver` on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn driver() -> Driver {
    let _ = nativeauth::crypto_provider().install_default();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (scripts/test installs chromium-driver)");
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let ready = http.get(format!("{}/status", driver.url)).send().await;
        if let Ok(response) = ready {
            if response.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true) {
                return driver;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30), "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One browser session.
struct Browser {
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn open(driver: &Driver, language: &str, javascript: bool) -> Self {
        let http = reqwest::Client::new();
        let prefs = json!({
            "intl.accept_languages": language,
            "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 },
        });
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--window-size=800,900", format!("--lang={language}")],
                "prefs": prefs,
            }
        }}});
        let response: Value = http
            .post(format!("{}/session", driver.url))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"));
        Self { http, session: format!("{}/session/{session}", driver.url) }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        response["value"].clone()
    }

    /// Runs `script` in the page; its return value.
    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Emulates a screen `width` CSS pixels wide, and the dark or light colour scheme (Chrome
    /// DevTools commands through ChromeDriver).
    async fn emulate(&self, width: u32, dark: bool) {
        let cdp = |cmd: &'static str, params: Value| {
            self.call(
                reqwest::Method::POST,
                "/goog/cdp/execute",
                Some(json!({ "cmd": cmd, "params": params })),
            )
        };
        cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 600 }),
        )
        .await;
        let scheme = if dark { "dark" } else { "light" };
        cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or_default().to_owned()
    }

    /// The element `css` selects, if the current document has it yet.
    async fn try_find(&self, css: &str) -> Option<String> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    async fn find(&self, css: &str) -> String {
        self.try_find(css).await.unwrap_or_else(|| panic!("no element {css}"))
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/clear"), Some(json!({})))
            .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({})))
            .await;
    }

    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn value(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/property/value"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_owned)
    }

    async fn displayed(&self, css: &str) -> bool {
        let element = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{element}/displayed"), None).await
            == true
    }

    /// Waits until `css`'s text contains `expected`: the page answers asynchronously, and after
    /// a form post the next document may still be loading.
    async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        loop {
            let mut text = String::new();
            if let Some(element) = self.try_find(css).await {
                let value = self
                    .call(reqwest::Method::GET, &format!("/element/{element}/text"), None)
                    .await;
                text = value.as_str().unwrap_or_default().to_owned();
                if text.contains(expected) {
                    return text;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{css} never showed {expected:?}: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the current document has finished loading (after a form post).
    async fn wait_for_load(&self) {
        let started = Instant::now();
        loop {
            let state = self
                .call(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({ "script": "return document.readyState", "args": [] })),
                )
                .await;
            if state == "complete" {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "the page never loaded: {state}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a screenshot under `target/tmp/` for a person to look at.
    async fn screenshot(&self, name: &str) {
        use std::io::Write as _;
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nativeauth-page-{name}.png"));
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let Some(encoded) = encoded.as_str() else { return };
        // Kept for a person to look at; the test does not depend on it.
        use base64::Engine as _;
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) {
            let _ = std::fs::File::create(&path).and_then(|mut f| f.write_all(&bytes));
        }
    }

    async fn close(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

#[tokio::test]
async fn a_user_signs_in_through_the_page_in_a_real_browser() {
    let driver = driver().await;
    let app = PlayedApp::start().await;
    let harness = start(Api::V2, None, |file| file.success_url = Some(app.welcome())).await;
    app.uses(&harness.base);

    let browser = Browser::open(&driver, "en-US", true).await;
    browser.go(&format!("{}/connect?state=browser-1", app.base)).await;
    assert_eq!(browser.text("h1").await, "Connect your mailbox");

    browser.screenshot("1-empty").await;

    // Leaving the email field detects the provider and shows the fields it needs.
    browser.type_into("#email", "jane@comcast.net").await;
    browser.click("#name").await;
    browser.wait_for_text("#provider", "Comcast").await;
    assert!(browser.displayed("#password-field").await);
    assert_eq!(browser.text("#password-label").await, "Password");
    assert!(!browser.displayed("#help").await, "no app password here");
    browser.screenshot("2-password").await;

    browser.type_into("#email", "ann@yahoo.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#provider", "Yahoo").await;
    assert_eq!(browser.text("#password-label").await, "App password");
    assert!(browser.displayed("#help").await);
    assert_eq!(
        browser.attribute("#help", "href").await.as_deref(),
        Some("https://login.yahoo.com/account/security")
    );
    assert!(!browser.displayed("#manual").await, "a verified answer needs no server fields");
    assert!(!browser.displayed("#oauth").await);
    browser.screenshot("3-app-password").await;

    // A wrong password: a precise error, the address kept, the password cleared.
    browser.type_into("#password", "wrong").await;
    browser.click("#submit").await;
    browser.wait_for_text("#error", "did not accept the password").await;
    browser.screenshot("4-wrong-password").await;
    assert_eq!(browser.value("#email").await, "ann@yahoo.com");
    assert_eq!(browser.value("#password").await, "");
    assert!(harness.callbacks_settled().await.is_empty());

    // The right one: signed in; the app checked its state, exchanged the code and got the
    // account with its token; the callback only notified it.
    browser.type_into("#password", "right-password").await;
    browser.click("#submit").await;
    browser.wait_for_text("body", "linked ann@yahoo.com").await;
    browser.screenshot("5-connected").await;
    let url = browser.url().await;
    assert!(url.starts_with(&format!("{}?state=browser-1&code=", app.welcome())), "{url}");
    let results = app.results();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["state"], "browser-1");
    let token = results[0]["linked"]["access_token"].as_str().unwrap();
    assert!(token.starts_with("tok-"), "{}", results[0]);
    assert!(!url.contains(token));
    let received = harness.callbacks_after(1).await;
    assert_eq!(received.len(), 1);
    assert!(!received[0].1.contains(token));
    let callback: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(callback["state"], "browser-1");
    assert_eq!(callback["provider"], "yahoo");

    // Gmail: a sign-in button instead of a password field.
    browser.go(&format!("{}/", harness.base)).await;
    browser.type_into("#email", "ann@gmail.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#oauth", "Sign in with Google").await;
    assert_eq!(
        browser.attribute("#oauth", "href").await.as_deref(),
        Some("https://app.example/oauth/google")
    );
    assert!(!browser.displayed("#password-field").await);
    browser.screenshot("6-google").await;

    // A typo: "did you mean", and one click fixes it.
    browser.type_into("#email", "ann@gmial.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#suggestion", "ann@gmail.com").await;
    browser.screenshot("7-suggestion").await;
    browser.click("#suggestion button").await;
    assert_eq!(browser.value("#email").await, "ann@gmail.com");

    // Nothing found: the server fields, to type.
    browser.type_into("#email", "ann@unknown-company.example").await;
    browser.click("#name").await;
    let started = Instant::now();
    while !browser.displayed("#manual").await {
        assert!(started.elapsed() < Duration::from_secs(20), "the server fields never showed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(browser.text("#manual-legend").await.starts_with("Enter your mail servers"));
    browser.screenshot("8-manual").await;
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_and_in_german_the_page_still_works() {
    let driver = driver().await;
    let app = PlayedApp::start().await;
    let harness = start(Api::V2, None, |file| file.success_url = Some(app.welcome())).await;
    app.uses(&harness.base);
    let browser = Browser::open(&driver, "de-DE", false).await;
    browser.go(&format!("{}/connect?state=nojs", app.base)).await;
    assert_eq!(browser.text("h1").await, "Postfach verbinden");
    assert_eq!(browser.text("label[for=email]").await, "E-Mail-Adresse");

    browser.type_into("#email", "ann@yahoo.com").await;
    browser.click("#submit").await;
    browser.wait_for_text("#provider", "Yahoo").await;
    browser.wait_for_load().await;
    // The server answered the form post: no script intercepted it.
    assert_eq!(browser.url().await, format!("{}/login?lang=de", harness.base));
    assert_eq!(browser.text("#password-label").await, "App-Passwort");
    assert_eq!(browser.value("#email").await, "ann@yahoo.com");

    browser.type_into("#password", "wrong").await;
    browser.click("#submit").await;
    browser.wait_for_text("#error", "nicht akzeptiert").await;
    browser.wait_for_load().await;
    assert_eq!(browser.value("#password").await, "");
    assert!(!browser.displayed("#manual").await, "a verified answer needs no server fields");
    browser.screenshot("9-no-javascript-german-error").await;

    browser.type_into("#password", "right-password").await;
    browser.click("#submit").await;
    browser.wait_for_text("body", "linked ann@yahoo.com").await;
    assert_eq!(app.results()[0]["state"], "nojs");
    let received = harness.callbacks_after(1).await;
    assert_eq!(serde_json::from_str::<Value>(&received[0].1).unwrap()["state"], "nojs");
    browser.close().await;
}

#[tokio::test]
async fn sign_in_with_google_and_microsoft_in_a_real_browser_and_the_denial() {
    let driver = driver().await;
    let app = PlayedApp::start().await;
    let welcome = app.welcome();
    let stand_in = nativeauth_testkit::OAuthStandIn::start(common::OAUTH_SECRET);
    let (authorize_url, token_url) = (stand_in.authorize_url(), stand_in.token_url());
    let (issuer, issuer_template, graph_url) =
        (stand_in.issuer(), stand_in.issuer_template(), stand_in.graph_url());
    let harness = common::start_knowing_base(Api::V2, |file, base| {
        file.success_url = Some(welcome.clone());
        let client = |id: &str| nativeauth_server::OAuthConfig {
            client_id: id.into(),
            redirect_uri: format!("{base}/oauth/callback"),
            authorize_url: Some(authorize_url.clone()),
            token_url: Some(token_url.clone()),
            tenant: None,
            issuer: Some(if id.starts_with("google") {
                issuer.clone()
            } else {
                issuer_template.clone()
            }),
            graph_url: Some(graph_url.clone()),
        };
        file.oauth_google = Some(client("google-client"));
        file.oauth_microsoft = Some(client("microsoft-client"));
    })
    .await;
    app.uses(&harness.base);
    let browser = Browser::open(&driver, "en-US", true).await;

    // The user declines at the provider: back on the page, told so, nothing linked.
    browser.go(&format!("{}/?state=oauth-1", harness.base)).await;
    browser.type_into("#email", "deny@gmail.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#oauth", "Sign in with Google").await;
    browser.click("#oauth").await;
    browser.wait_for_text("#error", "did not allow access").await;
    assert_eq!(browser.value("#email").await, "deny@gmail.com", "the address is kept");
    browser.screenshot("10-google-declined").await;
    assert!(harness.callbacks_settled().await.is_empty());

    // The user approves: linked, and the app's success page, which exchanges the code.
    browser.go(&format!("{}/connect?state=oauth-1", app.base)).await;
    browser.type_into("#email", "ann@gmail.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#oauth", "Sign in with Google").await;
    browser.click("#oauth").await;
    browser.wait_for_text("body", "linked ann@gmail.com").await;
    assert_eq!(
        (app.results()[0]["state"].as_str(), app.results()[0]["provider"].as_str()),
        (Some("oauth-1"), Some("gmail"))
    );
    let received = harness.callbacks_after(1).await;
    assert_eq!(received.len(), 1);
    let callback: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(
        (callback["state"].as_str(), callback["provider"].as_str()),
        (Some("oauth-1"), Some("gmail"))
    );
    assert_eq!(stand_in.authorize_requests()[1]["login_hint"], "ann@gmail.com");

    // The user typed one address and chose another account at Google: the account that
    // signed in is linked, and the app is told which.
    browser.go(&format!("{}/connect?state=oauth-3", app.base)).await;
    browser.type_into("#email", "other.ann@gmail.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#oauth", "Sign in with Google").await;
    browser.click("#oauth").await;
    browser.wait_for_text("body", "linked bob@gmail.com").await;
    assert_eq!(app.results()[1]["state"], "oauth-3");

    // Microsoft 365, the same way.
    browser.go(&format!("{}/connect?state=oauth-2", app.base)).await;
    browser.type_into("#email", "kim@contoso.onmicrosoft.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#oauth", "Sign in with Microsoft").await;
    browser.screenshot("11-microsoft").await;
    browser.click("#oauth").await;
    browser.wait_for_text("body", "linked kim@contoso.onmicrosoft.com").await;
    assert_eq!(app.results()[2]["provider"], "office365");
    let received = harness.callbacks_after(3).await;
    let callback: Value = serde_json::from_str(&received[2].1).unwrap();
    assert_eq!(
        (callback["state"].as_str(), callback["provider"].as_str()),
        (Some("oauth-2"), Some("office365"))
    );
    browser.close().await;
}

#[tokio::test]
async fn on_a_phone_and_in_the_dark_the_page_fits_and_its_targets_are_large() {
    let driver = driver().await;
    let harness = start(Api::V2, None, |_| {}).await;
    let browser = Browser::open(&driver, "en-US", true).await;
    for (width, dark) in [(360, false), (360, true), (1280, false), (1280, true)] {
        browser.emulate(width, dark).await;
        browser.go(&format!("{}/", harness.base)).await;
        browser.type_into("#email", "ann@gmx.de").await;
        browser.click("#name").await;
        browser.wait_for_text("#steps", "Turn on IMAP access").await;
        let name = format!("12-{width}px-{}", if dark { "dark" } else { "light" });
        browser.screenshot(&name).await;
        let fits = browser
            .script("return document.documentElement.scrollWidth <= window.innerWidth")
            .await;
        assert_eq!(fits, Value::Bool(true), "{name}: horizontal scrolling");
        let small = browser
            .script(
                "return Array.from(document.querySelectorAll('input, button, a.button'))\
                 .filter(e => e.offsetParent !== null && e.type !== 'hidden')\
                 .filter(e => e.getBoundingClientRect().height < 44)\
                 .map(e => e.id || e.textContent)",
            )
            .await;
        assert_eq!(small, json!([]), "{name}: tap targets under 44 px");
        let background =
            browser.script("return getComputedStyle(document.body).backgroundColor").await;
        let expected = if dark { "rgb(18, 19, 22)" } else { "rgb(245, 246, 248)" };
        assert_eq!(background, Value::from(expected), "{name}");
        // The show-password toggle, added by the script.
        browser.click(".toggle").await;
        assert_eq!(browser.attribute("#password", "type").await.as_deref(), Some("text"));
        browser.click(".toggle").await;
        assert_eq!(browser.attribute("#password", "type").await.as_deref(), Some("password"));
    }
    browser.close().await;
}

/// axe-core (vendored in the testkit, MPL-2.0) over the current page: the WCAG 2.1 A and AA
/// violations, as `rule: count` lines.
async fn axe_violations(browser: &Browser) -> Vec<String> {
    // 650 KB, read once for all the states.
    static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let source = AXE.get_or_init(|| {
        let path = nativeauth_testkit::data_dir().join("axe/axe.min.js");
        format!("{}\nreturn true;", std::fs::read_to_string(path).unwrap())
    });
    browser.script(source).await;
    let result = browser
        .call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({
                "script": "var done = arguments[arguments.length - 1];\
                           axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })\
                           .then(function (r) { done(r.violations.map(function (v) { return v.id + ': ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); })); })\
                           .catch(function (e) { done(['axe failed: ' + e]); });",
                "args": []
            })),
        )
        .await;
    result
        .as_array()
        .unwrap_or_else(|| panic!("axe: {result}"))
        .iter()
        .map(|v| v.to_string())
        .collect()
}

#[tokio::test]
async fn every_state_passes_axe_in_four_languages_both_widths_and_both_colour_schemes() {
    let driver = driver().await;
    let harness = start(Api::V2, None, |file| file.login_attempts_per_minute = 1000).await;
    // Each language at one width and scheme; together both widths in both schemes.
    for (language, width, dark) in
        [("en-US", 1280, false), ("de-DE", 360, true), ("fr-FR", 360, false), ("ja-JP", 1280, true)]
    {
        let browser = Browser::open(&driver, language, true).await;
        browser.emulate(width, dark).await;
        let mut report = Vec::new();
        for (state, email, wait_for, password) in [
            ("empty", "", "", ""),
            ("password", "jane@comcast.net", "#provider", ""),
            ("app-password", "ann@yahoo.com", "#provider", ""),
            ("steps", "ann@gmx.de", "#steps", ""),
            ("google", "ann@gmail.com", "#oauth", ""),
            ("typo", "ann@gmial.com", "#suggestion", ""),
            ("unknown", "ann@unknown-company.example", "#reason", ""),
            ("proton", "jo@proton.me", "#reason", ""),
            ("wrong-password", "ann@yahoo.com", "#provider", "wrong"),
            ("invalid", "not an address", "#error", ""),
        ] {
            browser.go(&format!("{}/", harness.base)).await;
            if !email.is_empty() {
                browser.type_into("#email", email).await;
                browser.click("#name").await;
                let started = Instant::now();
                while !browser.displayed(wait_for).await {
                    assert!(
                        started.elapsed() < Duration::from_secs(20),
                        "{state}: {wait_for} never showed"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            if !password.is_empty() {
                browser.type_into("#password", password).await;
                browser.click("#submit").await;
                browser.wait_for_text("#error", "").await;
                let started = Instant::now();
                while !browser.displayed("#error").await {
                    assert!(started.elapsed() < Duration::from_secs(20), "{state}: no error");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            for violation in axe_violations(&browser).await {
                report.push(format!("{language}/{state}: {violation}"));
            }
        }
        browser.close().await;
        assert!(report.is_empty(), "axe found:\n{}", report.join("\n"));
    }
}

/// `examples/embed_axum.rs`, running on a free loopback port; killed on drop.
struct Embedded {
    child: Child,
    base: String,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn embedded() -> Embedded {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(nativeauth_testkit::built_example("embed_axum"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the example never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    Embedded { child, base: format!("http://127.0.0.1:{port}") }
}

#[tokio::test]
async fn mounted_under_a_path_in_an_app_of_its_own_the_page_signs_in() {
    let driver = driver().await;
    let app = embedded();
    let browser = Browser::open(&driver, "en-US", true).await;
    // With the trailing slash too, and the app's state kept.
    browser.go(&format!("{}/connect/?state=mounted-1", app.base)).await;
    browser.wait_for_text("h1", "Connect your mailbox").await;
    assert!(browser.url().await.ends_with("/connect?state=mounted-1"), "{}", browser.url().await);
    // The styles and the script load from under /connect.
    let styled = browser
        .script("return getComputedStyle(document.querySelector('main')).borderRadius")
        .await;
    assert_eq!(styled, Value::from("12px"), "app.css loaded");
    browser.type_into("#email", "ann@yahoo.com").await;
    browser.click("#name").await;
    browser.wait_for_text("#provider", "Yahoo").await;
    browser.type_into("#password", "right-password").await;
    browser.click("#submit").await;
    browser.wait_for_text("#welcome", "a sign-in code arrived for state mounted-1").await;
    assert!(
        browser.url().await.starts_with(&format!("{}/welcome?state=mounted-1&code=", app.base))
    );
    browser.screenshot("13-mounted").await;
    browser.close().await;
}
