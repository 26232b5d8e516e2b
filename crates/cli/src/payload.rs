//! `--payload v2|v3`: the request body a detection leads to, with placeholders for secrets.

use nativeauth::connect::{AuthorizeRequest, Consent, Credentials, CustomAuthRequest, Scopes};
use nativeauth::{Detection, EmailAddress};

use crate::args::{Args, PayloadVersion};

/// Placeholders printed where the real request carries secrets.
const PASSWORD: &str = "<PASSWORD>";
const OAUTH_CLIENT_ID: &str = "<OAUTH_CLIENT_ID>";
const OAUTH_CLIENT_SECRET: &str = "<OAUTH_CLIENT_SECRET>";
const REFRESH_TOKEN: &str = "<REFRESH_TOKEN>";
const REDIRECT_URI: &str = "<REDIRECT_URI>";

/// The body as pretty JSON (fields in wire order), plus warnings for stderr.
pub(crate) fn build(
    args: &Args,
    version: PayloadVersion,
    email: &EmailAddress,
    detection: &Detection,
) -> anyhow::Result<(String, Vec<String>)> {
    let wants_oauth = detection.provider.nylas.requires_oauth();
    let credentials = if wants_oauth {
        Credentials::oauth(
            OAUTH_CLIENT_ID,
            OAUTH_CLIENT_SECRET,
            REFRESH_TOKEN,
            Some(REDIRECT_URI.into()),
        )
    } else {
        Credentials::password(PASSWORD)
    };
    let mut consent = Consent::none();
    if args.accept_unverified {
        consent = consent.accept_unverified();
    }
    if args.allow_plaintext {
        consent = consent.allow_plaintext();
    }
    Ok(match version {
        PayloadVersion::V2 => {
            let scopes: Scopes = args.scopes.parse()?;
            let request = AuthorizeRequest::with_consent(
                &args.client_id,
                &args.name,
                email,
                detection,
                &credentials,
                scopes,
                consent,
            )?;
            (serde_json::to_string_pretty(&request)?, request.warnings().to_vec())
        }
        PayloadVersion::V3 => {
            let request = CustomAuthRequest::with_consent(email, detection, &credentials, consent)?;
            (serde_json::to_string_pretty(&request)?, request.warnings().to_vec())
        }
    })
}
