//! What providers see during one discovery: the configuration, the shared network lookups
//! (memoised for the run), and the trace.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use url::Url;

use super::dns::{DnsError, MxAnswer, MxRecord, SrvRecord};
use super::http::{FetchError, FetchRequest, Fetched, GuardedHttp};
use super::memo::{IpMemo, Memo, with_run_dns};
use super::network::Network;
use super::tcp::TcpConnectError;
use crate::config::DiscoveryConfig;
use crate::model::{Outcome, Step};
use crate::net::error::SourceError;

/// The state of one discovery run, shared by every provider of that run.
///
/// Providers read the configuration from it, ask DNS and HTTP through it — each distinct
/// question is asked once per run, however many providers ask it — and record what they try
/// with [`DiscoveryContext::timer`].
pub struct DiscoveryContext {
    config: Arc<DiscoveryConfig>,
    network: Option<Arc<Network>>,
    started: Instant,
    trace: Mutex<Vec<Step>>,
    mx: Memo<Result<MxAnswer, DnsError>>,
    /// Shared with the HTTP client's resolver while this run's requests are in flight.
    ips: Arc<IpMemo>,
    srv: Memo<Result<Vec<SrvRecord>, DnsError>>,
    cnames: Memo<Result<Option<String>, DnsError>>,
    fetches: Memo<Result<Fetched, FetchError>>,
}

impl std::fmt::Debug for DiscoveryContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryContext")
            .field("config", &self.config)
            .field("online", &self.network.is_some())
            .finish_non_exhaustive()
    }
}

impl DiscoveryContext {
    /// A context for a run that started at `started`, without network access: what a
    /// provider's unit test uses to call `detect_offline`.
    pub fn new(config: Arc<DiscoveryConfig>, started: Instant) -> Self {
        Self::with_network(config, None, started)
    }

    /// A context with network access (unless the configuration is offline).
    pub(crate) fn with_network(
        config: Arc<DiscoveryConfig>,
        network: Option<Arc<Network>>,
        started: Instant,
    ) -> Self {
        let network = if config.offline { None } else { network };
        Self {
            config,
            network,
            started,
            trace: Mutex::new(Vec::new()),
            mx: Memo::new(),
            ips: Arc::new(Memo::new()),
            srv: Memo::new(),
            cnames: Memo::new(),
            fetches: Memo::new(),
        }
    }

    /// The run's configuration.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// Whether this run stays off the network (the engine then calls no provider's `detect`).
    pub fn is_offline(&self) -> bool {
        self.network.is_none()
    }

    /// The options of provider type `T` (its defaults when the application set none).
    pub fn options<T: std::any::Any + Send + Sync + Default>(&self) -> Arc<T> {
        self.config.provider_options::<T>()
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn network(&self, target: &str) -> Result<&Network, SourceError> {
        self.network.as_deref().ok_or_else(|| SourceError::Offline { target: target.to_owned() })
    }

    /// The MX records of `domain`, most preferred first; asked once per run. Empty when the
    /// domain has none or does not exist.
    ///
    /// # Errors
    /// [`SourceError`] when offline, on timeout or DNS failure.
    pub async fn mx(&self, domain: &str) -> Result<Vec<MxRecord>, SourceError> {
        Ok(self.mx_answer(domain).await?.records)
    }

    /// The whole MX answer (with whether the domain exists), asked once per run.
    pub(crate) async fn mx_answer(&self, domain: &str) -> Result<MxAnswer, SourceError> {
        let network = self.network(domain)?;
        let result = self
            .mx
            .get_or_run(domain, || async {
                let timer = self.timer("dns", &format!("MX {domain}"));
                let result = network.dns.mx(domain).await.map(|answer| MxAnswer {
                    records: self
                        .valid_hosts(&format!("MX {domain}"), answer.records, |r| &r.exchange),
                    ..answer
                });
                match &result {
                    Ok(answer) if answer.no_such_domain => {
                        timer.finish(Outcome::Nothing, "the domain does not exist (NXDOMAIN)");
                    }
                    Ok(answer) if answer.is_null_mx() => {
                        timer.finish(Outcome::Nothing, "null MX: the domain accepts no mail");
                    }
                    Ok(answer) if answer.records.is_empty() => {
                        timer.finish(Outcome::Nothing, "no MX records");
                    }
                    Ok(answer) => {
                        let hosts: Vec<String> = answer
                            .records
                            .iter()
                            .map(|r| format!("{} {}", r.preference, r.exchange))
                            .collect();
                        timer.finish(Outcome::Found, &hosts.join(", "));
                    }
                    Err(error) => timer.fail(&SourceError::from(error.clone())),
                }
                result
            })
            .await;
        result.map_err(SourceError::from)
    }

    /// Whether any DNS question about `domain` or a name below it has been answered in this
    /// run (even "no such record"): its servers are alive.
    pub(crate) fn domain_answered(&self, domain: &str) -> bool {
        let below = format!(".{domain}");
        let within = |name: &str| name == domain || name.ends_with(&below);
        self.mx.any_answered(within)
            || self.srv.any_answered(within)
            || self.cnames.any_answered(within)
            || self.ips.any_answered(within)
    }

    /// The addresses of `host` (A and AAAA), asked once per run; empty when it does not exist.
    ///
    /// # Errors
    /// [`SourceError`] when offline, on timeout or DNS failure.
    pub async fn ips(&self, host: &str) -> Result<Vec<std::net::IpAddr>, SourceError> {
        let network = self.network(host)?;
        let result = self
            .ips
            .get_or_run(host, || async {
                let timer = self.timer("dns", &format!("A/AAAA {host}"));
                let result = network.dns.ips(host).await;
                match &result {
                    Ok(ips) if ips.is_empty() => timer.finish(Outcome::Nothing, "no address"),
                    Ok(ips) => {
                        let ips: Vec<String> = ips.iter().map(ToString::to_string).collect();
                        timer.finish(Outcome::Found, &ips.join(", "));
                    }
                    Err(error) => timer.fail(&SourceError::from(error.clone())),
                }
                result
            })
            .await;
        result.map_err(SourceError::from)
    }

    /// Keeps the records whose host is a valid host name (or empty: "no service"), dropping the
    /// rest with a trace step: DNS carries any octet in a label, and a name such as
    /// `mx.\/evil.example` must never become part of a URL or a connection.
    fn valid_hosts<R>(
        &self,
        question: &str,
        records: impl IntoIterator<Item = R>,
        host: impl Fn(&R) -> &String,
    ) -> Vec<R> {
        let (valid, invalid): (Vec<R>, Vec<R>) = records
            .into_iter()
            .partition(|r| host(r).is_empty() || crate::domain::is_host_name(host(r)));
        if !invalid.is_empty() {
            let names: Vec<String> = invalid.iter().map(|r| format!("{:?}", host(r))).collect();
            self.timer("dns", question).finish(
                Outcome::Error,
                &format!("dropped, not a valid host name: {}", names.join(", ")),
            );
        }
        valid
    }

    /// The most preferred MX host of `domain` (a null MX — `.` — does not count); `None` when
    /// the domain has no usable MX.
    ///
    /// # Errors
    /// As for [`DiscoveryContext::mx`].
    pub async fn primary_mx(&self, domain: &str) -> Result<Option<MxRecord>, SourceError> {
        Ok(self.mx(domain).await?.into_iter().find(|r| !r.exchange.is_empty()))
    }

    /// The SRV records of `name`, in RFC 2782 order; asked once per run.
    ///
    /// # Errors
    /// [`SourceError`] when offline, on timeout or DNS failure.
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvRecord>, SourceError> {
        let network = self.network(name)?;
        let result = self
            .srv
            .get_or_run(name, || async {
                let timer = self.timer("dns", &format!("SRV {name}"));
                let result = network.dns.srv(name).await.map(|records| {
                    self.valid_hosts(&format!("SRV {name}"), records, |r| &r.target)
                });
                match &result {
                    Ok(records) if records.is_empty() => {
                        timer.finish(Outcome::Nothing, "no SRV records")
                    }
                    Ok(records) => {
                        let targets: Vec<String> = records
                            .iter()
                            .map(|r| {
                                if r.target.is_empty() {
                                    ".".into()
                                } else {
                                    format!("{}:{}", r.target, r.port)
                                }
                            })
                            .collect();
                        timer.finish(Outcome::Found, &targets.join(", "));
                    }
                    Err(error) => timer.fail(&SourceError::from(error.clone())),
                }
                result
            })
            .await;
        result.map_err(SourceError::from)
    }

    /// The CNAME target of `name`, if any; asked once per run.
    ///
    /// # Errors
    /// [`SourceError`] when offline, on timeout or DNS failure.
    pub async fn cname(&self, name: &str) -> Result<Option<String>, SourceError> {
        let network = self.network(name)?;
        let result = self
            .cnames
            .get_or_run(name, || async {
                let timer = self.timer("dns", &format!("CNAME {name}"));
                let result = network.dns.cname(name).await.map(|target| {
                    let valid = self.valid_hosts(&format!("CNAME {name}"), target, |t| t);
                    valid.into_iter().next()
                });
                match &result {
                    Ok(Some(target)) => timer.finish(Outcome::Found, target),
                    Ok(None) => timer.finish(Outcome::Nothing, "no CNAME"),
                    Err(error) => timer.fail(&SourceError::from(error.clone())),
                }
                result
            })
            .await;
        result.map_err(SourceError::from)
    }

    /// GETs a URL through the guarded client (redirects by our policy); fetched once per run.
    /// The trace step is recorded by the caller, which knows what the body means.
    ///
    /// # Errors
    /// [`FetchError`] for the guard, the scheme rule, redirects, timeouts, network failures.
    pub async fn fetch(&self, url: &Url, allow_http: bool) -> Result<Fetched, FetchError> {
        let Some(network) = self.network.as_deref() else {
            return Err(FetchError::Failed { url: url.to_string(), reason: "offline".into() });
        };
        let key = format!("{allow_http} {url}");
        self.fetches
            .get_or_run(&key, || async {
                let request = FetchRequest::get(url.clone()).allow_http(allow_http);
                match network.http() {
                    Ok(http) => with_run_dns(&self.ips, http.fetch(&request)).await,
                    Err(error) => {
                        Err(FetchError::Failed { url: url.to_string(), reason: error.to_string() })
                    }
                }
            })
            .await
    }

    /// The guarded HTTP client itself. Prefer [`DiscoveryContext::send`], which also shares the
    /// run's DNS answers.
    ///
    /// # Errors
    /// [`SourceError`] when offline or when TLS cannot be set up.
    pub fn http(&self, target: &str) -> Result<&GuardedHttp, SourceError> {
        let network = self.network(target)?;
        network.http().map_err(|source| SourceError::Setup { target: target.to_owned(), source })
    }

    /// Sends a request that is not memoised (a POST, a request with credentials) through the
    /// guarded client, its host names resolved through this run's memo.
    ///
    /// # Errors
    /// [`FetchError`] for the guard, the scheme rule, redirects, timeouts, network failures,
    /// and when the run is offline or TLS cannot be set up.
    pub async fn send(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        let url = request.url.to_string();
        let Some(network) = self.network.as_deref() else {
            return Err(FetchError::Failed { url, reason: "offline".into() });
        };
        match network.http() {
            Ok(http) => with_run_dns(&self.ips, http.fetch(request)).await,
            Err(error) => Err(FetchError::Failed { url, reason: error.to_string() }),
        }
    }

    /// The fully verifying TLS configuration (system roots plus the configured extra roots,
    /// no ALPN), for providers that speak a protocol over TLS themselves.
    ///
    /// # Errors
    /// [`SourceError`] when offline or when TLS cannot be set up.
    pub fn tls_config(&self, target: &str) -> Result<Arc<rustls::ClientConfig>, SourceError> {
        let network = self.network(target)?;
        network.tls().map_err(|source| SourceError::Setup { target: target.to_owned(), source })
    }

    /// A TCP connection to `host:port` through the address guard: every address of the host
    /// is checked before anything connects.
    ///
    /// # Errors
    /// [`TcpConnectError`] when offline, when the host does not resolve, is refused, or does not
    /// accept the connection.
    pub async fn connect_tcp(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(TcpStream, std::net::SocketAddr), TcpConnectError> {
        let Some(network) = self.network.as_deref() else {
            return Err(TcpConnectError::Unavailable("offline".into()));
        };
        // The addresses come from the run's memo: probing four ports of one host asks DNS once.
        let ips = match self.ips(host).await {
            Ok(ips) => ips,
            Err(SourceError::Dns(error)) => return Err(TcpConnectError::Dns(error)),
            Err(other) => return Err(TcpConnectError::Unavailable(other.to_string())),
        };
        super::tcp::connect(&network.policy, host, &ips, port).await
    }

    /// Starts timing a step; [`StepTimer::finish`] records it in the trace.
    pub fn timer(&self, source: &str, target: &str) -> StepTimer<'_> {
        StepTimer {
            ctx: self,
            source: source.to_owned(),
            target: target.to_owned(),
            start: self.elapsed(),
        }
    }

    /// Records a finished step.
    pub fn record(&self, step: Step) {
        tracing::debug!(
            source = %step.source,
            target = %step.target,
            outcome = ?step.outcome,
            detail = %step.detail,
            "discovery step"
        );
        self.trace.lock().unwrap_or_else(PoisonError::into_inner).push(step);
    }

    /// The trace, ordered by start time.
    pub fn into_trace(self) -> Vec<Step> {
        let mut trace = self.trace.into_inner().unwrap_or_else(PoisonError::into_inner);
        trace.sort_by_key(|step| step.start);
        trace
    }
}

/// A step being timed. Dropping it without [`finish`](StepTimer::finish) records nothing.
#[derive(Debug)]
pub struct StepTimer<'a> {
    ctx: &'a DiscoveryContext,
    source: String,
    target: String,
    start: Duration,
}

impl StepTimer<'_> {
    /// Records the step as failed with `error`: a timeout or an error, the error as detail.
    pub fn fail(self, error: &SourceError) {
        let outcome = if error.is_timeout() { Outcome::Timeout } else { Outcome::Error };
        self.finish(outcome, &error.to_string());
    }

    /// Records the step with its outcome and a short reason.
    pub fn finish(self, outcome: Outcome, detail: &str) {
        let duration = self.ctx.elapsed().saturating_sub(self.start);
        self.ctx.record(Step {
            source: self.source,
            target: self.target,
            start: self.start,
            duration,
            outcome,
            detail: detail.to_owned(),
        });
    }
}
