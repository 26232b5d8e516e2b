//! The shared cache's value format: a discovery run as compact, versioned JSON. Only what
//! the engine caches (public answers, never credentials, never a run personal to one user);
//! a value of another version, or one that does not parse, is a miss.

use serde::{Deserialize, Serialize};

use crate::engine::cache::CachedRun;
use crate::model::{
    AuthHint, AuthMethod, AutoconfigOrigin, Detection, ExchangeEndpoints, Failure, FailureKind,
    NylasProvider, Protocol, ProviderInfo, Security, Server, Source, Trust, UsernameTemplate,
};

/// Bumped whenever the format changes: instances of different versions then simply miss.
pub(super) const VERSION: u8 = 3;

/// The first byte of a signed value: its envelope's format.
const FORMAT: u8 = 2;

#[derive(Serialize, Deserialize)]
struct WireRun {
    v: u8,
    detections: Vec<WireDetection>,
    failure: Option<(FailureKind, String)>,
    suggested_domain: Option<String>,
    /// How old the run was when it was stored, in milliseconds: a reader backdates it, so an
    /// answer does not live a second full lifetime in another instance's memory.
    #[serde(default)]
    age_ms: u64,
}

#[derive(Serialize, Deserialize)]
struct WireDetection {
    id: String,
    name: String,
    nylas: NylasProvider,
    documentation: Option<String>,
    app_password_url: Option<String>,
    incoming: Vec<WireServer>,
    outgoing: Vec<WireServer>,
    exchange: Option<(Option<String>, Option<String>)>,
    auth: AuthHint,
    source: WireSource,
    trust: Trust,
    evidence: String,
    notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    requires: Vec<crate::model::RequiredStep>,
}

#[derive(Serialize, Deserialize)]
struct WireServer {
    protocol: Protocol,
    host: String,
    port: u16,
    security: Security,
    username: String,
    auth: Vec<AuthMethod>,
}

/// Every source, lossless. Kept apart from `Source` on purpose: `Source`'s serde form is the
/// JSON report's, which merges the three autoconfig origins, while the fleet must get back
/// exactly the source another instance found; and the wire is frozen per [`VERSION`], so a
/// new `Source` variant changes `Source` without changing what older instances read.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum WireSource {
    Catalogue,
    Mx,
    Autoconfig,
    WellKnown,
    MxAutoconfig,
    Ispdb,
    MxIspdb,
    Autodiscover,
    Srv,
    Guess,
}

impl From<Source> for WireSource {
    fn from(source: Source) -> Self {
        match source {
            Source::Catalogue => Self::Catalogue,
            Source::Mx => Self::Mx,
            Source::Autoconfig(AutoconfigOrigin::Subdomain) => Self::Autoconfig,
            Source::Autoconfig(AutoconfigOrigin::WellKnown) => Self::WellKnown,
            Source::Autoconfig(AutoconfigOrigin::MxDomain) => Self::MxAutoconfig,
            Source::Ispdb => Self::Ispdb,
            Source::MxIspdb => Self::MxIspdb,
            Source::Autodiscover => Self::Autodiscover,
            Source::Srv => Self::Srv,
            Source::Guess => Self::Guess,
        }
    }
}

impl From<WireSource> for Source {
    fn from(source: WireSource) -> Self {
        match source {
            WireSource::Catalogue => Self::Catalogue,
            WireSource::Mx => Self::Mx,
            WireSource::Autoconfig => Self::Autoconfig(AutoconfigOrigin::Subdomain),
            WireSource::WellKnown => Self::Autoconfig(AutoconfigOrigin::WellKnown),
            WireSource::MxAutoconfig => Self::Autoconfig(AutoconfigOrigin::MxDomain),
            WireSource::Ispdb => Self::Ispdb,
            WireSource::MxIspdb => Self::MxIspdb,
            WireSource::Autodiscover => Self::Autodiscover,
            WireSource::Srv => Self::Srv,
            WireSource::Guess => Self::Guess,
        }
    }
}

fn server_to_wire(server: &Server) -> WireServer {
    WireServer {
        protocol: server.protocol,
        host: server.host.clone(),
        port: server.port,
        security: server.security,
        username: server.username.as_str().to_owned(),
        auth: server.auth.clone(),
    }
}

fn server_from_wire(server: WireServer) -> Server {
    Server {
        protocol: server.protocol,
        host: server.host,
        port: server.port,
        security: server.security,
        username: UsernameTemplate::new(server.username),
        auth: server.auth,
    }
}

/// Why a shared value was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rejected {
    /// An envelope of another format (or too short to be one).
    Format,
    /// Not signed with this fleet's key for this key and expiry: written by someone else,
    /// moved from another key, or its expiry changed.
    Signature,
    /// Signed, but past its signed expiry (an old value restored).
    Expired,
    /// Signed, but the body is of another version or does not parse.
    Body,
}

impl Rejected {
    /// Every reason, in a fixed order (for counters).
    pub(super) const ALL: [Self; 4] = [Self::Format, Self::Signature, Self::Expired, Self::Body];

    /// The reason's label (metrics, logs).
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Self::Format => "format",
            Self::Signature => "signature",
            Self::Expired => "expired",
            Self::Body => "body",
        }
    }
}

/// What the tag covers: the format byte, the full key the value lives under (length-prefixed),
/// the expiry (Unix milliseconds) and the body. A value moved to another key, restored after
/// its expiry or re-dated no longer verifies.
fn signed_bytes(store_key: &str, expires_ms: u64, body: &[u8]) -> Vec<u8> {
    let key = store_key.as_bytes();
    let mut signed = Vec::with_capacity(1 + 8 + key.len() + 8 + body.len());
    signed.push(FORMAT);
    signed.extend_from_slice(&(key.len() as u64).to_be_bytes());
    signed.extend_from_slice(key);
    signed.extend_from_slice(&expires_ms.to_be_bytes());
    signed.extend_from_slice(body);
    signed
}

/// The run as a signed envelope for `store_key`, valid until `expires_ms` (Unix
/// milliseconds): format byte, expiry, tag, body. `None` for a run that must not be shared.
pub(super) fn encode_signed(
    run: &CachedRun,
    key: &ring::hmac::Key,
    store_key: &str,
    expires_ms: u64,
) -> Option<Vec<u8>> {
    let body = encode(run)?;
    let tag = ring::hmac::sign(key, &signed_bytes(store_key, expires_ms, &body));
    let mut envelope = vec![FORMAT];
    envelope.extend_from_slice(&expires_ms.to_be_bytes());
    envelope.extend_from_slice(tag.as_ref());
    envelope.extend_from_slice(&body);
    Some(envelope)
}

/// The run in the envelope `bytes` read under `store_key` at `now_ms`, when this fleet's `key`
/// signed it for that key and it has not expired.
pub(super) fn decode_signed(
    bytes: &[u8],
    key: &ring::hmac::Key,
    store_key: &str,
    now_ms: u64,
) -> Result<CachedRun, Rejected> {
    let (&format, rest) = bytes.split_first().ok_or(Rejected::Format)?;
    if format != FORMAT {
        return Err(Rejected::Format);
    }
    let (expires, rest) = rest.split_at_checked(8).ok_or(Rejected::Format)?;
    let (tag, body) = rest.split_at_checked(TAG_LEN).ok_or(Rejected::Format)?;
    let mut expires_be = [0u8; 8];
    expires_be.copy_from_slice(expires);
    let expires_ms = u64::from_be_bytes(expires_be);
    ring::hmac::verify(key, &signed_bytes(store_key, expires_ms, body), tag)
        .map_err(|_| Rejected::Signature)?;
    // The signed expiry decides, not the store's: a value restored with a new TTL is old.
    if expires_ms <= now_ms {
        return Err(Rejected::Expired);
    }
    decode(body).ok_or(Rejected::Body)
}

/// HMAC-SHA256 tags are 32 bytes.
const TAG_LEN: usize = 32;

/// The run as bytes, or `None` for a run that must not be shared (one user's answers).
pub(super) fn encode(run: &CachedRun) -> Option<Vec<u8>> {
    if run.owner.is_some() {
        return None;
    }
    let wire = WireRun {
        v: VERSION,
        detections: run
            .detections
            .iter()
            .map(|d| WireDetection {
                id: d.provider.id.clone(),
                name: d.provider.name.clone(),
                nylas: d.provider.nylas,
                documentation: d.provider.documentation.clone(),
                app_password_url: d.provider.app_password_url.clone(),
                incoming: d.incoming.iter().map(server_to_wire).collect(),
                outgoing: d.outgoing.iter().map(server_to_wire).collect(),
                exchange: d.exchange.as_ref().map(|e| (e.ews_url.clone(), e.eas_host.clone())),
                auth: d.auth_hint,
                source: d.source.into(),
                trust: d.trust,
                evidence: d.evidence.clone(),
                notes: d.notes.clone(),
                requires: d.requires.clone(),
            })
            .collect(),
        failure: run.failure.as_ref().map(|f| (f.kind, f.message.clone())),
        suggested_domain: run.suggested_domain.clone(),
        age_ms: u64::try_from(run.at.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    serde_json::to_vec(&wire).ok()
}

/// The run `bytes` hold, or `None` when they are of another version or do not parse.
pub(super) fn decode(bytes: &[u8]) -> Option<CachedRun> {
    let wire: WireRun = serde_json::from_slice(bytes).ok()?;
    if wire.v != VERSION {
        return None;
    }
    let detections = wire
        .detections
        .into_iter()
        .map(|d| {
            let mut provider = ProviderInfo::new(d.id, d.name, d.nylas);
            provider.documentation = d.documentation;
            provider.app_password_url = d.app_password_url;
            let mut detection = Detection::new(provider, d.source.into(), d.trust, d.evidence);
            detection.incoming = d.incoming.into_iter().map(server_from_wire).collect();
            detection.outgoing = d.outgoing.into_iter().map(server_from_wire).collect();
            detection.exchange = d.exchange.map(|(ews_url, eas_host)| ExchangeEndpoints {
                ews_url,
                eas_host,
                login: None,
            });
            detection.auth_hint = d.auth;
            detection.notes = d.notes;
            detection.requires = d.requires;
            detection
        })
        .collect();
    Some(CachedRun {
        detections,
        failure: wire.failure.map(|(kind, message)| Failure { kind, message }),
        suggested_domain: wire.suggested_domain,
        at: backdated(wire.age_ms),
        owner: None,
    })
}

/// Now, minus `age_ms` (now itself when the clock cannot go that far back).
fn backdated(age_ms: u64) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_sub(std::time::Duration::from_millis(age_ms)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    fn run(sources: &[Source]) -> CachedRun {
        let detections = sources
            .iter()
            .map(|&source| {
                let mut d = Detection::new(
                    ProviderInfo::new("p", "P", NylasProvider::Exchange),
                    source,
                    Trust::Unverified,
                    "why",
                );
                d.incoming = vec![Server {
                    protocol: Protocol::Imap,
                    host: "imap.example.com".into(),
                    port: 993,
                    security: Security::Tls,
                    username: UsernameTemplate::new("%EMAILLOCALPART%"),
                    auth: vec![AuthMethod::PasswordCleartext, AuthMethod::OAuth2],
                }];
                d.exchange = Some(ExchangeEndpoints {
                    ews_url: Some("https://mail.example.com/EWS/Exchange.asmx".into()),
                    eas_host: None,
                    login: None,
                });
                d.auth_hint = AuthHint::AppPassword;
                d.notes = vec!["a note".into()];
                d.requires = vec![crate::model::RequiredStep {
                    step: crate::model::PreLoginStep::EnableImap,
                    url: Some("https://example.com/imap".into()),
                }];
                d
            })
            .collect();
        CachedRun {
            detections,
            failure: None,
            suggested_domain: Some("gmail.com".into()),
            at: std::time::Instant::now(),
            owner: None,
        }
    }

    #[test]
    fn a_run_survives_the_round_trip_with_every_source_distinct() {
        let sources = [
            Source::Catalogue,
            Source::Mx,
            Source::Autoconfig(AutoconfigOrigin::Subdomain),
            Source::Autoconfig(AutoconfigOrigin::WellKnown),
            Source::Autoconfig(AutoconfigOrigin::MxDomain),
            Source::Ispdb,
            Source::MxIspdb,
            Source::Autodiscover,
            Source::Srv,
            Source::Guess,
        ];
        let mut original = run(&sources);
        original.at = std::time::Instant::now() - std::time::Duration::from_secs(30);
        let back = decode(&encode(&original).unwrap()).unwrap();
        assert_eq!(back.detections, original.detections);
        let age = back.at.elapsed().as_secs();
        assert!((29..=31).contains(&age), "an answer keeps its age across instances: {age} s");
        assert_eq!(back.suggested_domain, original.suggested_domain);

        let mut failed = run(&[]);
        failed.failure = Some(Failure { kind: FailureKind::NullMx, message: "no mail".into() });
        let back = decode(&encode(&failed).unwrap()).unwrap();
        assert_eq!(back.failure, failed.failure);
    }

    #[test]
    fn values_are_bound_to_the_fleets_key_their_place_and_their_time() {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"fleet key");
        let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"someone else");
        let place = "nativeauth:nativeauth:v3:run:brightwave.net";
        let signed = encode_signed(&run(&[Source::Mx]), &key, place, 10_000).unwrap();
        assert!(decode_signed(&signed, &key, place, 9_999).is_ok());
        assert_eq!(decode_signed(&signed, &other, place, 0).err(), Some(Rejected::Signature));
        let moved = "nativeauth:nativeauth:v3:run:quietmail.org";
        assert_eq!(decode_signed(&signed, &key, moved, 0).err(), Some(Rejected::Signature));
        assert_eq!(decode_signed(&signed, &key, place, 10_000).err(), Some(Rejected::Expired));
        // Re-dating the envelope breaks the tag.
        let mut redated = signed.clone();
        redated[1..9].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(decode_signed(&redated, &key, place, 20_000).err(), Some(Rejected::Signature));
        assert_eq!(
            decode_signed(&encode(&run(&[Source::Mx])).unwrap(), &key, place, 0).err(),
            Some(Rejected::Format)
        );
        let mut tampered = signed.clone();
        let last = tampered.len() - 2;
        tampered[last] ^= 1;
        assert_eq!(decode_signed(&tampered, &key, place, 0).err(), Some(Rejected::Signature));
        assert_eq!(decode_signed(b"short", &key, place, 0).err(), Some(Rejected::Format));
        assert_eq!(decode_signed(b"", &key, place, 0).err(), Some(Rejected::Format));
    }

    #[test]
    fn personal_runs_are_never_encoded_and_foreign_values_are_misses() {
        let mut personal = run(&[Source::Autodiscover]);
        personal.owner = Some("alice@example.com".into());
        assert!(encode(&personal).is_none());

        let other_version = String::from_utf8(encode(&run(&[Source::Mx])).unwrap())
            .unwrap()
            .replacen(&format!("\"v\":{VERSION}"), "\"v\":255", 1);
        assert!(decode(other_version.as_bytes()).is_none());
        assert!(decode(b"\x00\xffnot json").is_none());
        assert!(decode(b"{\"v\":1}").is_none());
    }
}
