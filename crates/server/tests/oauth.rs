//! "Sign in with Google / Microsoft" end to end against a stand-in authorization server
//! (`nativeauth_testkit::OAuthStandIn`, which checks PKCE, the code's single use and the client
//! secret), the local connect sandbox and a real callback receiver. The provider's redirect back
//! is followed by hand: the server's registered redirect URI is fixed by configuration.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::collections::HashMap;

use common::{Harness, OAUTH_SECRET, start, start_mounted};
use nativeauth_server::{Api, OAuthConfig};
use nativeauth_testkit::OAuthStandIn;
use serde_json::Value;

fn query_of(url: &str) -> HashMap<String, String> {
    reqwest::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn server(api: Api, stand_in: &OAuthStandIn) -> Harness {
    server_at(api, stand_in, None).await
}

/// [`server`], the router mounted at `at` when given.
async fn server_at(api: Api, stand_in: &OAuthStandIn, at: Option<&str>) -> Harness {
    let config = |client_id: &str| OAuthConfig {
        client_id: client_id.into(),
        redirect_uri: "http://127.0.0.1:9/oauth/callback".into(),
        authorize_url: Some(stand_in.authorize_url()),
        token_url: Some(stand_in.token_url()),
        tenant: None,
        // Google's issuer is fixed; Microsoft's holds the tenant.
        issuer: Some(if client_id.starts_with("google") {
            stand_in.issuer()
        } else {
            stand_in.issuer_template()
        }),
        graph_url: Some(stand_in.graph_url()),
    };
    let (google, microsoft) = (config("google-client"), config("microsoft-client"));
    let tweak = move |file: &mut nativeauth_server::Settings| {
        file.oauth_google = Some(google);
        file.oauth_microsoft = Some(microsoft);
    };
    match at {
        Some(at) => start_mounted(api, at, tweak).await,
        None => start(api, None, tweak).await,
    }
}

/// What a browser does: the page (with the app's `state`), the button, the provider, back.
/// Returns the callback's response and the authorize request's query.
async fn sign_in(
    harness: &Harness,
    provider: &str,
    email: &str,
    tamper_state: bool,
) -> (reqwest::Response, HashMap<String, String>, String) {
    sign_in_from(harness, "?state=app-state-1", provider, email, tamper_state).await
}

/// A browser's way to the provider and back, up to the callback: the page opened with
/// `page_query`, the start (its flow cookie checked), the provider's consent.
struct Started {
    /// The page's and the flow's cookies.
    cookies: String,
    /// The provider's authorize URL.
    authorize: String,
    /// The provider's redirect back to the callback.
    back: String,
}

async fn begin(harness: &Harness, page_query: &str, provider: &str, email: &str) -> Started {
    let session = harness.open(page_query).await;
    let start = harness
        .http
        .get(
            reqwest::Url::parse_with_params(
                &format!("{}/oauth/{provider}/start", harness.base),
                [("email", email)],
            )
            .unwrap(),
        )
        .header("Cookie", &session.cookies)
        .send()
        .await
        .unwrap();
    assert!(start.status().is_redirection(), "{}", start.status());
    let set_cookie = start.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookies = format!("{}; {}", session.cookies, common::cookies_of(&start));
    let authorize = start.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
    let consent = harness.http.get(&authorize).send().await.unwrap();
    let back = consent.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
    Started { cookies, authorize, back }
}

/// [`sign_in`] from the page opened with `page_query`.
async fn sign_in_from(
    harness: &Harness,
    page_query: &str,
    provider: &str,
    email: &str,
    tamper_state: bool,
) -> (reqwest::Response, HashMap<String, String>, String) {
    let Started { cookies, authorize, back } = begin(harness, page_query, provider, email).await;
    let mut answer = query_of(&back);
    if tamper_state {
        answer.insert("state".into(), "forged".into());
    }
    let callback = callback(harness, &cookies, &answer).await;
    (
        callback,
        query_of(&authorize),
        format!(
            "{}/oauth/callback?{}",
            harness.base,
            reqwest::Url::parse(&back).unwrap().query().unwrap_or_default()
        ) + "\n"
            + &cookies,
    )
}

#[tokio::test]
async fn mounted_under_a_path_the_api_links_to_the_mounted_start() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server_at(Api::V2, &stand_in, Some("/connect")).await;
    let detected: Value = harness
        .http
        .post(format!("{}/connect/api/detect", harness.base))
        .header("Origin", &harness.base)
        .json(&serde_json::json!({ "email": "ann@gmail.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The mount's path, not the API's own `/api` prefix.
    assert_eq!(
        detected["sign_in_url"],
        "/connect/oauth/google/start?lang=en&email=ann%40gmail.com"
    );
    let page = harness.http.get(format!("{}/connect?state=s1", harness.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let start = harness
        .http
        .get(format!("{}{}", harness.base, detected["sign_in_url"].as_str().unwrap()))
        .header("Cookie", common::cookies_of(&page))
        .send()
        .await
        .unwrap();
    assert!(start.status().is_redirection(), "{}", start.status());
}

#[tokio::test]
async fn google_signs_in_with_pkce_and_links_the_account() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V2, &stand_in).await;
    let (status, detected) = harness.detect("ann@gmail.com").await;
    assert_eq!(status, 200);
    assert_eq!(detected["sign_in_url"], "/oauth/google/start?lang=en&email=ann%40gmail.com");

    let (callback, authorize, replay) = sign_in(&harness, "google", "ann@gmail.com", false).await;
    assert_eq!(callback.status(), 303, "{}", callback.text().await.unwrap());
    let location = callback.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:9/welcome?state=app-state-1&code="),
        "{location}"
    );
    let result = harness.app_receives("app-state-1", &location).await.unwrap();
    assert_eq!(result["linked"]["api"], "v2");
    assert_eq!(result["provider"], "gmail");

    // The request the provider saw: PKCE S256, state, the hint, offline access, the scopes.
    assert_eq!(authorize["code_challenge_method"], "S256");
    assert_eq!(authorize["code_challenge"].len(), 43);
    assert!(authorize["state"].len() >= 16);
    assert_eq!(authorize["login_hint"], "ann@gmail.com");
    assert_eq!(
        (authorize["access_type"].as_str(), authorize["prompt"].as_str()),
        ("offline", "consent")
    );
    assert_eq!(authorize["redirect_uri"], "http://127.0.0.1:9/oauth/callback");
    assert!(authorize["scope"].contains("https://www.googleapis.com/auth/gmail.readonly"));
    assert!(!authorize.contains_key("hd"), "no Workspace hint for gmail.com");
    let token = &stand_in.token_requests()[0];
    assert_eq!(token["grant_type"], "authorization_code");
    assert!(token["code_verifier"].len() >= 43);

    // The app got the account, with no secret in it.
    let received = harness.callbacks_after(1).await;
    assert_eq!(received.len(), 1);
    let body: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(
        (body["state"].as_str(), body["linked"]["provider"].as_str()),
        (Some("app-state-1"), Some("gmail"))
    );
    for secret in
        ["stand-in-refresh-token", "stand-in-access-token", OAUTH_SECRET, &token["code_verifier"]]
    {
        assert!(!received[0].1.contains(secret), "{secret} reached the app");
    }

    // The same redirect again: the flow is used up.
    let (url, cookies) = replay.split_once('\n').unwrap();
    let again = harness.http.get(url).header("Cookie", cookies).send().await.unwrap();
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("expired or was already used"));
}

#[tokio::test]
async fn microsoft_asks_for_offline_access_and_hints_the_tenant_domain() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V3, &stand_in).await;
    let (callback, authorize, _) =
        sign_in(&harness, "microsoft", "kim@contoso.onmicrosoft.com", false).await;
    assert_eq!(callback.status(), 303, "{}", callback.text().await.unwrap());
    assert!(authorize["scope"].split(' ').any(|s| s == "offline_access"), "{authorize:?}");
    assert!(authorize["scope"].contains("https://graph.microsoft.com/Mail.Read"));
    assert_eq!(authorize["domain_hint"], "contoso.onmicrosoft.com");
    assert_eq!(authorize["login_hint"], "kim@contoso.onmicrosoft.com");
    let received = harness.callbacks_after(1).await;
    let body: Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(body["linked"]["api"], "v3");
}

#[tokio::test]
async fn every_failure_has_a_message_for_the_user() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V2, &stand_in).await;
    let cases = [
        ("deny@gmail.com", false, 401, "You did not allow access"),
        ("ann@gmail.com", true, 400, "expired or was already used"),
        ("expired@gmail.com", false, 400, "expired or was already used"),
        ("norefresh@gmail.com", false, 502, "did not grant lasting access"),
        ("unavailable@gmail.com", false, 502, ""),
    ];
    for (email, tamper, status, words) in cases {
        let (callback, _, _) = sign_in(&harness, "google", email, tamper).await;
        assert_eq!(callback.status().as_u16(), status, "{email}");
        let html = callback.text().await.unwrap();
        assert!(html.contains(r#"id="error""#) && html.contains(words), "{email}: {html}");
    }
    assert!(harness.callbacks_settled().await.is_empty(), "nothing was linked");
}

#[tokio::test]
async fn an_unconfigured_provider_has_no_route() {
    let harness = start(Api::V2, None, |_| {}).await;
    let response = harness
        .http
        .get(format!("{}/oauth/google/start?email=ann@gmail.com", harness.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let (_, detected) = harness.detect("ann@gmail.com").await;
    assert_eq!(detected["sign_in_url"], "https://app.example/oauth/google", "the app's own URL");
}

#[tokio::test]
async fn no_token_verifier_secret_or_address_reaches_the_logs() {
    let captured = common::capture_logs();
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    for api in [Api::V2, Api::V3] {
        let harness = server(api, &stand_in).await;
        let (callback, _, _) = sign_in(&harness, "google", "lena.private@gmail.com", false).await;
        assert_eq!(callback.status(), 303);
        let (callback, _, _) =
            sign_in(&harness, "microsoft", "lena.private@contoso.onmicrosoft.com", false).await;
        assert_eq!(callback.status(), 303);
    }
    let logs = captured.text();
    assert!(logs.contains("oauth sign-in linked"), "logs were captured");
    let mut secrets =
        vec![OAUTH_SECRET.to_owned(), "lena.private".to_owned(), "app-state-1".to_owned()];
    for token in stand_in.token_requests() {
        secrets.push(token["code_verifier"].clone());
        secrets.push(token["code"].clone());
    }
    secrets.extend(["stand-in-refresh-token".to_owned(), "stand-in-access-token".to_owned()]);
    for secret in secrets {
        let line = logs.lines().find(|l| l.contains(&secret));
        assert!(line.is_none(), "{secret} in the logs: {line:?}");
    }
}

/// The sign-in's result as the app gets it: the code from the success redirect, exchanged.
async fn exchanged(harness: &Harness, callback: &reqwest::Response) -> Value {
    assert_eq!(callback.status(), 303);
    let location = callback.headers()[reqwest::header::LOCATION].to_str().unwrap();
    harness.app_receives("app-state-1", location).await.unwrap()
}

#[tokio::test]
async fn the_linked_address_is_the_one_that_signed_in() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V2, &stand_in).await;
    // The user typed one address and chose another account at Google: that account is linked,
    // under its own address.
    let (callback, _, _) = sign_in(&harness, "google", "other.ann@gmail.com", false).await;
    let result = exchanged(&harness, &callback).await;
    assert_eq!(result["email_address"], "bob@gmail.com");
    assert_eq!(result["provider"], "gmail");

    // Microsoft with only preferred_username (which a tenant admin can set to anything): the
    // user principal name from Graph decides, never preferred_username.
    let (callback, _, _) =
        sign_in(&harness, "microsoft", "pun@contoso.onmicrosoft.com", false).await;
    let result = exchanged(&harness, &callback).await;
    assert_eq!(result["email_address"], "kim@contoso.onmicrosoft.com");
    assert_eq!(result["tenant_id"], "stand-in-tenant");

    // A matching account links as typed.
    let (callback, _, _) =
        sign_in(&harness, "microsoft", "kim@contoso.onmicrosoft.com", false).await;
    let result = exchanged(&harness, &callback).await;
    assert_eq!(result["email_address"], "kim@contoso.onmicrosoft.com");
}

#[tokio::test]
async fn a_pinned_address_refuses_another_account_naming_both() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V2, &stand_in).await;
    let link = nativeauth_server::signed_start_link(
        &format!("{}/", harness.base),
        common::APP_SECRET,
        "app-state-1",
        "other.ann@gmail.com",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 300,
    )
    .unwrap();
    let query = format!("?{}", reqwest::Url::parse(&link).unwrap().query().unwrap());
    // Starting with another address than the pinned one is refused at once.
    let session = harness.open(&query).await;
    let start = harness
        .http
        .get(format!("{}/oauth/google/start?email=bob%40gmail.com", harness.base))
        .header("Cookie", &session.cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 403);
    assert!(start.text().await.unwrap().contains("link is for another email address"));
    let (callback, _, _) =
        sign_in_from(&harness, &query, "google", "other.ann@gmail.com", false).await;
    assert_eq!(callback.status(), 403);
    let html = callback.text().await.unwrap();
    assert!(html.contains("bob@gmail.com") && html.contains("other.ann@gmail.com"), "{html}");
    assert!(harness.callbacks_settled().await.is_empty(), "nothing was linked");
}

#[tokio::test]
async fn an_identity_the_provider_does_not_vouch_for_is_refused() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    let harness = server(Api::V3, &stand_in).await;
    for (provider, email) in [
        ("google", "unverified@gmail.com"),
        ("google", "wrongaud@gmail.com"),
        ("google", "stale@gmail.com"),
        ("google", "noid@gmail.com"),
        // A consumer Google account registered on a company's address: no Workspace vouches.
        ("google", "consumer.ceo@corp-workspace.example"),
        ("microsoft", "wrongaud@contoso.onmicrosoft.com"),
        ("microsoft", "stale@contoso.onmicrosoft.com"),
    ] {
        let (callback, _, _) = sign_in(&harness, provider, email, false).await;
        assert_eq!(callback.status(), 403, "{email}");
        let html = callback.text().await.unwrap();
        assert!(html.contains("did not confirm which email address"), "{email}: {html}");
    }
    assert!(harness.callbacks_settled().await.is_empty(), "nothing was linked");
    // Microsoft without a verified-domain email falls back to Graph's user principal name.
    let (callback, _, _) =
        sign_in(&harness, "microsoft", "unverified@contoso.onmicrosoft.com", false).await;
    let result = exchanged(&harness, &callback).await;
    assert_eq!(result["email_address"], "unverified@contoso.onmicrosoft.com");
}

/// Starts a Google flow on `harness` for `email`: the browser's cookies after the start (page
/// and flow), and the provider's redirect back.
async fn start_flow(harness: &Harness, email: &str) -> (String, HashMap<String, String>) {
    let started = begin(harness, "?state=app-state-1", "google", email).await;
    (started.cookies, query_of(&started.back))
}

async fn callback(
    harness: &Harness,
    cookies: &str,
    answer: &HashMap<String, String>,
) -> reqwest::Response {
    harness
        .http
        .get(
            reqwest::Url::parse_with_params(&format!("{}/oauth/callback", harness.base), answer)
                .unwrap(),
        )
        .header("Cookie", cookies)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flow_started_on_one_server_finishes_on_another_and_a_swapped_cookie_is_refused() {
    let stand_in = OAuthStandIn::start(OAUTH_SECRET);
    // Two servers with the same root key and no Redis: nothing of the flow is kept on either.
    let a = server(Api::V2, &stand_in).await;
    let b = server(Api::V2, &stand_in).await;
    let (cookies, answer) = start_flow(&a, "ann@gmail.com").await;
    let finished = callback(&b, &cookies, &answer).await;
    assert_eq!(finished.status(), 303, "{}", finished.text().await.unwrap());
    let result = exchanged(&b, &finished).await;
    assert_eq!(result["email_address"], "ann@gmail.com");

    // Two flows in one browser: the first's redirect with the second's cookie does not open.
    let (_, first) = start_flow(&a, "ann@gmail.com").await;
    let (second_cookies, _) = start_flow(&a, "bob@gmail.com").await;
    let token_requests = stand_in.token_requests().len();
    let swapped = callback(&b, &second_cookies, &first).await;
    assert_eq!(swapped.status(), 400);
    assert!(swapped.text().await.unwrap().contains("expired or was already used"));
    assert_eq!(
        stand_in.token_requests().len(),
        token_requests,
        "refused on the state, before any code is spent"
    );
}
