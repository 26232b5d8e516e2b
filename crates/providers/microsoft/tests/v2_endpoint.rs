//! The Microsoft 365 v2 endpoint's parser on real answers and on errors.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use nativeauth_microsoft::parse_v2_json;

#[test]
fn the_v2_json_endpoint() {
    let endpoint = parse_v2_json(
        r#"{"Protocol":"EWS","Url":"https://outlook.office365.com/EWS/Exchange.asmx"}"#,
    )
    .unwrap();
    assert_eq!(
        (endpoint.protocol.as_str(), endpoint.url.as_str()),
        ("EWS", "https://outlook.office365.com/EWS/Exchange.asmx")
    );
    assert!(parse_v2_json(r#"{"ErrorCode":"MailboxNotEnabledForRESTAPI","ErrorMessage":"REST API is not yet supported"}"#).unwrap_err().to_string().contains("MailboxNotEnabledForRESTAPI"));
    assert!(parse_v2_json("<html/>").is_err());
    assert!(parse_v2_json(r#"{"Protocol":"EWS"}"#).is_err());
    assert!(
        parse_v2_json(r#"{"Protocol":"EWS","Url":"http://x.example/EWS/Exchange.asmx"}"#).is_err()
    );
}
