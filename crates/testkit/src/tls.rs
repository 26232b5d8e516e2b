//! A throwaway certificate authority and a TLS front for plain HTTP mocks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// A test CA and a server certificate it signed for some host names.
pub struct TestCa {
    ca: CertificateDer<'static>,
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl TestCa {
    /// A new CA and a server certificate for `hosts` (names like `autoconfig.example.test`
    /// or `*.example.test`).
    pub fn new(hosts: &[&str]) -> Self {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "nativeauth test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let names: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let leaf_params = CertificateParams::new(names).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        Self {
            ca: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            chain: vec![leaf.der().clone(), ca_cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()),
        }
    }

    /// The CA certificate, to add to a client's trust roots.
    pub fn root(&self) -> CertificateDer<'static> {
        self.ca.clone()
    }

    /// The CA certificate in PEM (for `--ca-file`).
    pub fn root_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A TLS acceptor presenting the server certificate (no ALPN: for mail protocols).
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        let mut config = self.server_config();
        config.alpn_protocols.clear();
        TlsAcceptor::from(Arc::new(config))
    }

    fn server_config(&self) -> rustls::ServerConfig {
        // rustls 0.23.48 deprecates this for lacking post-quantum key exchange. The test
        // servers keep it: they must speak what nativeauth's clients speak, and
        // `nativeauth_core::crypto_provider` is checked equal to it (a test-only crate, so
        // no adopter builds this call).
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), PrivateKeyDer::Pkcs8(self.key.clone_key()))
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }
}

/// Terminates TLS on 127.0.0.1 and forwards the plain bytes to `upstream` (a mockito server),
/// so mockito's request matching works over https.
pub struct TlsFront {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    _shutdown: crate::Shutdown,
}

impl TlsFront {
    /// Starts the front on a free port.
    pub fn start(ca: &TestCa, upstream: SocketAddr) -> Self {
        Self::start_with_delays(ca, upstream, &[])
    }

    /// Starts the front with per-host delays: a connection whose TLS server name is in
    /// `delays` waits that long before it is forwarded (to simulate slow servers).
    pub fn start_with_delays(
        ca: &TestCa,
        upstream: SocketAddr,
        delays: &[(&str, std::time::Duration)],
    ) -> Self {
        let delays: Arc<Vec<(String, std::time::Duration)>> =
            Arc::new(delays.iter().map(|(h, d)| ((*h).to_owned(), *d)).collect());
        let acceptor = TlsAcceptor::from(Arc::new(ca.server_config()));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let (addr, shutdown) = crate::tcp_server(move |tcp| {
            counter.fetch_add(1, Ordering::SeqCst);
            let (acceptor, delays) = (acceptor.clone(), delays.clone());
            async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let name = tls.get_ref().1.server_name().map(str::to_owned);
                if let Some((_, delay)) =
                    delays.iter().find(|(h, _)| Some(h.as_str()) == name.as_deref())
                {
                    tokio::time::sleep(*delay).await;
                }
                let Ok(mut plain) = TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            }
        });
        Self { addr, connections, _shutdown: shutdown }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many TCP connections it has accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
