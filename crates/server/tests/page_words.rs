//! The page speaks to people, not developers: every state, in every one of the nine languages,
//! is free of
//! developer words in what a person reads (visible text, `title`, `aria-label`, `placeholder`,
//! `alt`); and the steps before the password come as a numbered list above it.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::start;
use nativeauth_server::Api;

const BANNED: [&str; 6] =
    ["oauth2", "catalogue", "nxdomain", "dns", "nothing found:", "resolves to"];

/// What a person reads on `html`: the text between tags, and the attributes that are read.
fn readable(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start..start + end];
        for attribute in ["title=\"", "aria-label=\"", "placeholder=\"", "alt=\""] {
            if let Some(at) = tag.find(attribute) {
                let value = &tag[at + attribute.len()..];
                out.push_str(value.split('"').next().unwrap_or_default());
                out.push(' ');
            }
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out.to_lowercase()
}

/// Whether `text` holds `word` as a whole word (or phrase).
fn has_word(text: &str, word: &str) -> bool {
    let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
    text.match_indices(word).any(|(at, _)| {
        boundary(text[..at].chars().next_back()) && boundary(text[at + word.len()..].chars().next())
    })
}

#[test]
fn the_word_check_itself_works() {
    assert!(has_word(&readable("<p>No DNS here</p>"), "dns"));
    assert!(!has_word(&readable("<p>adnsb</p>"), "dns"));
    assert!(has_word(&readable(r#"<img alt="OAuth2 logo">"#), "oauth2"));
    assert!(!has_word(&readable(r#"<div data-x="OAuth2">x</div>"#), "oauth2"));
}

#[tokio::test]
async fn no_state_in_any_language_shows_developer_words() {
    let harness = start(Api::V2, None, |file| file.login_attempts_per_minute = 1000).await;
    let mut pages = Vec::new();
    for lang in ["en", "de", "fr", "es", "it", "pt-BR", "nl", "pl", "ja"] {
        let page = harness
            .http
            .get(format!("{}/", harness.base))
            .header("Accept-Language", lang)
            .send()
            .await
            .unwrap();
        let cookies = common::cookies_of(&page);
        let html = page.text().await.unwrap();
        let csrf = common::csrf_field(&html);
        pages.push((lang, "empty", html));
        for (state, email, password) in [
            ("password", "ann@comcast.net", ""),
            ("steps", "ann@gmx.de", ""),
            ("app-password", "ann@yahoo.com", ""),
            ("google", "ann@gmail.com", ""),
            ("typo", "ann@gmial.com", ""),
            ("unknown", "ann@unknown-company.example", ""),
            ("unsupported", "ann@proton.me", ""),
            ("wrong-password", "ann@yahoo.com", "wrong"),
            ("invalid", "not an address", ""),
        ] {
            let response = harness
                .http
                .post(format!("{}/login", harness.base))
                .header("Cookie", &cookies)
                .header("Accept-Language", lang)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(common::form_body(&[
                    ("csrf", csrf.as_str()),
                    ("email", email),
                    ("password", password),
                ]))
                .send()
                .await
                .unwrap();
            pages.push((lang, state, response.text().await.unwrap()));
        }
    }
    for (lang, state, html) in &pages {
        let text = readable(html);
        for word in BANNED {
            assert!(!has_word(&text, word), "{lang}/{state}: {word:?} in {text}");
        }
    }
    // The states were what they claim.
    let find = |lang: &str, state: &str| {
        &pages.iter().find(|(l, s, _)| *l == lang && *s == state).unwrap().2
    };
    assert!(find("en", "google").contains("Sign in with Google"));
    assert!(find("en", "unsupported").contains("does not let other apps reach your mail"));
    assert!(find("de", "unknown").contains("Geben Sie Ihre Mailserver unten ein"));
    // Each language is its own: the empty page's heading differs from English's.
    let heading =
        |html: &str| html.split("<h1>").nth(1).unwrap().split("</h1>").next().unwrap().to_owned();
    for lang in ["de", "fr", "es", "it", "pt-BR", "nl", "pl", "ja"] {
        assert_ne!(heading(find(lang, "empty")), heading(find("en", "empty")), "{lang}");
        assert!(find(lang, "empty").contains(&format!(r#"<html lang="{lang}">"#)), "{lang}");
    }
}

#[tokio::test]
async fn lang_in_the_query_wins_and_carries_through_the_api() {
    let harness = start(Api::V2, None, |_| {}).await;
    let page = harness
        .http
        .get(format!("{}/?lang=fr", harness.base))
        .header("Accept-Language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<html lang="fr">"#), "{page}");
    assert!(page.contains("action=\"/login?lang=fr\""), "the form keeps the choice");
    let detect = harness
        .http
        .post(format!("{}/api/detect?lang=ja", harness.base))
        .header("Accept-Language", "de")
        .json(&serde_json::json!({ "email": "ann@nomail.example" }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let reason = detect["reason"].as_str().unwrap();
    assert!(!reason.is_ascii(), "a Japanese sentence: {reason}");
}

#[tokio::test]
async fn the_steps_come_numbered_above_the_password() {
    let harness = start(Api::V2, None, |_| {}).await;
    let (_, gmx) = harness.detect("ann@gmx.de").await;
    assert_eq!(
        gmx["requires"][0]["text"],
        "Turn on IMAP access in your email account's settings on the provider's website."
    );
    let session = harness.open("").await;
    let page = harness
        .post_form(
            "/login",
            &session.cookies,
            &[("csrf", session.csrf.as_str()), ("email", "ann@qq.com")],
        )
        .await
        .text()
        .await
        .unwrap();
    let steps_at = page.find(r#"<ol id="steps">"#).unwrap();
    let password_at = page.find(r#"id="password""#).unwrap();
    assert!(steps_at < password_at, "the steps come before the password field");
    let list = &page[steps_at..page[steps_at..].find("</ol>").unwrap() + steps_at];
    assert_eq!(list.matches("<li").count(), 2, "{list}");
    assert!(list.find("enable-imap").unwrap() < list.find("app-password").unwrap());
    assert!(
        list.contains(
            r#"<a href="https://service.mail.qq.com/detail/0/75" rel="noopener">How</a>"#
        ),
        "{list}"
    );
    // The email field is what phones expect.
    assert!(page.contains(
        r#"inputmode="email" autocapitalize="off" spellcheck="false" autocomplete="email""#
    ));
}
