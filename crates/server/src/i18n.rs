//! Every user-facing string, in English and German, chosen by `Accept-Language`.

use axum::http::HeaderMap;

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    De,
}

impl Lang {
    /// The first of the user's languages we speak (English otherwise).
    pub(crate) fn from_headers(headers: &HeaderMap) -> Self {
        let accepted = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        for range in accepted.split(',') {
            let tag = range.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
            if tag == "de" || tag.starts_with("de-") {
                return Self::De;
            }
            if tag == "en" || tag.starts_with("en-") {
                return Self::En;
            }
        }
        Self::En
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }
}

/// A message of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Msg {
    SignInTitle,
    Email,
    Password,
    AppPassword,
    Name,
    Continue,
    SignIn,
    SignInWithGoogle,
    SignInWithMicrosoft,
    DidYouMean,
    ConfirmServers,
    IncomingServer,
    OutgoingServer,
    Port,
    InvalidEmail,
    Success,
    Help,
    TooManyAttempts,
    Busy,
    SessionExpired,
    ApiRefused,
    ApiUnavailable,
    NoPasswordHere,
    Unsupported,
    OAuthDenied,
    OAuthRestart,
    OAuthNoRefreshToken,
    OAuthFailed,
    OAuthWrongAccount,
    InvalidPort,
    EnterServers,
    LinkInvalid,
    AddressPinned,
    ServerOutsideDomain,
    ServerNotAHostName,
    TypedServersOff,
    OAuthIdentity,
    OAuthOtherAccount,
    ReasonNotFound,
    ReasonOffline,
    ReasonNoSuchDomain,
    ReasonNoMail,
    ReasonNoAnswer,
    SandboxBanner,
    StepsTitle,
    StepEnableImap,
    StepAppPassword,
    StepTwoFactor,
    StepSeparateMailPassword,
    StepPaidPlan,
    StepBridge,
    HowTo,
    ShowPassword,
    HidePassword,
    HostedExchange,
}

/// The text of `msg` in `lang`.
pub(crate) fn t(lang: Lang, msg: Msg) -> &'static str {
    use Msg::*;
    match (lang, msg) {
        (Lang::En, SignInTitle) => "Connect your mailbox",
        (Lang::De, SignInTitle) => "Postfach verbinden",
        (Lang::En, Email) => "Email address",
        (Lang::De, Email) => "E-Mail-Adresse",
        (Lang::En, Password) => "Password",
        (Lang::De, Password) => "Passwort",
        (Lang::En, AppPassword) => "App password",
        (Lang::De, AppPassword) => "App-Passwort",
        (Lang::En, Name) => "Your name",
        (Lang::De, Name) => "Ihr Name",
        (Lang::En, Continue) => "Continue",
        (Lang::De, Continue) => "Weiter",
        (Lang::En, SignIn) => "Connect",
        (Lang::De, SignIn) => "Verbinden",
        (Lang::En, SignInWithGoogle) => "Sign in with Google",
        (Lang::De, SignInWithGoogle) => "Mit Google anmelden",
        (Lang::En, SignInWithMicrosoft) => "Sign in with Microsoft",
        (Lang::De, SignInWithMicrosoft) => "Mit Microsoft anmelden",
        (Lang::En, DidYouMean) => "Did you mean",
        (Lang::De, DidYouMean) => "Meinten Sie",
        (Lang::En, ConfirmServers) => {
            "We could not verify these servers. Check them before you send your password:"
        }
        (Lang::De, ConfirmServers) => {
            "Diese Server konnten wir nicht bestätigen. Prüfen Sie sie, bevor Sie Ihr Passwort senden:"
        }
        (Lang::En, IncomingServer) => "Incoming server (IMAP)",
        (Lang::De, IncomingServer) => "Posteingangsserver (IMAP)",
        (Lang::En, OutgoingServer) => "Outgoing server (SMTP)",
        (Lang::De, OutgoingServer) => "Postausgangsserver (SMTP)",
        (Lang::En, Port) => "Port",
        (Lang::De, Port) => "Port",
        (Lang::En, InvalidEmail) => "This is not a valid email address.",
        (Lang::De, InvalidEmail) => "Das ist keine gültige E-Mail-Adresse.",
        (Lang::En, Success) => "Your mailbox is connected.",
        (Lang::De, Success) => "Ihr Postfach ist verbunden.",
        (Lang::En, Help) => "Help",
        (Lang::De, Help) => "Hilfe",
        (Lang::En, TooManyAttempts) => "Too many attempts. Please wait a moment and try again.",
        (Lang::De, TooManyAttempts) => {
            "Zu viele Versuche. Bitte warten Sie einen Moment und versuchen Sie es erneut."
        }
        (Lang::En, Busy) => "We are very busy right now. Please try again in a few seconds.",
        (Lang::De, Busy) => {
            "Gerade sind sehr viele Anfragen unterwegs. Bitte versuchen Sie es in ein paar \
             Sekunden erneut."
        }
        (Lang::En, SessionExpired) => "The page expired. Please try again.",
        (Lang::De, SessionExpired) => "Die Seite ist abgelaufen. Bitte versuchen Sie es erneut.",
        (Lang::En, ApiRefused) => "The mail provider did not accept the password.",
        (Lang::De, ApiRefused) => "Der E-Mail-Anbieter hat das Passwort nicht akzeptiert.",
        (Lang::En, ApiUnavailable) => {
            "The service is not available right now. Please try again later."
        }
        (Lang::De, ApiUnavailable) => {
            "Der Dienst ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut."
        }
        (Lang::En, EnterServers) => {
            "Enter your mail servers (your provider's help pages list them):"
        }
        (Lang::De, EnterServers) => {
            "Geben Sie Ihre Mailserver ein (die Hilfeseiten Ihres Anbieters nennen sie):"
        }
        (Lang::En, InvalidPort) => "A port is a number from 1 to 65535.",
        (Lang::De, InvalidPort) => "Ein Port ist eine Zahl von 1 bis 65535.",
        (Lang::En, NoPasswordHere) => {
            "This provider does not take a password here: use the sign-in button."
        }
        (Lang::De, NoPasswordHere) => {
            "Dieser Anbieter nimmt hier kein Passwort an: Nutzen Sie die Anmelde-Schaltfläche."
        }
        (Lang::En, OAuthDenied) => {
            "You did not allow access, so nothing was connected. Sign in again to allow it."
        }
        (Lang::De, OAuthDenied) => {
            "Sie haben den Zugriff nicht erlaubt, daher wurde nichts verbunden. Melden Sie sich \
             erneut an, um ihn zu erlauben."
        }
        (Lang::En, OAuthRestart) => "This sign-in expired or was already used. Please start again.",
        (Lang::De, OAuthRestart) => {
            "Diese Anmeldung ist abgelaufen oder wurde schon verwendet. Bitte beginnen Sie neu."
        }
        (Lang::En, OAuthNoRefreshToken) => {
            "The provider did not grant lasting access. Remove this app's access in your account \
             settings, then sign in again."
        }
        (Lang::De, OAuthNoRefreshToken) => {
            "Der Anbieter hat keinen dauerhaften Zugriff gewährt. Entfernen Sie den Zugriff dieser \
             App in Ihren Kontoeinstellungen und melden Sie sich erneut an."
        }
        (Lang::En, OAuthFailed) => {
            "The sign-in with the provider failed. Please try again in a moment."
        }
        (Lang::De, OAuthFailed) => {
            "Die Anmeldung beim Anbieter ist fehlgeschlagen. Bitte versuchen Sie es gleich erneut."
        }
        (Lang::En, OAuthWrongAccount) => {
            "This address does not belong to that provider. Use the sign-in the page offers."
        }
        (Lang::De, OAuthWrongAccount) => {
            "Diese Adresse gehört nicht zu diesem Anbieter. Nutzen Sie die angebotene Anmeldung."
        }
        (Lang::En, LinkInvalid) => {
            "This sign-in link is invalid or has expired; go back to the app and start again."
        }
        (Lang::De, LinkInvalid) => {
            "Dieser Anmeldelink ist ungültig oder abgelaufen; kehren Sie zur App zurück und \
             beginnen Sie neu."
        }
        (Lang::En, AddressPinned) => {
            "This sign-in link is for another email address. Use the address the app asked for, \
             or go back to the app."
        }
        (Lang::De, AddressPinned) => {
            "Dieser Anmeldelink gilt für eine andere E-Mail-Adresse. Nutzen Sie die Adresse, nach \
             der die App gefragt hat, oder kehren Sie zur App zurück."
        }
        (Lang::En, ServerOutsideDomain) => {
            "For an address at {domain}, the mail servers must belong to {domain} or to the \
             mail provider it uses."
        }
        (Lang::De, ServerOutsideDomain) => {
            "Für eine Adresse bei {domain} müssen die Mailserver zu {domain} oder zu dessen \
             Mail-Anbieter gehören."
        }
        (Lang::En, ServerNotAHostName) => {
            "Enter the server's name, such as imap.example.com, not a number or localhost."
        }
        (Lang::De, ServerNotAHostName) => {
            "Geben Sie den Namen des Servers ein, etwa imap.example.com, keine Nummer und nicht \
             localhost."
        }
        (Lang::En, TypedServersOff) => "This page cannot connect servers you enter yourself.",
        (Lang::De, TypedServersOff) => {
            "Diese Seite kann keine selbst eingegebenen Server verbinden."
        }
        (Lang::En, OAuthIdentity) => {
            "The provider did not confirm which email address you signed in with, so nothing was \
             connected. Please try again."
        }
        (Lang::De, OAuthIdentity) => {
            "Der Anbieter hat nicht bestätigt, mit welcher E-Mail-Adresse Sie sich angemeldet \
             haben, daher wurde nichts verbunden. Bitte versuchen Sie es erneut."
        }
        (Lang::En, OAuthOtherAccount) => {
            "You signed in as {signed_in}, but this sign-in link is for {expected}. Sign in with \
             that account, or go back to the app."
        }
        (Lang::De, OAuthOtherAccount) => {
            "Sie haben sich als {signed_in} angemeldet, dieser Anmeldelink gilt aber für \
             {expected}. Melden Sie sich mit diesem Konto an oder kehren Sie zur App zurück."
        }
        (Lang::En, ReasonNotFound) => {
            "We could not find the settings for this address. Enter your mail servers below."
        }
        (Lang::De, ReasonNotFound) => {
            "Wir haben die Einstellungen für diese Adresse nicht gefunden. Geben Sie Ihre \
             Mailserver unten ein."
        }
        (Lang::En, ReasonOffline) => {
            "This page cannot look up new email providers right now. Enter your mail servers \
             below."
        }
        (Lang::De, ReasonOffline) => {
            "Diese Seite kann gerade keine neuen Anbieter nachschlagen. Geben Sie Ihre Mailserver \
             unten ein."
        }
        (Lang::En, ReasonNoSuchDomain) => {
            "This email domain does not exist. Please check the address for typos."
        }
        (Lang::De, ReasonNoSuchDomain) => {
            "Diese E-Mail-Domain gibt es nicht. Bitte prüfen Sie die Adresse auf Tippfehler."
        }
        (Lang::En, ReasonNoMail) => "This domain does not accept email. Please check the address.",
        (Lang::De, ReasonNoMail) => {
            "Diese Domain nimmt keine E-Mails an. Bitte prüfen Sie die Adresse."
        }
        (Lang::En, ReasonNoAnswer) => {
            "The mail servers of this domain did not answer. Try again in a moment, or enter your \
             mail servers below."
        }
        (Lang::De, ReasonNoAnswer) => {
            "Die Mailserver dieser Domain haben nicht geantwortet. Versuchen Sie es gleich \
             erneut oder geben Sie Ihre Mailserver unten ein."
        }
        (Lang::En, SandboxBanner) => {
            "Sandbox: for development only. Nothing here reaches a real mailbox."
        }
        (Lang::De, SandboxBanner) => {
            "Sandbox: nur für die Entwicklung. Nichts hier erreicht ein echtes Postfach."
        }
        (Lang::En, StepsTitle) => "Before you sign in:",
        (Lang::De, StepsTitle) => "Bevor Sie sich anmelden:",
        (Lang::En, StepEnableImap) => {
            "Turn on IMAP access in your email account's settings on the provider's website."
        }
        (Lang::De, StepEnableImap) => {
            "Schalten Sie den IMAP-Zugriff in den Einstellungen Ihres Postfachs auf der Website \
             des Anbieters ein."
        }
        (Lang::En, StepAppPassword) => {
            "Create an app password and enter it below instead of your usual password."
        }
        (Lang::De, StepAppPassword) => {
            "Erstellen Sie ein App-Passwort und geben Sie es unten statt Ihres üblichen \
             Passworts ein."
        }
        (Lang::En, StepTwoFactor) => "Turn on two-step verification first: app passwords need it.",
        (Lang::De, StepTwoFactor) => {
            "Schalten Sie zuerst die Bestätigung in zwei Schritten ein: App-Passwörter setzen sie \
             voraus."
        }
        (Lang::En, StepSeparateMailPassword) => {
            "Set a separate password for email programs and enter it below."
        }
        (Lang::De, StepSeparateMailPassword) => {
            "Legen Sie ein eigenes Passwort für E-Mail-Programme fest und geben Sie es unten ein."
        }
        (Lang::En, StepPaidPlan) => "Your provider offers this only with a paid plan.",
        (Lang::De, StepPaidPlan) => "Ihr Anbieter bietet das nur mit einem bezahlten Tarif an.",
        (Lang::En, StepBridge) => {
            "Your provider's mail can only be reached through its own program on your computer."
        }
        (Lang::De, StepBridge) => {
            "Die E-Mails Ihres Anbieters sind nur über sein eigenes Programm auf Ihrem Computer \
             erreichbar."
        }
        (Lang::En, HowTo) => "How",
        (Lang::De, HowTo) => "So geht's",
        (Lang::En, ShowPassword) => "Show password",
        (Lang::De, ShowPassword) => "Passwort anzeigen",
        (Lang::En, HidePassword) => "Hide password",
        (Lang::De, HidePassword) => "Passwort verbergen",
        (Lang::En, HostedExchange) => {
            "Your organisation's mail settings point to {host}. Sign in only if your IT team \
             uses that provider; if you are not sure, ask them first."
        }
        (Lang::De, HostedExchange) => {
            "Die Mail-Einstellungen Ihrer Organisation verweisen auf {host}. Melden Sie sich nur \
             an, wenn Ihre IT diesen Anbieter nutzt; fragen Sie im Zweifel vorher nach."
        }
        (Lang::En, Unsupported) => {
            "This provider does not let other apps reach your mail, so it cannot be connected here."
        }
        (Lang::De, Unsupported) => {
            "Dieser Anbieter lässt andere Apps nicht an Ihre E-Mails, daher kann er hier nicht \
             verbunden werden."
        }
    }
}
