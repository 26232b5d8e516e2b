//! Whole request bodies for every provider kind, and validation.

use serde_json::{Value, json};

use super::*;
use crate::model::{
    AuthHint, AuthMethod, Detection, EmailAddress, ExchangeEndpoints, NylasProvider, Protocol,
    ProviderInfo, Security, Server, Source, Trust, UsernameTemplate,
};

fn server(protocol: Protocol, host: &str, port: u16, security: Security, username: &str) -> Server {
    Server {
        protocol,
        host: host.into(),
        port,
        security,
        username: UsernameTemplate::new(username),
        auth: vec![AuthMethod::PasswordCleartext],
    }
}

fn detection(nylas: NylasProvider, incoming: Vec<Server>, outgoing: Vec<Server>) -> Detection {
    Detection {
        provider: ProviderInfo::new(nylas.as_str(), nylas.as_str(), nylas),
        incoming,
        outgoing,
        exchange: None,
        auth_hint: AuthHint::Password,
        source: Source::Catalogue,
        trust: Trust::Verified,
        evidence: String::new(),
        notes: vec![],
        requires: vec![],
    }
}

fn imap_detection() -> Detection {
    detection(
        NylasProvider::Imap,
        vec![
            server(Protocol::Pop3, "pop.example.net", 995, Security::Tls, "%EMAILADDRESS%"),
            server(Protocol::Imap, "imap.example.net", 143, Security::Plain, "%EMAILADDRESS%"),
            server(Protocol::Imap, "imap.example.net", 993, Security::Tls, "%EMAILLOCALPART%"),
        ],
        vec![server(Protocol::Smtp, "smtp.example.net", 587, Security::StartTls, "%EMAILADDRESS%")],
    )
}

fn email(address: &str) -> EmailAddress {
    EmailAddress::parse(address).unwrap()
}

fn scopes() -> Scopes {
    "email.read_only,email.send".parse().unwrap()
}

fn oauth() -> Credentials {
    Credentials::oauth(
        "oauth-client",
        "oauth-secret",
        "refresh-tok",
        Some("https://app.example/cb".into()),
    )
}

fn body(request: &impl serde::Serialize) -> Value {
    serde_json::to_value(request).unwrap()
}

#[test]
fn imap_sends_all_nine_fields_with_the_preferred_tls_servers() {
    let email = email("dave@example.net");
    let request = AuthorizeRequest::new(
        "cid",
        "Dave",
        &email,
        &imap_detection(),
        &Credentials::password("pw-1"),
        scopes(),
    )
    .unwrap();
    assert_eq!(
        body(&request),
        json!({
            "client_id": "cid",
            "name": "Dave",
            "email_address": "dave@example.net",
            "provider": "imap",
            "settings": {
                "imap_host": "imap.example.net", "imap_port": 993, "imap_username": "dave", "imap_password": "pw-1",
                "smtp_host": "smtp.example.net", "smtp_port": 587, "smtp_username": "dave@example.net", "smtp_password": "pw-1",
                "ssl_required": true
            },
            "scopes": "email.read_only,email.send"
        })
    );
    assert!(request.warnings().is_empty());
}

#[test]
fn imap_with_only_plaintext_is_refused_unless_allowed_and_then_does_not_require_ssl() {
    let detection = detection(
        NylasProvider::Imap,
        vec![server(
            Protocol::Imap,
            "mail.old-isp.example",
            143,
            Security::Plain,
            "%EMAILADDRESS%",
        )],
        vec![server(Protocol::Smtp, "mail.old-isp.example", 465, Security::Tls, "%EMAILADDRESS%")],
    );
    let email = email("e@old-isp.example");
    let creds = Credentials::password_with_username("pw", "custom-login");
    let refused = AuthorizeRequest::new("cid", "E", &email, &detection, &creds, scopes());
    assert!(
        matches!(&refused, Err(PayloadError::Plaintext { server, protocol: Protocol::Imap }) if server == "mail.old-isp.example:143"),
        "{refused:?}"
    );
    let v3 = CustomAuthRequest::new(&email, &detection, &creds);
    assert!(matches!(v3, Err(PayloadError::Plaintext { .. })), "{v3:?}");
    let allowed = Consent::none().allow_plaintext();
    let request =
        AuthorizeRequest::with_consent("cid", "E", &email, &detection, &creds, scopes(), allowed)
            .unwrap();
    let settings = &body(&request)["settings"];
    assert_eq!(settings["ssl_required"], false);
    assert_eq!(settings["imap_username"], "custom-login");
    assert_eq!(settings["smtp_username"], "custom-login");
    assert_eq!(request.warnings().len(), 1);
    assert!(
        request.warnings()[0].contains("mail.old-isp.example:143")
            && request.warnings()[0].contains("plaintext")
    );
}

#[test]
fn gmail_sends_google_oauth_fields() {
    let detection = detection(NylasProvider::Gmail, vec![], vec![]);
    let request = AuthorizeRequest::new(
        "cid",
        "Alice",
        &email("alice@gmail.com"),
        &detection,
        &oauth(),
        scopes(),
    )
    .unwrap()
    .reauthenticate("acc-1")
    .unwrap();
    assert_eq!(
        body(&request),
        json!({
            "client_id": "cid", "name": "Alice", "email_address": "alice@gmail.com", "provider": "gmail",
            "settings": {"google_client_id": "oauth-client", "google_client_secret": "oauth-secret", "google_refresh_token": "refresh-tok"},
            "scopes": "email.read_only,email.send",
            "reauth_account_id": "acc-1"
        })
    );
}

#[test]
fn office365_sends_microsoft_oauth_fields_and_needs_a_redirect_uri() {
    let detection = detection(NylasProvider::Office365, vec![], vec![]);
    let email = email("bob@contoso.example");
    let request =
        AuthorizeRequest::new("cid", "Bob", &email, &detection, &oauth(), scopes()).unwrap();
    assert_eq!(
        body(&request)["settings"],
        json!({
            "microsoft_client_id": "oauth-client", "microsoft_client_secret": "oauth-secret",
            "microsoft_refresh_token": "refresh-tok", "redirect_uri": "https://app.example/cb"
        })
    );
    assert_eq!(body(&request)["provider"], "office365");
    let no_redirect = Credentials::oauth("c", "s", "r", None);
    assert_eq!(
        AuthorizeRequest::new("cid", "Bob", &email, &detection, &no_redirect, scopes())
            .unwrap_err(),
        PayloadError::MissingRedirectUri { provider: NylasProvider::Office365 }
    );
}

#[test]
fn exchange_sends_username_password_and_a_bare_host() {
    let mut detection = detection(NylasProvider::Exchange, vec![], vec![]);
    detection.exchange = Some(ExchangeEndpoints {
        ews_url: Some("https://mail.corp.example/EWS/Exchange.asmx".into()),
        eas_host: Some("https://mail.corp.example/Microsoft-Server-ActiveSync".into()),
        login: None,
    });
    let request = AuthorizeRequest::new(
        "cid",
        "Eve",
        &email("eve@corp.example"),
        &detection,
        &Credentials::password("pw"),
        scopes(),
    )
    .unwrap();
    assert_eq!(
        body(&request)["settings"],
        json!({
            "username": "eve@corp.example", "password": "pw", "exchange_server_host": "mail.corp.example"
        })
    );
}

#[test]
fn password_providers_send_a_password_and_an_optional_username() {
    for nylas in [NylasProvider::Yahoo, NylasProvider::Aol, NylasProvider::Icloud] {
        let detection = detection(nylas, vec![], vec![]);
        let request = AuthorizeRequest::new(
            "cid",
            "C",
            &email("c@example.com"),
            &detection,
            &Credentials::password("app-pw"),
            scopes(),
        )
        .unwrap();
        assert_eq!(body(&request)["settings"], json!({"password": "app-pw"}), "{nylas}");
        assert_eq!(body(&request)["provider"], nylas.as_str());
        let with_user = Credentials::password_with_username("app-pw", "c");
        let request = AuthorizeRequest::new(
            "cid",
            "C",
            &email("c@example.com"),
            &detection,
            &with_user,
            scopes(),
        )
        .unwrap();
        assert_eq!(
            body(&request)["settings"],
            json!({"password": "app-pw", "username": "c"}),
            "{nylas}"
        );
    }
}

#[test]
fn validation_happens_before_any_request() {
    let email = email("a@example.net");
    let imap = imap_detection();
    let gmail = detection(NylasProvider::Gmail, vec![], vec![]);
    let password = Credentials::password("pw");
    let cases = [
        (
            AuthorizeRequest::new("cid", "  ", &email, &imap, &password, scopes()),
            PayloadError::Empty { field: "name" },
        ),
        (
            AuthorizeRequest::new("", "A", &email, &imap, &password, scopes()),
            PayloadError::Empty { field: "client id" },
        ),
        (
            AuthorizeRequest::new("cid", "A", &email, &imap, &Credentials::password(""), scopes()),
            PayloadError::Empty { field: "password" },
        ),
        (
            AuthorizeRequest::new("cid", "A", &email, &gmail, &password, scopes()),
            PayloadError::WrongCredentials {
                provider: NylasProvider::Gmail,
                needed: "OAuth client data and a refresh token",
                given: "a password",
            },
        ),
        (
            AuthorizeRequest::new("cid", "A", &email, &imap, &oauth(), scopes()),
            PayloadError::WrongCredentials {
                provider: NylasProvider::Imap,
                needed: "a password",
                given: "OAuth credentials",
            },
        ),
        (
            AuthorizeRequest::new(
                "cid",
                "A",
                &email,
                &detection(NylasProvider::Imap, imap.incoming.clone(), vec![]),
                &password,
                scopes(),
            ),
            PayloadError::NoServer { protocol: Protocol::Smtp, provider: NylasProvider::Imap },
        ),
        (
            AuthorizeRequest::new(
                "cid",
                "A",
                &email,
                &gmail,
                &Credentials::oauth("c", " ", "r", None),
                scopes(),
            ),
            PayloadError::Empty { field: "OAuth client secret" },
        ),
    ];
    for (result, expected) in cases {
        assert_eq!(result.unwrap_err(), expected);
    }
    let mut zero_port = imap_detection();
    zero_port.outgoing[0].port = 0;
    assert!(matches!(
        AuthorizeRequest::new("cid", "A", &email, &zero_port, &password, scopes()),
        Err(PayloadError::PortOutOfRange { port: 0, .. })
    ));
}

#[test]
fn debug_and_errors_never_show_secrets() {
    let email = email("a@example.net");
    let request = AuthorizeRequest::new(
        "cid",
        "A",
        &email,
        &imap_detection(),
        &Credentials::password("s3cr3t-pw"),
        scopes(),
    )
    .unwrap();
    let gmail = detection(NylasProvider::Gmail, vec![], vec![]);
    let oauth_request =
        AuthorizeRequest::new("cid", "A", &email, &gmail, &oauth(), scopes()).unwrap();
    let error = AuthorizeRequest::new(
        "cid",
        "A",
        &email,
        &gmail,
        &Credentials::password("s3cr3t-pw"),
        scopes(),
    )
    .unwrap_err();
    let printed = format!(
        "{request:?} {oauth_request:?} {error} {error:?} {:?} {:?}",
        Credentials::password("s3cr3t-pw"),
        oauth()
    );
    for secret in ["s3cr3t-pw", "oauth-secret", "refresh-tok"] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
    assert!(printed.contains("REDACTED"));
}

#[test]
fn v3_bodies_use_the_v3_provider_names() {
    let cases: Vec<(Detection, &str, Credentials, Value)> = vec![
        (
            detection(NylasProvider::Gmail, vec![], vec![]),
            "alice@gmail.com",
            oauth(),
            json!({"provider": "google", "settings": {"refresh_token": "refresh-tok"}}),
        ),
        (
            detection(NylasProvider::Office365, vec![], vec![]),
            "b@contoso.example",
            oauth(),
            json!({"provider": "microsoft", "settings": {"refresh_token": "refresh-tok"}}),
        ),
        (
            detection(NylasProvider::Outlook, vec![], vec![]),
            "b@outlook.com",
            oauth(),
            json!({"provider": "microsoft", "settings": {"refresh_token": "refresh-tok"}}),
        ),
        (
            detection(
                NylasProvider::Icloud,
                vec![server(
                    Protocol::Imap,
                    "imap.mail.me.com",
                    993,
                    Security::Tls,
                    "%EMAILLOCALPART%",
                )],
                vec![],
            ),
            "tim@icloud.com",
            Credentials::password("pw"),
            json!({"provider": "icloud", "settings": {"username": "tim@icloud.com", "password": "pw"}}),
        ),
        (
            // An app password: Yahoo goes through IMAP in v3.
            detection(
                NylasProvider::Yahoo,
                vec![server(
                    Protocol::Imap,
                    "imap.mail.yahoo.com",
                    993,
                    Security::Tls,
                    "%EMAILADDRESS%",
                )],
                vec![server(
                    Protocol::Smtp,
                    "smtp.mail.yahoo.com",
                    465,
                    Security::Tls,
                    "%EMAILADDRESS%",
                )],
            ),
            "c@yahoo.com",
            Credentials::password("pw"),
            json!({"provider": "imap", "settings": {
                "imap_username": "c@yahoo.com", "imap_password": "pw", "imap_host": "imap.mail.yahoo.com", "imap_port": 993,
                "smtp_host": "smtp.mail.yahoo.com", "smtp_port": 465
            }}),
        ),
        (
            // A refresh token from Yahoo's OAuth: the yahoo connector.
            detection(NylasProvider::Yahoo, vec![], vec![]),
            "c@yahoo.com",
            oauth(),
            json!({"provider": "yahoo", "settings": {"refresh_token": "refresh-tok"}}),
        ),
        (
            imap_detection(),
            "dave@example.net",
            Credentials::password("pw"),
            json!({"provider": "imap", "settings": {
                "imap_username": "dave", "imap_password": "pw", "imap_host": "imap.example.net", "imap_port": 993,
                "smtp_host": "smtp.example.net", "smtp_port": 587
            }}),
        ),
    ];
    for (detection, address, creds, expected) in cases {
        let request = CustomAuthRequest::new(&email(address), &detection, &creds).unwrap();
        assert_eq!(body(&request), expected, "{address}");
    }
    let mut exchange = detection(NylasProvider::Exchange, vec![], vec![]);
    exchange.exchange = Some(ExchangeEndpoints {
        ews_url: None,
        eas_host: Some("mail.corp.example".into()),
        login: None,
    });
    let request =
        CustomAuthRequest::new(&email("e@corp.example"), &exchange, &Credentials::password("pw"))
            .unwrap();
    assert_eq!(
        body(&request),
        json!({"provider": "ews", "settings": {"username": "e@corp.example", "password": "pw", "exchange_server_host": "mail.corp.example"}})
    );
    let error = CustomAuthRequest::new(
        &email("b@outlook.com"),
        &detection(NylasProvider::Outlook, vec![], vec![]),
        &Credentials::password("pw"),
    );
    assert!(matches!(error, Err(PayloadError::WrongCredentials { .. })));
}

#[test]
fn outlook_and_hotmail_take_no_password_but_a_microsoft_sign_in() {
    for nylas in [NylasProvider::Hotmail, NylasProvider::Outlook] {
        let detection = detection(nylas, vec![], vec![]);
        let error = AuthorizeRequest::new(
            "cid",
            "C",
            &email("c@outlook.com"),
            &detection,
            &Credentials::password("pw"),
            scopes(),
        )
        .unwrap_err();
        assert_eq!(error, PayloadError::OAuthRequired { provider: nylas });
        assert!(error.to_string().contains("sign in with Microsoft"), "{error}");
        let request = AuthorizeRequest::new(
            "cid",
            "C",
            &email("c@outlook.com"),
            &detection,
            &oauth(),
            scopes(),
        )
        .unwrap();
        assert_eq!(body(&request)["provider"], "office365", "{nylas}");
        assert_eq!(body(&request)["settings"]["microsoft_refresh_token"], "refresh-tok");
    }
}

#[test]
fn unverified_detections_need_the_callers_consent_in_every_builder() {
    let mut unverified = imap_detection();
    unverified.trust = Trust::Unverified;
    unverified.source = Source::Srv;
    unverified.evidence = "SRV records of example.net".into();
    let email = email("u@example.net");
    let password = Credentials::password("pw");
    let v2 = AuthorizeRequest::new("cid", "U", &email, &unverified, &password, scopes());
    assert!(
        matches!(&v2, Err(PayloadError::Unverified { found_by: Source::Srv, evidence }) if evidence.contains("SRV")),
        "{v2:?}"
    );
    assert!(v2.unwrap_err().to_string().contains("confirm the servers"));
    let v3 = CustomAuthRequest::new(&email, &unverified, &password);
    assert!(matches!(v3, Err(PayloadError::Unverified { .. })), "{v3:?}");

    let consent = Consent::none().accept_unverified();
    let request = AuthorizeRequest::with_consent(
        "cid",
        "U",
        &email,
        &unverified,
        &password,
        scopes(),
        consent,
    )
    .unwrap();
    assert_eq!(body(&request)["settings"]["ssl_required"], true, "TLS stays required");
    assert!(CustomAuthRequest::with_consent(&email, &unverified, &password, consent).is_ok());
}

#[test]
fn servers_outside_the_users_domain_are_warnings() {
    let email = email("kim@corp.example");
    let hosted = detection(
        NylasProvider::Imap,
        vec![server(Protocol::Imap, "imap.hoster.example", 993, Security::Tls, "%EMAILADDRESS%")],
        vec![server(Protocol::Smtp, "mail.corp.example", 465, Security::Tls, "%EMAILADDRESS%")],
    );
    let password = Credentials::password("pw");
    let request = AuthorizeRequest::new("cid", "K", &email, &hosted, &password, scopes()).unwrap();
    assert_eq!(request.warnings().len(), 1, "{:?}", request.warnings());
    assert!(request.warnings()[0].contains("imap.hoster.example is outside corp.example"));
    let v3 = CustomAuthRequest::new(&email, &hosted, &password).unwrap();
    assert_eq!(v3.warnings(), request.warnings());
}

#[test]
fn exchange_logs_in_with_the_login_autodiscover_named() {
    let mut detection = detection(NylasProvider::Exchange, vec![], vec![]);
    detection.exchange = Some(ExchangeEndpoints {
        ews_url: None,
        eas_host: Some("mail.corp.example".into()),
        login: Some("CORP\\eve".into()),
    });
    let email = email("eve@corp.example");
    let password = Credentials::password("pw");
    let v2 = AuthorizeRequest::new("cid", "Eve", &email, &detection, &password, scopes()).unwrap();
    assert_eq!(body(&v2)["settings"]["username"], "CORP\\eve");
    let v3 = CustomAuthRequest::new(&email, &detection, &password).unwrap();
    assert_eq!(serde_json::to_value(&v3).unwrap()["settings"]["username"], "CORP\\eve");
    // What the user typed as a login still wins.
    let typed = Credentials::password_with_username("pw", "eve.x");
    let v2 = AuthorizeRequest::new("cid", "Eve", &email, &detection, &typed, scopes()).unwrap();
    assert_eq!(body(&v2)["settings"]["username"], "eve.x");
}

#[test]
fn reauthentication_needs_an_account_id() {
    let email = email("e@example.net");
    let request = AuthorizeRequest::new(
        "cid",
        "E",
        &email,
        &imap_detection(),
        &Credentials::password("pw"),
        scopes(),
    )
    .unwrap();
    assert_eq!(
        request.reauthenticate("  ").unwrap_err(),
        PayloadError::Empty { field: "account id" }
    );
}

#[test]
fn a_separate_smtp_login_reaches_both_bodies() {
    let email = email("dave@example.net");
    let creds =
        Credentials::password("imap-pw").with_smtp_login(Some("dave-out".into()), "smtp-pw");
    let v2 =
        AuthorizeRequest::new("cid", "D", &email, &imap_detection(), &creds, scopes()).unwrap();
    let settings = &body(&v2)["settings"];
    assert_eq!(
        (settings["imap_username"].as_str(), settings["imap_password"].as_str()),
        (Some("dave"), Some("imap-pw"))
    );
    assert_eq!(
        (settings["smtp_username"].as_str(), settings["smtp_password"].as_str()),
        (Some("dave-out"), Some("smtp-pw"))
    );
    let v3 = CustomAuthRequest::new(&email, &imap_detection(), &creds).unwrap();
    let settings = &serde_json::to_value(&v3).unwrap()["settings"];
    assert_eq!(
        (settings["smtp_username"].as_str(), settings["smtp_password"].as_str()),
        (Some("dave-out"), Some("smtp-pw"))
    );
    // Without one, the v3 body has no SMTP login fields at all.
    let plain =
        CustomAuthRequest::new(&email, &imap_detection(), &Credentials::password("pw")).unwrap();
    assert!(serde_json::to_value(&plain).unwrap()["settings"].get("smtp_password").is_none());
    assert!(!format!("{creds:?}").contains("smtp-pw"), "no secret in Debug");
}

#[test]
fn a_provider_without_mail_access_is_refused_whatever_the_credentials_and_consent() {
    let mut sealed = imap_detection();
    sealed.auth_hint = AuthHint::Unsupported;
    sealed.provider.name = "Sealed Mail".into();
    let email = email("dave@example.net");
    for credentials in [Credentials::password("pw"), oauth()] {
        let v2 = AuthorizeRequest::with_consent(
            "cid",
            "Dave",
            &email,
            &sealed,
            &credentials,
            scopes(),
            Consent::none().accept_unverified().allow_plaintext(),
        );
        assert_eq!(v2.err(), Some(PayloadError::Unsupported { provider: "Sealed Mail".into() }));
        let v3 = CustomAuthRequest::new(&email, &sealed, &credentials);
        assert!(matches!(v3, Err(PayloadError::Unsupported { .. })), "{v3:?}");
    }
}

/// `NylasProvider::requires_oauth` is the rule the request builders follow: exactly those
/// providers refuse a password, in v2 and in v3.
#[test]
fn exactly_the_providers_that_require_oauth_refuse_a_password() {
    for nylas in NylasProvider::ALL {
        let mut found = imap_detection();
        found.provider = ProviderInfo::new(nylas.as_str(), nylas.as_str(), nylas);
        let password = Credentials::password("pw");
        let v2 =
            AuthorizeRequest::new("cid", "C", &email("c@example.net"), &found, &password, scopes());
        let v3 = CustomAuthRequest::new(&email("c@example.net"), &found, &password);
        assert_eq!(v2.is_err(), nylas.requires_oauth(), "v2 {nylas}: {:?}", v2.err());
        assert_eq!(v3.is_err(), nylas.requires_oauth(), "v3 {nylas}: {:?}", v3.err());
    }
}
