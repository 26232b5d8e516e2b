//! What a user must do at their provider before another app can sign in: switch IMAP on, make
//! an app password, and so on. Catalogue data, shown before the password is asked for.

use serde::{Deserialize, Serialize};

/// A step the user must take at the provider before the first sign-in from another app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PreLoginStep {
    /// IMAP access must be switched on in the web settings.
    EnableImap,
    /// An app password (or "authorization code") is the password to use.
    AppPassword,
    /// Two-step verification must be on before an app password can be made.
    TwoFactor,
    /// A mail password distinct from the account's password must be set.
    SeparateMailPassword,
    /// IMAP is offered on paid plans only.
    PaidPlan,
    /// Mail is reached only through a program on the user's computer (a bridge).
    Bridge,
}

impl PreLoginStep {
    /// Every step, in the order a user takes them.
    pub const ALL: [Self; 6] = [
        Self::PaidPlan,
        Self::EnableImap,
        Self::TwoFactor,
        Self::AppPassword,
        Self::SeparateMailPassword,
        Self::Bridge,
    ];

    /// The wire name (`enable-imap`, `app-password`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EnableImap => "enable-imap",
            Self::AppPassword => "app-password",
            Self::TwoFactor => "two-factor",
            Self::SeparateMailPassword => "separate-mail-password",
            Self::PaidPlan => "paid-plan",
            Self::Bridge => "bridge",
        }
    }

    /// The step named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == name)
    }
}

/// A step, with the provider's page that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredStep {
    /// The step.
    pub step: PreLoginStep,
    /// Where the provider explains it.
    #[serde(default)]
    pub url: Option<String>,
}
