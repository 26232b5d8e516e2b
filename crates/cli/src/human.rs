//! The human-readable report: what support staff read to see why an address resolves as it
//! does.

use std::io::{self, Write};

use nativeauth::{Detection, EmailAddress, FailureKind, Report, Server};
use nativeauth::{Outcome, Step};

/// Writes the report.
pub(crate) fn write_report(out: &mut impl Write, report: &Report, offline: bool) -> io::Result<()> {
    let email = &report.email;
    writeln!(out, "{email}")?;
    match &report.best {
        Some(best) => write_detection(out, best, email)?,
        None => {
            let message = report.failure.as_ref().map_or("nothing found", |f| f.message.as_str());
            writeln!(out, "  {message}")?;
            if offline && report.failure.as_ref().is_some_and(|f| f.kind == FailureKind::NotFound) {
                writeln!(out, "  run without --offline to ask DNS and the domain's own servers")?;
            }
        }
    }
    if let Some(suggestion) = &report.suggestion {
        writeln!(out, "  did you mean {suggestion}?")?;
    }
    for (i, alternative) in report.alternatives.iter().enumerate() {
        writeln!(out, "\nalternative {}:", i + 1)?;
        write_detection(out, alternative, email)?;
    }
    write_trace(out, report)
}

fn write_detection(out: &mut impl Write, d: &Detection, email: &EmailAddress) -> io::Result<()> {
    let p = &d.provider;
    writeln!(out, "  provider    {} (id {}, Nylas provider \"{}\")", p.name, p.id, p.nylas)?;
    writeln!(out, "  found by    {}: {}", d.source, d.evidence)?;
    writeln!(out, "  trust       {}: {}", d.trust, d.trust.meaning())?;
    writeln!(out, "  login page  {}: {}", d.auth_hint, d.auth_hint.login_page_advice())?;
    for required in &d.requires {
        let url = required.url.as_deref().map(|url| format!(" ({url})")).unwrap_or_default();
        writeln!(
            out,
            "  first       {}: {}{url}",
            required.step.as_str(),
            step_advice(required.step)
        )?;
    }
    for server in &d.incoming {
        write_server(out, "incoming", server, email)?;
    }
    for server in &d.outgoing {
        write_server(out, "outgoing", server, email)?;
    }
    if let Some(exchange) = &d.exchange {
        if let Some(url) = &exchange.ews_url {
            writeln!(out, "  exchange    EWS {url}")?;
        }
        if let Some(host) = &exchange.eas_host {
            writeln!(out, "  exchange    ActiveSync host {host}")?;
        }
    }
    for note in &d.notes {
        writeln!(out, "  note        {note}")?;
    }
    Ok(())
}

/// What a step asks of the user, in a few words.
fn step_advice(step: nativeauth::PreLoginStep) -> &'static str {
    use nativeauth::PreLoginStep as S;
    match step {
        S::EnableImap => "switch IMAP access on in the provider's web settings",
        S::AppPassword => "create an app password and use it instead of the account password",
        S::TwoFactor => "turn on two-step verification (needed before an app password)",
        S::SeparateMailPassword => "set a separate mail password and use it here",
        S::PaidPlan => "IMAP access needs a paid plan",
        S::Bridge => "mail is reached only through the provider's program on the computer",
        _ => "a step at the provider",
    }
}

fn write_server(
    out: &mut impl Write,
    role: &str,
    s: &Server,
    email: &EmailAddress,
) -> io::Result<()> {
    let auth: Vec<&str> = s.auth.iter().map(|a| a.as_str()).collect();
    writeln!(
        out,
        "  {role:<10}  {:<5} {:<32} {:<8} user {}  auth {}",
        s.protocol.as_str(),
        s.address(),
        s.security.as_str(),
        s.username.render(email),
        auth.join(", ")
    )
}

/// Width of the waterfall bars, in characters.
const BAR: usize = 24;

/// The trace as a waterfall: when each step started and how long it took, drawn to scale, so
/// a support engineer sees at a glance what ran in parallel and what the answer waited for.
fn write_trace(out: &mut impl Write, report: &Report) -> io::Result<()> {
    let total = report.elapsed.as_secs_f64().max(1e-6);
    // Milliseconds to three places, as `elapsed_ms`, `start_ms` and `ms` in `--json`.
    writeln!(out, "\ntrace ({} ms in all; bars to scale)", millis(report.elapsed))?;
    writeln!(
        out,
        "  {:>9} {:>9}  {:<BAR$}  {:<12} {:<9} {:<40} detail",
        "start ms", "took ms", "timeline", "source", "outcome", "target"
    )?;
    for step in &report.trace {
        write_step(out, step, total)?;
    }
    if let Some(best) = &report.best {
        let cancelled = report.trace.iter().filter(|s| s.outcome == Outcome::Cancelled).count();
        let mut why = format!(
            "winner: {} ({}) — sources rank catalogue > mx > autoconfig > ispdb > MX-derived > autodiscover > srv > guess, verified first",
            best.source, best.trust
        );
        if !report.alternatives.is_empty() {
            let others: Vec<String> = report
                .alternatives
                .iter()
                .map(|d| format!("{} {} ({})", d.provider.id, d.source, d.trust))
                .collect();
            why.push_str(&format!("; runners-up: {}", others.join(", ")));
        }
        if cancelled > 0 {
            why.push_str(&format!("; {cancelled} step(s) cancelled as unable to beat it"));
        }
        writeln!(out, "  {why}")?;
    }
    Ok(())
}

fn write_step(out: &mut impl Write, step: &Step, total: f64) -> io::Result<()> {
    let start = step.start.as_secs_f64();
    let duration = step.duration.as_secs_f64();
    let offset = ((start / total) * BAR as f64).floor() as usize;
    let offset = offset.min(BAR - 1);
    let length = (((duration / total) * BAR as f64).round() as usize).clamp(1, BAR - offset);
    let bar = format!(
        "{}{}{}",
        " ".repeat(offset),
        "#".repeat(length),
        " ".repeat(BAR - offset - length)
    );
    writeln!(
        out,
        "  {:>9} {:>9} |{bar}| {:<12} {:<9} {:<40} {}",
        millis(step.start),
        millis(step.duration),
        step.source,
        step.outcome.as_str(),
        step.target,
        step.detail
    )
}

/// A duration in milliseconds to three places, rounded as the JSON report rounds it.
fn millis(duration: std::time::Duration) -> String {
    format!("{:.3}", duration.as_micros() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::time::Duration;

    use super::*;

    #[test]
    fn the_trace_labels_its_columns_and_its_total_is_the_json_elapsed_ms() {
        let report = Report {
            email: EmailAddress::parse("bob@unknown.example").unwrap(),
            best: None,
            alternatives: Vec::new(),
            trace: vec![Step {
                source: "catalogue".into(),
                target: "unknown.example".into(),
                start: Duration::from_micros(14),
                duration: Duration::from_micros(18),
                outcome: Outcome::Nothing,
                detail: "no entry".into(),
            }],
            elapsed: Duration::from_micros(53),
            failure: None,
            suggestion: None,
        };
        let mut out = Vec::new();
        write_trace(&mut out, &report).unwrap();
        let text = String::from_utf8(out).unwrap();
        let json = serde_json::to_value(report.to_json()).unwrap();
        let elapsed_ms = json["elapsed_ms"].as_f64().unwrap();
        assert!(text.contains(&format!("trace ({elapsed_ms:.3} ms in all")), "{text}");
        let header = text.lines().nth(2).unwrap();
        for label in ["start ms", "took ms", "timeline", "source", "outcome", "target", "detail"] {
            assert!(header.contains(label), "{label} missing from {header:?}");
        }
        assert!(text.contains("    0.014     0.018 |"), "{text}");
    }
}
