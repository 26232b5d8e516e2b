//! Entry points shared by the fuzz targets (`fuzz/`) and the corpus regression test: each
//! feeds arbitrary bytes to one parser and checks invariants that must hold for any input.
//! Not part of the supported API.

use crate::model::EmailAddress;

/// The email parser: never panics; what it accepts is normalised and re-parses to itself.
pub fn email(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(email) = EmailAddress::parse(text) {
        let domain = email.domain();
        assert!(domain.is_ascii() && !domain.bytes().any(|b| b.is_ascii_uppercase()), "{domain:?}");
        assert!(!domain.ends_with('.'));
        assert!(email.as_str().len() <= crate::model::EmailAddress::MAX_LEN);
        let again = EmailAddress::parse(email.as_str()).expect("a normalised address parses again");
        assert_eq!(again, email);
    }
}
