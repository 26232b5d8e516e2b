//! `--check-login`: after discovery, sign in to the detected servers with the password from
//! standard input and say what is wrong, in words and as JSON (`"login": {…}`).

use std::io::{self, BufRead, Write};
use std::time::Duration;

use nativeauth::connect::{Consent, Credentials};
use nativeauth::providers::imap::{LoginCheck, LoginCheckError, LoginCheckKind, check_login};
use nativeauth::secrecy::SecretString;
use nativeauth::{Discovery, Report};

use crate::args::Args;
use crate::{exit_status, human, print_json, status};

/// How long each server may take to answer the sign-in.
const SERVER_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn run(args: &Args, discovery: &Discovery, report: &Report) -> anyhow::Result<u8> {
    let Some(detection) = &report.best else {
        write_report(args, report, None)?;
        let _ = writeln!(io::stderr(), "discover: no servers to check for {}", report.email);
        return Ok(exit_status(report));
    };
    let Some(password) = read_password()? else {
        let _ = writeln!(
            io::stderr(),
            "discover: --check-login reads the password from standard input"
        );
        return Ok(status::USAGE);
    };
    let mut consent = Consent::none();
    if args.accept_unverified {
        consent = consent.accept_unverified();
    }
    if args.allow_plaintext {
        consent = consent.allow_plaintext();
    }
    let credentials = Credentials::Password { password, username: None, smtp: None };
    let ctx = discovery.context();
    let check =
        check_login(&ctx, &report.email, detection, &credentials, consent, SERVER_TIMEOUT).await;
    let check = match check {
        Ok(check) => check,
        Err(error) => {
            write_report(args, report, None)?;
            let hint = match error {
                LoginCheckError::Unverified => " (check the servers, then add --accept-unverified)",
                LoginCheckError::Plaintext { .. } => " (add --allow-plaintext to send it anyway)",
                _ => "",
            };
            let _ = writeln!(io::stderr(), "discover: not checked: {error}{hint}");
            let code = if matches!(error, LoginCheckError::NoServer(_)) {
                status::NOTHING
            } else {
                status::USAGE
            };
            return Ok(code);
        }
    };
    write_report(args, report, Some(&check))?;
    Ok(match check.kind {
        LoginCheckKind::Ok => status::DETECTED,
        kind if kind.is_refusal() => status::REFUSED,
        _ => status::NETWORK,
    })
}

/// The first line of standard input, without its line ending; `None` when empty.
fn read_password() -> anyhow::Result<Option<SecretString>> {
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    Ok((!password.is_empty()).then(|| SecretString::from(password.to_owned())))
}

fn write_report(args: &Args, report: &Report, check: Option<&LoginCheck>) -> anyhow::Result<()> {
    if args.json {
        let mut value = serde_json::to_value(report.to_json())?;
        if let (Some(object), Some(check)) = (value.as_object_mut(), check) {
            object.insert("login".into(), serde_json::to_value(check)?);
        }
        return print_json(&value);
    }
    let mut out = io::stdout().lock();
    human::write_report(&mut out, report, args.offline)?;
    if let Some(check) = check {
        let server = check.protocol.map_or(String::new(), |p| format!(" ({p})"));
        writeln!(out, "\nlogin       {}{server}: {}", check.kind.as_str(), check.message)?;
        if let Some(url) = &check.help_url {
            writeln!(out, "            help: {url}")?;
        }
        if let Some(diagnostic) = &check.diagnostic {
            writeln!(out, "            the server said: {diagnostic}")?;
        }
    }
    out.flush()?;
    Ok(())
}
