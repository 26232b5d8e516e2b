//! The built-in catalogue's MX fingerprints: (MX host → entry) vectors, at least three per
//! host, from the hosts' documented MX names (and, where a host documents one name, the forms
//! DNS hands out: any case, a trailing dot); look-alikes that must match nothing; and the
//! filtering and forwarding gateways, which are recognised as such and are never a mail host.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::HashSet;

use nativeauth::AuthHint;
use nativeauth::catalogue::GatewayKind;
use nativeauth::providers::catalogue::builtin;

/// (catalogue id, MX hosts that must select it).
const VECTORS: &[(&str, [&str; 3])] = &[
    ("gmail", ["aspmx.l.google.com", "alt1.aspmx.l.google.com", "smtp.google.com"]),
    (
        "office365",
        [
            "contoso-com.mail.protection.outlook.com",
            "fabrikam-co-uk.mail.protection.outlook.com.",
            "contoso-com.o-v1.mx.microsoft",
        ],
    ),
    (
        "outlook",
        [
            "eur.olc.protection.outlook.com",
            "nam.olc.protection.outlook.com",
            "apc.olc.protection.outlook.com.",
        ],
    ),
    (
        "yahoo",
        ["mta5.am0.yahoodns.net", "mx-biz.mail.am0.yahoodns.net", "mx-aol.mail.gm0.yahoodns.net"],
    ),
    ("icloud", ["mx01.mail.icloud.com", "mx02.mail.icloud.com", "MX01.MAIL.ICLOUD.COM."]),
    ("zoho", ["mx.zoho.com", "mx2.zoho.com", "mx3.zoho.com"]),
    ("zoho.eu", ["mx.zoho.eu", "mx2.zoho.eu", "mx3.zoho.eu"]),
    (
        "fastmail",
        [
            "in1-smtp.messagingengine.com",
            "in2-smtp.messagingengine.com",
            "IN1-SMTP.messagingengine.com.",
        ],
    ),
    ("yandex", ["mx.yandex.net", "mx.yandex.ru", "MX.YANDEX.NET."]),
    ("mailru", ["mxs.mail.ru", "emx.mail.ru", "EMX.mail.ru."]),
    ("gmx", ["mx00.gmx.net", "mx01.gmx.net", "mx00.emig.gmx.net"]),
    ("webde", ["mx-ha02.web.de", "mx-ha03.web.de", "mx00.web.de"]),
    ("emailsrvr.com", ["mx1.emailsrvr.com", "mx2.emailsrvr.com", "MX1.EMAILSRVR.COM."]),
    ("gandi.net", ["spool.mail.gandi.net", "fb.mail.gandi.net", "SPOOL.mail.gandi.net."]),
    (
        "one.com",
        [
            "mx1.pub.mailpod1-cph3.one.com",
            "mx2.pub.mailpod1-cph3.one.com",
            "mx3.pub.mailpod9-cph3.one.com",
        ],
    ),
    ("strato.de", ["smtpin.rzone.de", "SMTPIN.RZONE.DE", "smtpin.rzone.de."]),
    (
        "wildwestdomains.com",
        ["smtp.secureserver.net", "mailstore1.secureserver.net", "mailstore1.secureserver.net."],
    ),
    ("1und1.de", ["mx00.ionos.de", "mx01.ionos.de", "mx00.kundenserver.de"]),
    ("mailboxorg", ["mxext1.mailbox.org", "mxext2.mailbox.org", "mxext3.mailbox.org"]),
    ("ionos.com", ["mx00.ionos.com", "mx01.ionos.com", "MX00.IONOS.COM."]),
    ("ionos.co.uk", ["mx00.ionos.co.uk", "mx01.ionos.co.uk", "mx00.ionos.co.uk."]),
    ("ionos.es", ["mx00.ionos.es", "mx01.ionos.es", "mx00.ionos.es."]),
    ("ionos.fr", ["mx00.ionos.fr", "mx01.ionos.fr", "mx00.ionos.fr."]),
    ("privateemail", ["mx1.privateemail.com", "mx2.privateemail.com", "MX1.privateemail.com."]),
    ("hostinger", ["mx1.hostinger.com", "mx2.hostinger.com", "MX1.HOSTINGER.COM."]),
    ("titan", ["mx1.titan.email", "mx2.titan.email", "MX1.titan.email."]),
    ("infomaniak", ["mta-gw.infomaniak.ch", "mta-gw2.infomaniak.ch", "MTA-GW.infomaniak.ch."]),
    ("kolabnow", ["mx01.kolabnow.com", "mx02.kolabnow.com", "MX01.kolabnow.com."]),
    ("migadu", ["aspmx1.migadu.com", "aspmx2.migadu.com", "ASPMX1.migadu.com."]),
    ("dreamhost", ["mx1.dreamhost.com", "mx2.dreamhost.com", "MX1.DREAMHOST.COM."]),
    ("exmail.qq.com", ["mxbiz1.qq.com", "mxbiz2.qq.com", "MXBIZ1.QQ.COM."]),
    ("qiye.aliyun.com", ["mx1.qiye.aliyun.com", "mxw.mxhichina.com", "mxn.mxhichina.com"]),
    (
        "qiye.163.com",
        [
            "qiye163mx01.mxmail.netease.com",
            "qiye163mx02.mxmail.netease.com",
            "QIYE163MX01.mxmail.netease.com.",
        ],
    ),
    (
        "hostedemail",
        [
            "mx.hover.com.cust.hostedemail.com",
            "mx.a.cust.hostedemail.com",
            "mx.b.cust.hostedemail.com",
        ],
    ),
    ("transip", ["mx.transip.email", "mx2.transip.email", "MX.transip.email."]),
    ("loopia", ["mailcluster.loopia.se", "MAILCLUSTER.LOOPIA.SE", "mailcluster.loopia.se."]),
    ("domeneshop", ["mx.domeneshop.no", "mx2.domeneshop.no", "MX.domeneshop.no."]),
    ("hostpoint", ["mx1.mail.hostpoint.ch", "mx2.mail.hostpoint.ch", "MX1.mail.hostpoint.ch."]),
    ("123-reg", ["mx0.123-reg.co.uk", "mx1.123-reg.co.uk", "MX0.123-reg.co.uk."]),
    ("fasthosts", ["mx0.livemail.co.uk", "mx1.livemail.co.uk", "MX0.livemail.co.uk."]),
    ("qq", ["mx1.qq.com", "mx3.qq.com", "mxdomain.qq.com"]),
    (
        "163.com",
        ["163mx01.mxmail.netease.com", "163mx02.mxmail.netease.com", "163mx03.mxmail.netease.com"],
    ),
    (
        "126.com",
        ["126mx01.mxmail.netease.com", "126mx02.mxmail.netease.com", "126mx00.mxmail.netease.com"],
    ),
    ("seznam.cz", ["mx1.seznam.cz", "mx2.seznam.cz", "MX1.SEZNAM.CZ."]),
    ("tonline", ["mx00.t-online.de", "mx01.t-online.de", "mx02.t-online.de"]),
    ("posteo", ["mx01.posteo.de", "mx02.posteo.de", "MX01.posteo.de."]),
    ("naver.com", ["mx1.naver.com", "mx2.naver.com", "mx3.naver.com"]),
    ("proton", ["mail.protonmail.ch", "mailsec.protonmail.ch", "MAIL.PROTONMAIL.CH."]),
    ("tuta", ["mail.tutanota.de", "MAIL.TUTANOTA.DE", "mail.tutanota.de."]),
];

/// MX hosts that must select no entry: look-alikes of the hosts above.
const LOOK_ALIKES: &[&str] = &[
    "aspmx.l.google.com.evil.example",
    "notgoogle.com",
    "mx1.privateemail.com.attacker.example",
    "privateemail.com",
    "mx00.ionos.com.example.net",
    "mx1.emailsrvr.com-mail.example",
    "evilprotonmail.ch",
    "mail.protonmail.ch.example",
    "mxbiz1.qq.com.cn",
    "mx4.qq.com",
    "qiye163mx01.mxmail.netease.com.evil.example",
    "titan.email.evil.example",
    "mx.zoho.com.evil.example",
    "smtpin.rzone.de.example",
    // Names a host also gives its customers' own servers, or shares between several of its
    // mail products: not fingerprinted.
    "static.1.2.3.4.clients.your-server.de",
    "mx1.mail.ovh.net",
];

/// (MX host, gateway name, kind).
const GATEWAYS: &[(&str, &str, GatewayKind)] = &[
    ("mx0a-00123456.pphosted.com", "Proofpoint", GatewayKind::Filter),
    ("mx1-us1.ppe-hosted.com", "Proofpoint", GatewayKind::Filter),
    ("eu-smtp-inbound-1.mimecast.com", "Mimecast", GatewayKind::Filter),
    ("us-smtp-inbound-2.mimecast.com", "Mimecast", GatewayKind::Filter),
    ("d123456a.ess.barracudanetworks.com", "Barracuda Email Protection", GatewayKind::Filter),
    ("mx1.hc1234-56.iphmx.com", "Cisco Secure Email", GatewayKind::Filter),
    ("example-com.in.hes.trendmicro.com", "Trend Micro Email Security", GatewayKind::Filter),
    ("mx-01-eu-west-1.prod.hydra.sophos.com", "Sophos Email", GatewayKind::Filter),
    ("cluster1.eu.mailcontrol.com", "Forcepoint Email Security", GatewayKind::Filter),
    (
        "cluster5.eu.messagelabs.com",
        "Symantec Email Security.cloud (Broadcom)",
        GatewayKind::Filter,
    ),
    ("mx01.hornetsecurity.com", "Hornetsecurity", GatewayKind::Filter),
    ("mx.spamexperts.antispamcloud.com", "N-able Mail Assure (SpamExperts)", GatewayKind::Filter),
    ("route1.mx.cloudflare.net", "Cloudflare Email Routing", GatewayKind::Forwarding),
    ("mx1.improvmx.com", "ImprovMX", GatewayKind::Forwarding),
];

#[test]
fn every_fingerprinted_host_is_selected_by_its_mx_hosts() {
    let catalogue = builtin();
    for (id, hosts) in VECTORS {
        for host in hosts {
            let found = catalogue.match_mx_host(host).map(|m| m.entry.id.as_str());
            assert_eq!(found, Some(*id), "MX {host}");
            assert!(catalogue.match_gateway(host).is_none(), "{host} is a mail host");
        }
    }
}

#[test]
fn forty_hosts_are_recognised_by_mx_and_each_is_documented() {
    let catalogue = builtin();
    let with_mx: Vec<_> = catalogue.entries().iter().filter(|e| !e.mx.is_empty()).collect();
    // Regional entries of one company count once (Zoho's, IONOS's, GMX's, Microsoft's).
    let same_company = [
        "zoho.eu",
        "zoho.in",
        "zoho.com.au",
        "zohocloud.ca",
        "zoho.jp",
        "gmx.com",
        "ionos.co.uk",
        "ionos.es",
        "ionos.fr",
        "1und1.de",
        "outlook",
    ];
    let companies: HashSet<&str> =
        with_mx.iter().map(|e| e.id.as_str()).filter(|id| !same_company.contains(id)).collect();
    assert!(companies.len() >= 40, "{} hosts: {companies:?}", companies.len());
    let tested: HashSet<&str> = VECTORS.iter().map(|(id, _)| *id).collect();
    for entry in &with_mx {
        let regional = ["zoho.in", "zoho.com.au", "zohocloud.ca", "zoho.jp", "gmx.com"];
        assert!(
            tested.contains(entry.id.as_str()) || regional.contains(&entry.id.as_str()),
            "{} has MX patterns but no test vectors",
            entry.id
        );
    }
    for (id, _) in VECTORS {
        let entry = catalogue.entry(id).unwrap();
        let big_suite = ["gmail", "office365", "outlook", "yahoo", "icloud", "zoho", "zoho.eu"];
        assert!(
            entry.documentation.is_some() || big_suite.contains(id) || id.starts_with("gmx"),
            "{id} records no documentation page"
        );
    }
}

#[test]
fn look_alike_hosts_match_nothing() {
    let catalogue = builtin();
    for host in LOOK_ALIKES {
        assert!(catalogue.match_mx_host(host).is_none(), "{host} matched an entry");
        assert!(catalogue.match_gateway(host).is_none(), "{host} matched a gateway");
    }
}

#[test]
fn gateways_are_recognised_and_are_never_mail_hosts() {
    let catalogue = builtin();
    for (host, name, kind) in GATEWAYS {
        let found =
            catalogue.match_gateway(host).map(|g| (g.gateway.name.as_str(), g.gateway.kind));
        assert_eq!(found, Some((*name, *kind)), "MX {host}");
        assert!(catalogue.match_mx_host(host).is_none(), "{host} is a gateway, not a mail host");
    }
}

#[test]
fn hosts_without_mail_access_for_apps_have_no_servers_and_say_why() {
    let catalogue = builtin();
    for id in ["proton", "tuta"] {
        let entry = catalogue.entry(id).unwrap();
        assert_eq!(entry.auth, AuthHint::Unsupported);
        assert!(entry.incoming.is_empty() && entry.outgoing.is_empty(), "{id}");
        assert!(!entry.notes.is_empty(), "{id} tells the user what to do");
    }
}

#[test]
fn every_app_password_host_links_to_where_the_password_is_made_and_says_so() {
    for entry in builtin().entries().iter().filter(|e| e.auth == AuthHint::AppPassword) {
        assert!(entry.app_password_url.is_some(), "{} has no app_password_url", entry.id);
        assert!(!entry.notes.is_empty(), "{} has no note", entry.id);
    }
}
