//! What a successful sign-in produced, as the app receives it from `POST /api/exchange` (and an
//! embedding app through its hook): the only place the v2 access token ever leaves the server.

use nativeauth::secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

/// A successful sign-in. `Debug` never shows the access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SignInResult {
    /// This sign-in's id, also in the callback and the server's logs.
    pub event_id: String,
    /// The app's `state` from the start link, if any. Compare it with the one in the app's
    /// own session before trusting anything here.
    pub state: Option<String>,
    /// Whether the page was opened from a start link the app signed. Without
    /// `require_signed_start`, a user can open the page unsigned with the same `state`: an app
    /// that pins addresses checks this too.
    pub signed_link: bool,
    /// Microsoft's tenant id (`tid`) of an account signed in with Microsoft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The mailbox that was linked.
    pub email_address: String,
    /// The provider as the connect API names it (`gmail`, `imap`, `office365`, …).
    pub provider: String,
    /// Where the settings came from (`catalogue`, `mx`, `user`, …).
    pub source: String,
    /// How far the settings were trusted (`verified`, `unverified`).
    pub trust: String,
    /// What the connect API created.
    pub linked: Linked,
}

/// What the connect API created.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "api")]
#[non_exhaustive]
pub enum Linked {
    /// A v2 account.
    #[serde(rename = "v2")]
    V2 {
        /// The account id.
        account_id: String,
        /// The account's access token (secret).
        #[serde(serialize_with = "expose")]
        access_token: SecretString,
        /// The API's own provider name.
        provider: String,
    },
    /// A v3 grant.
    #[serde(rename = "v3")]
    V3 {
        /// The grant id.
        grant_id: String,
        /// The API's own provider name.
        provider: String,
    },
}

fn expose<S: Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

impl SignInResult {
    /// The callback's body: a notification that carries no secret.
    pub(crate) fn notification(&self) -> Value {
        let linked = match &self.linked {
            Linked::V2 { account_id, provider, .. } => json!({
                "api": "v2",
                "account_id": account_id,
                "email_address": self.email_address,
                "provider": provider,
            }),
            Linked::V3 { grant_id, provider } => json!({
                "api": "v3",
                "grant_id": grant_id,
                "email_address": self.email_address,
                "provider": provider,
            }),
        };
        json!({
            "event_id": self.event_id,
            "state": self.state,
            "linked": linked,
            "provider": self.provider,
            "source": self.source,
            "trust": self.trust,
        })
    }

    /// The account or grant id, for logs (never a secret).
    pub(crate) fn linked_id(&self) -> &str {
        match &self.linked {
            Linked::V2 { account_id, .. } => account_id,
            Linked::V3 { grant_id, .. } => grant_id,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn v2() -> SignInResult {
        SignInResult {
            event_id: "e1".into(),
            state: Some("s".into()),
            signed_link: false,
            tenant_id: None,
            email_address: "ann@yahoo.com".into(),
            provider: "yahoo".into(),
            source: "catalogue".into(),
            trust: "verified".into(),
            linked: Linked::V2 {
                account_id: "acc".into(),
                access_token: SecretString::from("tok-secret"),
                provider: "yahoo".into(),
            },
        }
    }

    #[test]
    fn the_token_is_in_the_exchange_value_only() {
        let result = v2();
        let full = serde_json::to_value(&result).unwrap();
        assert_eq!(full["linked"]["access_token"], "tok-secret");
        assert_eq!(full["linked"]["api"], "v2");
        assert!(!format!("{result:?}").contains("tok-secret"));
        assert!(!result.notification().to_string().contains("tok-secret"));
        assert_eq!(result.notification()["linked"]["account_id"], "acc");
        let back: SignInResult = serde_json::from_value(full).unwrap();
        assert!(
            matches!(back.linked, Linked::V2 { ref access_token, .. } if access_token.expose_secret() == "tok-secret")
        );
    }
}
