//! The two OAuth providers this server signs users in with.

/// The two providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OAuthProvider {
    /// Google accounts and Google Workspace.
    Google,
    /// Microsoft work and school accounts (Microsoft 365) and personal accounts.
    Microsoft,
}

impl OAuthProvider {
    /// The provider named in a route (`google`, `microsoft`).
    pub(crate) fn from_path(name: &str) -> Option<Self> {
        match name {
            "google" => Some(Self::Google),
            "microsoft" => Some(Self::Microsoft),
            _ => None,
        }
    }

    /// The route name.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Microsoft => "microsoft",
        }
    }
}
