//! The login server over HTTP: the page, `/api/detect`, `/api/login` and the form flow against
//! the local connect sandbox, with the callback received by a real HTTP endpoint.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{CALLBACK_SECRET, cookies_of, csrf_field, start};
use nativeauth_server::{Api, SIGNATURE_HEADER};
use serde_json::{Value, json};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn the_page_is_small_branded_translated_and_sends_the_security_headers() {
    let harness = common::start_knowing_base(Api::V2, |file, base| {
        file.brand.name = "Acme <Mail>".into();
        file.https = true;
        file.public_url = Some(base.to_owned());
    })
    .await;
    let response = harness
        .http
        .get(format!("{}/?state=abc&email=ann%40yahoo.com&name=Ann%22", harness.base))
        .header("Accept-Language", "sv-SE, de;q=0.9, en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = header(&response, "content-security-policy").to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(header(&response, "referrer-policy"), "no-referrer");
    assert!(header(&response, "strict-transport-security").starts_with("max-age="));
    let set_cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(set_cookies.len(), 2, "{set_cookies:?}");
    for cookie in &set_cookies {
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Strict")
                && cookie.contains("Secure"),
            "{cookie}"
        );
    }
    let html = response.text().await.unwrap();
    assert!(html.contains(r#"<html lang="de">"#));
    assert!(html.contains("Postfach verbinden") && html.contains("E-Mail-Adresse"));
    assert!(html.contains("Acme &lt;Mail&gt;") && !html.contains("Acme <Mail>"));
    assert!(html.contains(r#"value="ann@yahoo.com""#) && html.contains(r#"value="Ann&quot;""#));
    assert!(!html.contains("<script>"), "no inline script");

    let english = harness.http.get(&harness.base).send().await.unwrap().text().await.unwrap();
    assert!(english.contains("Connect your mailbox") && english.contains(r#"<html lang="en">"#));

    let mut weight = html.len();
    for asset in ["/static/app.css", "/static/app.js", "/static/brand.css"] {
        let response = harness.http.get(format!("{}{asset}", harness.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        weight += response.bytes().await.unwrap().len();
    }
    assert!(weight <= 30 * 1024, "the page weighs {weight} bytes");

    let too_long = "s".repeat(513);
    let response =
        harness.http.get(format!("{}/?state={too_long}", harness.base)).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn detect_answers_what_to_ask_for() {
    let harness = start(Api::V2, None, |_| {}).await;

    let (status, yahoo) = harness.detect("ann@yahoo.com").await;
    assert_eq!(status, 200, "{yahoo}");
    assert_eq!(yahoo["detected"], true);
    assert_eq!(yahoo["auth"], "app-password", "{yahoo}");
    assert_eq!(yahoo["help_url"], "https://login.yahoo.com/account/security");
    assert_eq!(yahoo["trust"], "verified");

    let (_, gmail) = harness.detect("ann@gmail.com").await;
    assert_eq!(gmail["auth"], "oauth2", "{gmail}");
    assert_eq!(gmail["sign_in_url"], "https://app.example/oauth/google");

    let (_, outlook) = harness.detect("ann@outlook.com").await;
    assert_eq!(outlook["auth"], "oauth2", "{outlook}");
    assert_eq!(outlook["sign_in_url"], "https://app.example/oauth/microsoft");

    let (_, unknown) = harness.detect("ann@unknown-company.example").await;
    assert_eq!(unknown["detected"], false, "{unknown}");
    assert_eq!(unknown["auth"], "manual");
    assert!(unknown["reason"].is_string(), "{unknown}");

    let (_, typo) = harness.detect("ann@gmial.com").await;
    assert_eq!(typo["suggestion"], "ann@gmail.com", "{typo}");

    let (status, invalid) = harness.detect("not an address").await;
    assert_eq!(status, 400);
    assert_eq!(invalid["kind"], "invalid-email");
}

#[tokio::test]
async fn detect_refuses_other_sites_and_non_json_but_serves_server_side_callers() {
    let harness =
        start(Api::V2, None, |file| file.allowed_origins = vec!["https://app.example".into()])
            .await;
    let url = format!("{}/api/detect", harness.base);
    let body = json!({ "email": "ann@yahoo.com" });

    let cross = harness
        .http
        .post(&url)
        .header("Origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let fetch_cross = harness
        .http
        .post(&url)
        .header("Sec-Fetch-Site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_cross.status(), 403);
    let allowed = harness
        .http
        .post(&url)
        .header("Origin", "https://app.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let curl = harness.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(curl.status(), 200);
    let form = harness
        .http
        .post(&url)
        .header("Content-Type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    let huge = harness
        .http
        .post(&url)
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"email":"{}"}}"#, "a".repeat(100_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
}

fn verify_signature(header: &str, body: &str) -> bool {
    let (t, v1) = header.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, CALLBACK_SECRET.as_bytes());
    let tag: Vec<u8> =
        (0..v1.len()).step_by(2).map(|i| u8::from_str_radix(&v1[i..i + 2], 16).unwrap()).collect();
    ring::hmac::verify(&key, format!("{t}.{body}").as_bytes(), &tag).is_ok()
}

#[tokio::test]
async fn a_v2_sign_in_hands_over_a_code_and_calls_back_signed_without_secrets() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("?state=user%3D42%26x").await;
    let response = harness
        .login(
            &session,
            json!({ "email": "ann@yahoo.com", "password": "app-password-1", "name": "Ann" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let cleared = common::set_cookies(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body.as_object().unwrap().len(), 2, "only ok and redirect: {body}");
    assert_eq!(body["ok"], true);
    let redirect = body["redirect"].as_str().unwrap();
    assert!(
        redirect.starts_with("http://127.0.0.1:9/welcome?state=user%3D42%26x&code="),
        "{redirect}"
    );
    assert!(
        cleared.iter().any(|c| c.starts_with("nativeauth_state=;") && c.contains("Max-Age=0")),
        "the used state is cleared: {cleared:?}"
    );

    // The app checks its state, then exchanges the code for the account and its token.
    let result = harness.app_receives("user=42&x", redirect).await.unwrap();
    assert_eq!(result["state"], "user=42&x");
    assert_eq!(result["email_address"], "ann@yahoo.com");
    assert_eq!(
        (result["provider"].as_str(), result["trust"].as_str()),
        (Some("yahoo"), Some("verified"))
    );
    assert_eq!(result["linked"]["api"], "v2");
    let token = result["linked"]["access_token"].as_str().unwrap();
    assert!(token.starts_with("tok-"), "{result}");
    assert!(!redirect.contains(token));

    let received = harness.callbacks_after(1).await;
    assert_eq!(received.len(), 1);
    let (headers, raw) = &received[0];
    let signature = headers.get(SIGNATURE_HEADER).unwrap().to_str().unwrap();
    assert!(verify_signature(signature, raw), "{signature}");
    assert!(!verify_signature(signature, &raw.replace("ann", "bob")));
    let callback: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(callback["state"], "user=42&x");
    assert_eq!(callback["event_id"], result["event_id"]);
    assert_eq!(callback["linked"]["api"], "v2");
    assert_eq!(callback["linked"]["account_id"], result["linked"]["account_id"]);
    assert_eq!(callback["provider"], "yahoo");
    assert_eq!(callback["trust"], "verified");
    assert!(!raw.contains("app-password-1") && !raw.contains("sandbox-secret"));
    assert!(!raw.contains(token), "the callback carries no token: {raw}");
}

#[tokio::test]
async fn a_v3_sign_in_calls_back_with_the_grant() {
    let harness = start(Api::V3, None, |_| {}).await;
    let session = harness.open("").await;
    let response =
        harness.login(&session, json!({ "email": "ann@gmx.de", "password": "pw" })).await;
    assert_eq!(response.status(), 200);
    let redirect = response.json::<Value>().await.unwrap()["redirect"].as_str().unwrap().to_owned();
    let result = harness.app_receives("", &redirect).await.unwrap();
    assert_eq!(result["linked"]["api"], "v3");
    assert!(result["linked"]["grant_id"].is_string(), "{result}");
    assert_eq!(result["linked"].get("access_token"), None);
    let received = harness.callbacks_after(1).await;
    let callback: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(callback["linked"]["api"], "v3");
    assert_eq!(callback["linked"]["grant_id"], result["linked"]["grant_id"]);
    assert_eq!(callback["state"], Value::Null);
}

#[tokio::test]
async fn sign_in_failures_are_precise() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("").await;

    let wrong =
        harness.login(&session, json!({ "email": "ann@yahoo.com", "password": "wrong" })).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<Value>().await.unwrap()["kind"], "wrong-credentials");

    let limited = harness
        .login(&session, json!({ "email": "ratelimited@yahoo.com", "password": "pw" }))
        .await;
    assert_eq!(limited.status(), 429);
    assert!(!header(&limited, "retry-after").is_empty());

    let down = harness
        .login(&session, json!({ "email": "unavailable@yahoo.com", "password": "pw" }))
        .await;
    assert_eq!(down.status(), 502);
    assert_eq!(down.json::<Value>().await.unwrap()["kind"], "api-unavailable");

    let unconfirmed = harness
        .login(&session, json!({ "email": "ann@unknown-company.example", "password": "pw" }))
        .await;
    assert_eq!(unconfirmed.status(), 409);
    assert_eq!(unconfirmed.json::<Value>().await.unwrap()["kind"], "confirm-servers");

    let oauth =
        harness.login(&session, json!({ "email": "ann@gmail.com", "password": "pw" })).await;
    assert_eq!(oauth.status(), 400);
    assert_eq!(oauth.json::<Value>().await.unwrap()["kind"], "oauth-required");

    let bad_port = harness
        .login(&session, json!({ "email": "ann@unknown-company.example", "password": "pw", "imap_host": "imap.unknown-company.example", "imap_port": "99999", "smtp_host": "smtp.unknown-company.example" }))
        .await;
    assert_eq!(bad_port.status(), 400);

    let confirmed = harness
        .login(&session, json!({ "email": "ann@unknown-company.example", "password": "pw", "imap_host": "imap.unknown-company.example", "imap_port": "993", "smtp_host": "smtp.unknown-company.example", "smtp_port": "465" }))
        .await;
    assert_eq!(confirmed.status(), 200, "{:?}", confirmed.text().await);
    assert_eq!(harness.callbacks_after(1).await.len(), 1, "only the successful sign-in calls back");
}

#[tokio::test]
async fn sign_in_needs_the_page_token_and_a_same_origin_browser() {
    let harness = start(Api::V2, None, |_| {}).await;
    let session = harness.open("").await;
    let url = format!("{}/api/login", harness.base);
    let body = json!({ "email": "ann@yahoo.com", "password": "pw" });

    let no_token = harness
        .http
        .post(&url)
        .header("Origin", &harness.base)
        .header("Cookie", &session.cookies)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 403);
    let curl = harness
        .http
        .post(&url)
        .header("Cookie", &session.cookies)
        .header("X-CSRF-Token", &session.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(curl.status(), 403);
    let cross = harness
        .http
        .post(&url)
        .header("Origin", "https://evil.example")
        .header("Cookie", &session.cookies)
        .header("X-CSRF-Token", &session.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let other = harness.open("").await;
    let mixed = common::Session { cookies: other.cookies, csrf: session.csrf.clone() };
    let response = harness.login(&mixed, body.clone()).await;
    assert_eq!(response.status(), 403, "a token from another browser is refused");

    let form = harness
        .http
        .post(format!("{}/login", harness.base))
        .header("Cookie", &session.cookies)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(common::form_body(&[("email", "ann@yahoo.com"), ("password", "pw")]))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 403);
    assert!(harness.callbacks_settled().await.is_empty());
}

/// A server behind a proxy at `trusted` that names clients in `X-Forwarded-For`, allowing
/// `limit` sign-in attempts per minute.
async fn behind_proxy(limit: u32, trusted: &str) -> common::Harness {
    let trusted = trusted.to_owned();
    start(Api::V2, None, move |file| {
        file.login_attempts_per_minute = limit;
        file.client_ip_header = Some("X-Forwarded-For".into());
        file.trusted_proxies = vec![trusted];
    })
    .await
}

/// Sign-in attempts from `client` (behind the trusted proxy) for `email`; the status.
async fn attempt_from(harness: &common::Harness, client: &str, email: &str) -> u16 {
    let session = harness.open("").await;
    harness
        .http
        .post(format!("{}/api/login", harness.base))
        .header("Origin", &harness.base)
        .header("Cookie", &session.cookies)
        .header("X-CSRF-Token", &session.csrf)
        .header("X-Forwarded-For", client)
        .json(&json!({ "email": email, "password": "wrong" }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_client() {
    let harness = behind_proxy(2, "127.0.0.1").await;
    // One client, a new address each time: only the per-client budget can stop it.
    let mut statuses = Vec::new();
    for email in ["a@yahoo.com", "b@yahoo.com", "c@yahoo.com"] {
        statuses.push(attempt_from(&harness, "198.51.100.1", email).await);
    }
    assert_eq!(statuses, [401, 401, 429]);
    let session = harness.open("").await;
    let limited = harness
        .http
        .post(format!("{}/api/login", harness.base))
        .header("Origin", &harness.base)
        .header("Cookie", &session.cookies)
        .header("X-CSRF-Token", &session.csrf)
        .header("X-Forwarded-For", "198.51.100.1")
        .json(&json!({ "email": "d@yahoo.com", "password": "pw" }))
        .send()
        .await
        .unwrap();
    let wait: u64 = header(&limited, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(limited.json::<Value>().await.unwrap()["kind"], "rate-limited");
}

#[tokio::test]
async fn sign_ins_are_rate_limited_per_address() {
    let harness = behind_proxy(2, "127.0.0.1").await;
    // A new client each time, one address: only the per-address budget can stop it.
    let mut statuses = Vec::new();
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        statuses.push(attempt_from(&harness, client, "ann@yahoo.com").await);
    }
    assert_eq!(statuses, [401, 401, 429]);
    assert_eq!(attempt_from(&harness, "198.51.100.4", "bob@yahoo.com").await, 401);
}

#[tokio::test]
async fn spellings_of_one_address_share_its_budget() {
    let harness = behind_proxy(2, "127.0.0.1").await;
    // A new client each time: only the per-address budget can stop these.
    let spellings = [
        ("198.51.100.1", "bob@yahoo.com"),
        ("198.51.100.2", "Bob@YAHOO.com."),
        ("198.51.100.3", "bob@ya\u{ad}hoo.com"),
        ("198.51.100.4", "bob@\u{ff59}\u{ff41}\u{ff48}\u{ff4f}\u{ff4f}.com"),
    ];
    let mut statuses = Vec::new();
    for (client, email) in spellings {
        statuses.push(attempt_from(&harness, client, email).await);
    }
    assert_eq!(statuses, [401, 401, 429, 429], "one address, however it is spelled");
    assert_eq!(attempt_from(&harness, "198.51.100.5", "not an address").await, 400);
}

#[tokio::test]
async fn an_ipv6_client_is_counted_per_64_and_an_untrusted_peer_cannot_name_itself() {
    let harness = behind_proxy(2, "127.0.0.1").await;
    let mut statuses = Vec::new();
    for (client, email) in [
        ("2001:db8:1:2::1", "a@yahoo.com"),
        ("2001:db8:1:2::2", "b@yahoo.com"),
        ("[2001:db8:1:2:ffff::3]:4711", "c@yahoo.com"),
    ] {
        statuses.push(attempt_from(&harness, client, email).await);
    }
    assert_eq!(statuses, [401, 401, 429], "one /64, one budget");
    assert_eq!(attempt_from(&harness, "2001:db8:1:3::1", "d@yahoo.com").await, 401);
    // A client address with a port still names the client, not the proxy.
    assert_eq!(attempt_from(&harness, "198.51.100.9:5678", "e@yahoo.com").await, 401);
    assert_eq!(attempt_from(&harness, "198.51.100.9:5679", "f@yahoo.com").await, 401);
    assert_eq!(attempt_from(&harness, "198.51.100.10:1", "g@yahoo.com").await, 401);

    // A server that trusts only 10.0.0.0/8: this peer (127.0.0.1) is not a proxy of its own, so
    // whatever it claims, it is itself.
    let strict = behind_proxy(2, "10.0.0.0/8").await;
    let mut statuses = Vec::new();
    for (client, email) in [
        ("198.51.100.1", "a@yahoo.com"),
        ("198.51.100.2", "b@yahoo.com"),
        ("198.51.100.3", "c@yahoo.com"),
    ] {
        statuses.push(attempt_from(&strict, client, email).await);
    }
    assert_eq!(statuses, [401, 401, 429]);
}

#[tokio::test]
async fn without_javascript_the_form_walks_the_same_steps() {
    let harness = start(Api::V2, None, |_| {}).await;
    let page = harness.http.get(format!("{}/?state=s1", harness.base)).send().await.unwrap();
    let cookies = cookies_of(&page);
    let csrf = csrf_field(&page.text().await.unwrap());
    let step = harness
        .post_form(
            "/login",
            &cookies,
            &[("csrf", csrf.as_str()), ("email", "ann@yahoo.com"), ("name", "Ann")],
        )
        .await;
    assert_eq!(step.status(), 200);
    let html = step.text().await.unwrap();
    assert!(html.contains("Yahoo"), "the provider is shown");
    assert!(
        html.contains("App password") && html.contains("https://login.yahoo.com/account/security")
    );
    assert!(html.contains(r#"value="Ann""#), "what the user typed is kept");

    let wrong = harness
        .post_form(
            "/login",
            &cookies,
            &[
                ("csrf", csrf.as_str()),
                ("email", "ann@yahoo.com"),
                ("name", "Ann"),
                ("password", "wrong"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("did not accept the password") && html.contains(r#"value="ann@yahoo.com""#)
    );
    assert!(!html.contains(r#"value="wrong""#), "the password is not sent back");

    let done = harness
        .post_form(
            "/login",
            &cookies,
            &[("csrf", csrf.as_str()), ("email", "ann@yahoo.com"), ("password", "right")],
        )
        .await;
    assert_eq!(done.status(), 303);
    let location = header(&done, "location").to_owned();
    assert!(location.starts_with("http://127.0.0.1:9/welcome?state=s1&code="), "{location}");
    let result = harness.app_receives("s1", &location).await.unwrap();
    assert_eq!(result["email_address"], "ann@yahoo.com");
    let received = harness.callbacks_after(1).await;
    assert_eq!(serde_json::from_str::<Value>(&received[0].1).unwrap()["state"], "s1");
}

#[tokio::test]
async fn detect_names_the_steps_before_login() {
    let harness = start(Api::V2, None, |_| {}).await;
    let (status, gmx) = harness.detect("ann@gmx.de").await;
    assert_eq!(status, 200);
    assert_eq!(gmx["requires"][0]["step"], "enable-imap", "{gmx}");
    let (_, yahoo) = harness.detect("ann@yahoo.com").await;
    assert_eq!(yahoo["requires"][0]["step"], "app-password", "{yahoo}");
    assert_eq!(yahoo["requires"][0]["url"], "https://login.yahoo.com/account/security");
}

#[tokio::test]
async fn health_answers() {
    let harness = start(Api::V2, None, |_| {}).await;
    let response = harness.http.get(format!("{}/healthz", harness.base)).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

fn schema<'a>(spec: &'a Value, name: &str) -> &'a Value {
    &spec["components"]["schemas"][name]
}

/// Every key of `body` is a property of the schema, and every required property is there.
fn conforms(spec: &Value, name: &str, body: &Value) {
    let schema = schema(spec, name);
    let object = body.as_object().unwrap_or_else(|| panic!("{name}: not an object: {body}"));
    let properties = schema["properties"].as_object().unwrap();
    for key in object.keys() {
        assert!(properties.contains_key(key), "{name}: {key} is not documented");
    }
    for required in schema["required"].as_array().unwrap() {
        assert!(
            object.contains_key(required.as_str().unwrap()),
            "{name}: {required} is missing in {body}"
        );
    }
    for (key, property) in properties {
        if let (Some(allowed), Some(value)) = (property["enum"].as_array(), object.get(key)) {
            assert!(allowed.contains(value), "{name}.{key}: {value} is not one of {allowed:?}");
        }
    }
}

#[tokio::test]
async fn the_openapi_file_describes_what_the_server_answers() {
    let spec: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let stand_in = nativeauth_testkit::OAuthStandIn::start(common::OAUTH_SECRET);
    let google = nativeauth_server::OAuthConfig {
        client_id: "google-client".into(),
        redirect_uri: "http://127.0.0.1:9/oauth/callback".into(),
        authorize_url: Some(stand_in.authorize_url()),
        token_url: Some(stand_in.token_url()),
        issuer: Some(stand_in.issuer()),
        ..Default::default()
    };
    let harness = start(Api::V2, None, move |file| file.oauth_google = Some(google)).await;

    // Every documented path exists, with the documented method.
    for (path, operations) in spec["paths"].as_object().unwrap() {
        let path = path.replace("{provider}", "google");
        for method in operations.as_object().unwrap().keys() {
            let request = match method.as_str() {
                "get" => harness.http.get(format!("{}{path}", harness.base)),
                "post" => harness
                    .http
                    .post(format!("{}{path}", harness.base))
                    .header("Content-Type", "application/json")
                    .body("{}"),
                other => panic!("{other}"),
            };
            let status = request.send().await.unwrap().status();
            assert!(status != 404 && status != 405, "{method} {path}: {status}");
        }
    }
    let undocumented =
        harness.http.get(format!("{}/api/nothing", harness.base)).send().await.unwrap();
    assert_eq!(undocumented.status(), 404);

    for email in ["ann@yahoo.com", "ann@gmail.com", "ann@unknown-company.example", "ann@gmial.com"]
    {
        let (status, body) = harness.detect(email).await;
        assert_eq!(status, 200);
        conforms(&spec, "Detection", &body);
        for server in ["incoming", "outgoing"] {
            if !body[server].is_null() {
                conforms(&spec, "Server", &body[server]);
            }
        }
    }
    let (_, invalid) = harness.detect("nope").await;
    conforms(&spec, "Error", &invalid);

    let session = harness.open("").await;
    let ok = harness.login(&session, json!({ "email": "ann@yahoo.com", "password": "pw" })).await;
    let ok: Value = ok.json().await.unwrap();
    conforms(&spec, "LoginSuccess", &ok);
    let code = common::query_param(ok["redirect"].as_str().unwrap(), "code").unwrap();
    let request = json!({ "code": code });
    conforms(&spec, "ExchangeRequest", &request);
    let (status, result) = harness.exchange_with(Some(common::APP_SECRET), request).await;
    assert_eq!(status, 200);
    conforms(&spec, "SignInResult", &result);
    conforms(&spec, "Linked", &result["linked"]);
    let (status, used) =
        harness.exchange_with(Some(common::APP_SECRET), json!({ "code": code })).await;
    assert_eq!(status, 400);
    conforms(&spec, "Error", &used);
    let refused =
        harness.login(&session, json!({ "email": "ann@yahoo.com", "password": "wrong" })).await;
    conforms(&spec, "LoginFailure", &refused.json().await.unwrap());
    let login_fields: Vec<&String> =
        schema(&spec, "LoginRequest")["properties"].as_object().unwrap().keys().collect();
    assert_eq!(login_fields.len(), 7, "{login_fields:?}");
}

#[tokio::test]
async fn metrics_count_detections_and_cache_hits_without_addresses() {
    let harness = start(Api::V2, None, |_| {}).await;
    for _ in 0..2 {
        harness.detect("ann@yahoo.com").await;
    }
    harness.detect("ann@unknown-company.example").await;
    let text = harness.get_text("/metrics").await;
    assert!(
        text.contains(r#"nativeauth_detections_total{source="catalogue",trust="verified",outcome="detected"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"nativeauth_detections_total{source="none",trust="none",outcome="not-found"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("nativeauth_detection_cache_hits_total 1"), "{text}");
    assert!(
        text.contains(r#"nativeauth_request_duration_seconds_count{route="detect"} 3"#),
        "{text}"
    );
    assert!(
        !text.contains("yahoo") && !text.contains("ann"),
        "no address or domain in the metrics"
    );
}

#[tokio::test]
async fn an_embedding_app_gets_the_same_value_through_its_hook() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Value>>> = std::sync::Arc::default();
    let recorder = seen.clone();
    let hook: nativeauth_server::Hook = std::sync::Arc::new(move |result| {
        // Typed, with the token behind SecretString: Debug does not show it.
        let debug = format!("{result:?}");
        let value = serde_json::to_value(&result).unwrap();
        let token = value["linked"]["access_token"].as_str().unwrap().to_owned();
        assert!(!debug.contains(&token), "{debug}");
        recorder.lock().unwrap().push(value);
    });
    let harness =
        common::start_with_hook(Api::V2, None, Some(hook), |file| file.callback_url = None).await;
    let session = harness.open("?state=embedded").await;
    let response =
        harness.login(&session, json!({ "email": "ann@yahoo.com", "password": "pw" })).await;
    assert_eq!(response.status(), 200);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["state"], "embedded");
    assert!(seen[0]["linked"]["account_id"].is_string(), "{}", seen[0]);
    assert!(seen[0]["linked"]["access_token"].as_str().unwrap().starts_with("tok-"));
    assert!(!seen[0].to_string().contains("\"pw\""));
    assert!(harness.callbacks_settled().await.is_empty(), "no callback URL: nothing posted");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let harness = behind_proxy(1, "127.0.0.1").await;
    let session = harness.open("").await;
    let attempt = |client: &'static str, email: &'static str| {
        harness
            .http
            .post(format!("{}/api/login", harness.base))
            .header("Origin", &harness.base)
            .header("Cookie", &session.cookies)
            .header("X-CSRF-Token", &session.csrf)
            // A client may send its own header: the proxy appends the address it saw.
            .header("X-Forwarded-For", format!("203.0.113.9, {client}"))
            .json(&json!({ "email": email, "password": "wrong" }))
            .send()
    };
    assert_eq!(attempt("198.51.100.1", "a@yahoo.com").await.unwrap().status(), 401);
    assert_eq!(attempt("198.51.100.1", "b@yahoo.com").await.unwrap().status(), 429);
    assert_eq!(
        attempt("198.51.100.2", "c@yahoo.com").await.unwrap().status(),
        401,
        "another client"
    );
}

#[tokio::test]
async fn past_the_network_limit_detections_and_sign_ins_are_shed_with_503() {
    // No detection may use the network: every one that needs it is shed at once.
    let discovery = nativeauth::DiscoveryConfig::builder()
        .nameservers([std::net::SocketAddr::from(([127, 0, 0, 1], 9))])
        .max_network_discoveries(Some(0))
        .build();
    let harness = start(Api::V2, Some(discovery), |_| {}).await;

    let response = harness
        .http
        .post(format!("{}/api/detect", harness.base))
        .json(&json!({ "email": "ann@unknown-corp.example" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(header(&response, "retry-after"), "2");
    assert_eq!(response.json::<Value>().await.unwrap()["kind"], "busy");

    let (status, body) = harness.detect("ann@yahoo.com").await;
    assert_eq!(
        (status, body["detected"].as_bool()),
        (200, Some(true)),
        "catalogue answers: {body}"
    );

    let session = harness.open("").await;
    let refused = harness
        .login(&session, json!({ "email": "ann@unknown-corp.example", "password": "pw" }))
        .await;
    assert_eq!(refused.status(), 503);
    assert!(!header(&refused, "retry-after").is_empty());
    assert_eq!(refused.json::<Value>().await.unwrap()["kind"], "busy");
    assert!(harness.callbacks_settled().await.is_empty());
}

#[tokio::test]
async fn a_provider_without_mail_access_says_so_and_offers_no_sign_in() {
    let harness = start(Api::V2, None, |_| {}).await;
    let (status, body) = harness.detect("jo@proton.me").await;
    assert_eq!(status, 200);
    assert_eq!(body["auth"], "unsupported", "{body}");
    assert!(body["notes"][0].as_str().unwrap().contains("Bridge"), "{body}");

    let session = harness.open("").await;
    let refused =
        harness.login(&session, json!({ "email": "jo@proton.me", "password": "pw" })).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["kind"], "unsupported-provider");
    assert!(harness.callbacks_settled().await.is_empty());

    // The page without script says so in plain words, names the step (Proton's own program),
    // and shows neither a password field nor a button; the developer's note stays in the JSON.
    let page = harness
        .post_form(
            "/login",
            &session.cookies,
            &[("email", "jo@proton.me"), ("csrf", session.csrf.as_str())],
        )
        .await;
    let html = page.text().await.unwrap();
    assert!(html.contains("does not let other apps reach your mail"), "{html}");
    assert!(html.contains(r#"<li data-step="bridge">"#), "{html}");
    assert!(!html.contains("Proton Mail Bridge"), "{html}");
    assert!(html.contains(r#"<div id="password-field" hidden>"#), "{html}");
    assert!(html.contains(r#"<button id="submit" type="submit" hidden>"#), "{html}");
}
