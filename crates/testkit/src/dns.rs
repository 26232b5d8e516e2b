//! A small authoritative DNS server on 127.0.0.1 (UDP and TCP on the same port).

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// What a name does besides answering normally.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    ServFail,
    Silent,
    Delay(Duration),
    Truncate,
}

/// The records a [`DnsServer`] serves. Names are case-insensitive; a trailing dot is optional.
#[derive(Debug, Clone, Default)]
pub struct Zone {
    records: HashMap<(String, RecordType), Vec<RData>>,
    names: HashSet<String>,
    behaviours: HashMap<String, Behaviour>,
    /// Names whose A answer changes with every query (DNS rebinding), TTL 0.
    rebinding: HashMap<String, (Vec<Ipv4Addr>, Arc<std::sync::atomic::AtomicUsize>)>,
}

fn key(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    lower.strip_suffix('.').unwrap_or(&lower).to_owned()
}

/// A DNS name; labels that are not host-name text (`/evil`) are taken as raw bytes, as a
/// hostile zone may publish them.
fn name(text: &str) -> Name {
    Name::from_ascii(format!("{}.", key(text))).unwrap_or_else(|_| {
        let mut name = Name::from_labels(key(text).split('.').map(str::as_bytes)).unwrap();
        name.set_fqdn(true);
        name
    })
}

impl Zone {
    pub fn new() -> Self {
        Self::default()
    }

    fn add(mut self, owner: &str, rtype: RecordType, data: RData) -> Self {
        self.names.insert(key(owner));
        self.records.entry((key(owner), rtype)).or_default().push(data);
        self
    }

    pub fn mx(self, owner: &str, preference: u16, exchange: &str) -> Self {
        self.add(owner, RecordType::MX, RData::MX(MX::new(preference, name(exchange))))
    }

    /// An SRV record; a target of `"."` means "service not offered".
    pub fn srv(self, owner: &str, priority: u16, weight: u16, port: u16, target: &str) -> Self {
        let target = if target == "." { Name::root() } else { name(target) };
        self.add(owner, RecordType::SRV, RData::SRV(SRV::new(priority, weight, port, target)))
    }

    pub fn a(self, owner: &str, ip: Ipv4Addr) -> Self {
        self.add(owner, RecordType::A, RData::A(A(ip)))
    }

    pub fn aaaa(self, owner: &str, ip: Ipv6Addr) -> Self {
        self.add(owner, RecordType::AAAA, RData::AAAA(AAAA(ip)))
    }

    pub fn cname(self, owner: &str, target: &str) -> Self {
        self.add(owner, RecordType::CNAME, RData::CNAME(CNAME(name(target))))
    }

    /// An A record that answers `answers[0]` to the first query, `answers[1]` to the second,
    /// and so on (the last one repeats), with TTL 0: a DNS rebinding attack.
    pub fn rebinding(mut self, owner: &str, answers: &[Ipv4Addr]) -> Self {
        self.names.insert(key(owner));
        self.rebinding.insert(key(owner), (answers.to_vec(), Arc::default()));
        self
    }

    /// A name that exists but has no records (NOERROR, empty answer, for every type).
    pub fn empty(mut self, owner: &str) -> Self {
        self.names.insert(key(owner));
        self
    }

    /// Queries for this name get SERVFAIL.
    pub fn servfail(mut self, owner: &str) -> Self {
        self.behaviours.insert(key(owner), Behaviour::ServFail);
        self
    }

    /// Queries for this name are never answered.
    pub fn silent(mut self, owner: &str) -> Self {
        self.behaviours.insert(key(owner), Behaviour::Silent);
        self
    }

    /// Answers for this name come after a delay.
    pub fn delay(mut self, owner: &str, delay: Duration) -> Self {
        self.behaviours.insert(key(owner), Behaviour::Delay(delay));
        self
    }

    /// UDP answers for this name are truncated (TC), so clients must retry over TCP.
    pub fn truncate_udp(mut self, owner: &str) -> Self {
        self.behaviours.insert(key(owner), Behaviour::Truncate);
        self
    }

    /// The answer to one query, or `None` for "do not answer".
    async fn answer(&self, query: &Message, over_udp: bool) -> Option<Message> {
        let question = query.queries.first()?;
        let owner = key(&question.name().to_ascii());
        let rtype = question.query_type();
        let mut response = Message::response(query.metadata.id, query.metadata.op_code);
        response.metadata.recursion_desired = query.metadata.recursion_desired;
        response.metadata.recursion_available = true;
        response.metadata.authoritative = true;
        response.add_query(question.clone());
        match self.behaviours.get(&owner) {
            Some(Behaviour::Silent) => return None,
            Some(Behaviour::ServFail) => {
                response.metadata.response_code = ResponseCode::ServFail;
                return Some(response);
            }
            Some(Behaviour::Delay(delay)) => tokio::time::sleep(*delay).await,
            Some(Behaviour::Truncate) if over_udp => {
                response.metadata.truncation = true;
                return Some(response);
            }
            _ => {}
        }
        // A name exists when it owns records or has a name below it (an empty non-terminal,
        // RFC 8020): `srv.test` exists when `_imaps._tcp.srv.test` does.
        let below = format!(".{owner}");
        if !self.names.contains(&owner) && !self.names.iter().any(|n| n.ends_with(&below)) {
            response.metadata.response_code = ResponseCode::NXDomain;
            return Some(response);
        }
        if let (Some((answers, served)), RecordType::A) = (self.rebinding.get(&owner), rtype) {
            let n = served.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Some(ip) = answers.get(n).or(answers.last()) {
                response.add_answer(Record::from_rdata(name(&owner), 0, RData::A(A(*ip))));
            }
            return Some(response);
        }
        let mut current = owner;
        // Follow CNAMEs within the zone (bounded, so a loop cannot hang the server).
        for _ in 0..8 {
            if rtype != RecordType::CNAME {
                if let Some(targets) = self.records.get(&(current.clone(), RecordType::CNAME)) {
                    for target in targets {
                        response.add_answer(Record::from_rdata(name(&current), 60, target.clone()));
                    }
                    if let Some(RData::CNAME(CNAME(next))) = targets.first() {
                        current = key(&next.to_ascii());
                        continue;
                    }
                }
            }
            if let Some(found) = self.records.get(&(current.clone(), rtype)) {
                for data in found {
                    response.add_answer(Record::from_rdata(name(&current), 60, data.clone()));
                }
            }
            break;
        }
        Some(response)
    }
}

/// A DNS server on 127.0.0.1 serving a [`Zone`]; it records every query it receives.
pub struct DnsServer {
    addr: SocketAddr,
    queries: Arc<Mutex<Vec<(String, RecordType)>>>,
    _shutdown: crate::Shutdown,
}

impl DnsServer {
    /// Starts serving on a free port.
    pub fn start(zone: Zone) -> Self {
        let queries = Arc::new(Mutex::new(Vec::new()));
        let log = queries.clone();
        let (addr, shutdown) = crate::background(move |ready| async move {
            // UDP and TCP on the same port: bind UDP first, then TCP on its port.
            let (udp, tcp) = loop {
                let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let port = udp.local_addr().unwrap().port();
                if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)).await {
                    break (udp, tcp);
                }
            };
            ready.send(udp.local_addr().unwrap()).unwrap();
            let zone = Arc::new(zone);
            let udp = Arc::new(udp);
            let mut buf = vec![0u8; 4096];
            loop {
                tokio::select! {
                    received = udp.recv_from(&mut buf) => {
                        let Ok((len, peer)) = received else { continue };
                        let Ok(query) = Message::from_vec(&buf[..len]) else { continue };
                        record(&log, &query);
                        let (zone, udp) = (zone.clone(), udp.clone());
                        tokio::spawn(async move {
                            if let Some(response) = zone.answer(&query, true).await {
                                let _ = udp.send_to(&response.to_vec().unwrap(), peer).await;
                            }
                        });
                    }
                    accepted = tcp.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        tokio::spawn(serve_tcp(stream, zone.clone(), log.clone()));
                    }
                }
            }
        });
        Self { addr, queries, _shutdown: shutdown }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every query received so far: (name without trailing dot, lowercase; type).
    pub fn queries(&self) -> Vec<(String, RecordType)> {
        self.queries.lock().unwrap().clone()
    }

    /// How many queries for `name` and `rtype` were received.
    pub fn count(&self, name: &str, rtype: RecordType) -> usize {
        let name = key(name);
        self.queries().iter().filter(|(n, t)| *n == name && *t == rtype).count()
    }
}

/// One DNS-over-TCP connection: 2-byte length, message, repeated.
async fn serve_tcp(
    mut stream: tokio::net::TcpStream,
    zone: Arc<Zone>,
    log: Arc<Mutex<Vec<(String, RecordType)>>>,
) {
    let mut len = [0u8; 2];
    while stream.read_exact(&mut len).await.is_ok() {
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let Ok(query) = Message::from_vec(&body) else { return };
        record(&log, &query);
        let Some(response) = zone.answer(&query, false).await else { continue };
        let bytes = response.to_vec().unwrap();
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

fn record(log: &Mutex<Vec<(String, RecordType)>>, query: &Message) {
    if let Some(question) = query.queries.first() {
        log.lock().unwrap().push((key(&question.name().to_ascii()), question.query_type()));
    }
}
