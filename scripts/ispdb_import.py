#!/usr/bin/env python3
"""Generate `providers.toml`, the built-in provider catalogue.

Reads the Thunderbird ISPDB (Mozilla autoconfig `config-v1.1.xml` files, one per
provider) and merges it with the hand-curated entries in `CURATED` below:

* Curated entries are emitted first, in the order of `CURATED`. Each absorbs all
  `<domain>` elements of the ISPDB files it names (optionally filtered), plus its
  own extra domains. Servers come from the curated facts, unless the entry says
  `servers_from_ispdb`. Absorbed ISPDB files are not emitted separately.
* Every other ISPDB file becomes one entry (id = file name without `.xml`),
  emitted after the curated ones, sorted by id.
* A domain may belong to one entry only: the first occurrence wins, later ones
  are dropped and reported on stderr.

The output is deterministic: the same input always gives byte-identical output.
Only the Python 3.11+ standard library is used.

Usage:
    python3 scripts/ispdb_import.py [ISPDB_DIR] [-o providers.toml]

ISPDB_DIR defaults to ../shared/data/ispdb (relative to the current directory,
falling back to the same path relative to the repository root). Without -o the
TOML is written to stdout. Diagnostics go to stderr.

The ISPDB (https://github.com/thunderbird/autoconfig) is licensed under the
Mozilla Public License 2.0 (http://mozilla.org/MPL/2.0/).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# --------------------------------------------------------------------------
# Curated entries
# --------------------------------------------------------------------------
#
# Keys of a curated entry:
#   id, name, nylas, auth           required (see the schema in the TOML header)
#   domains                         extra domains, listed before the ISPDB ones
#   ispdb                           ISPDB file names (without .xml) whose domains
#                                   are absorbed; an item may be a pair
#                                   (file, predicate) to absorb only some domains
#   mx, notes                       optional lists
#   documentation                   optional URL; if the key is absent, the first
#                                   <documentation url> of the absorbed files is used
#   incoming, outgoing              server lists, see `srv()`
#   servers_from_ispdb              take name/servers/documentation from the single
#                                   ISPDB file instead (incoming/outgoing omitted)

OAUTH_PW = ["oauth2", "password-cleartext"]
OAUTH = ["oauth2"]


def srv(protocol, host, port, security, username="%EMAILADDRESS%", auth=None):
    """A server of a curated entry. `auth` defaults to ["password-cleartext"]."""
    return {
        "protocol": protocol,
        "host": host,
        "port": port,
        "security": security,
        "username": username,
        "auth": list(auth) if auth else ["password-cleartext"],
    }


def _is_hotmail(domain: str) -> bool:
    return domain.startswith("hotmail.")


def _not_hotmail(domain: str) -> bool:
    return not domain.startswith("hotmail.")


MS_NOTE = (
    "Microsoft disabled basic authentication (password login) for IMAP/POP/SMTP; "
    "OAuth2 is required since 2024."
)
MS_INCOMING = [srv("imap", "outlook.office365.com", 993, "tls", auth=OAUTH)]
MS_OUTGOING = [srv("smtp", "smtp.office365.com", 587, "starttls", auth=OAUTH)]

CURATED = [
    {
        "id": "gmail",
        "name": "Gmail",
        "nylas": "gmail",
        "auth": "oauth2",
        "domains": ["gmail.com", "googlemail.com"],
        "ispdb": ["googlemail.com"],
        "mx": [
            "aspmx.l.google.com",
            "*.aspmx.l.google.com",
            "*.google.com",
            "*.googlemail.com",
            "smtp.google.com",
        ],
        "notes": [
            "Sign in with OAuth2. Password login needs an app password "
            "(requires two-step verification)."
        ],
        # The ISPDB links (mail.google.com/support/bin/...) are long dead.
        "documentation": "https://support.google.com/mail/answer/7126229",
        "incoming": [srv("imap", "imap.gmail.com", 993, "tls", auth=OAUTH_PW)],
        "outgoing": [srv("smtp", "smtp.gmail.com", 465, "tls", auth=OAUTH_PW)],
    },
    {
        "id": "yahoo",
        "name": "Yahoo Mail",
        "nylas": "yahoo",
        "auth": "app-password",
        "ispdb": ["yahoo.com"],
        "mx": ["*.yahoodns.net"],
        "notes": ["Needs an app password (Account security > Generate app password)."],
        # ISPDB lists OAuth2 besides password-cleartext on these servers.
        "incoming": [srv("imap", "imap.mail.yahoo.com", 993, "tls", auth=OAUTH_PW)],
        "outgoing": [srv("smtp", "smtp.mail.yahoo.com", 465, "tls", auth=OAUTH_PW)],
    },
    {
        "id": "aol",
        "name": "AOL Mail",
        "nylas": "aol",
        "auth": "app-password",
        "ispdb": ["aol.com"],
        "domains": ["aol.com", "aim.com", "love.com", "games.com", "wow.com"],
        "notes": ["Needs an app password (Account security > Generate app password)."],
        "incoming": [srv("imap", "imap.aol.com", 993, "tls", auth=OAUTH_PW)],
        "outgoing": [srv("smtp", "smtp.aol.com", 465, "tls", auth=OAUTH_PW)],
    },
    {
        "id": "icloud",
        "name": "iCloud Mail",
        "nylas": "icloud",
        "auth": "app-password",
        "domains": ["icloud.com", "me.com", "mac.com"],
        "ispdb": ["me.com", "icloud.com", "mac.com"],
        "mx": ["mx*.mail.icloud.com"],
        "notes": ["Needs an app-specific password (appleid.apple.com > Sign-In and Security)."],
        "incoming": [
            srv("imap", "imap.mail.me.com", 993, "tls", username="%EMAILLOCALPART%")
        ],
        "outgoing": [srv("smtp", "smtp.mail.me.com", 587, "starttls")],
    },
    {
        "id": "outlook",
        "name": "Outlook.com",
        "nylas": "outlook",
        "auth": "oauth2",
        "domains": ["outlook.com", "live.com", "msn.com", "passport.com"],
        "ispdb": [("hotmail.com", _not_hotmail), ("outlook.com", _not_hotmail),
                  ("live.com", _not_hotmail)],
        "mx": ["*.olc.protection.outlook.com"],
        "notes": [MS_NOTE],
        "incoming": MS_INCOMING,
        "outgoing": MS_OUTGOING,
    },
    {
        "id": "hotmail",
        "name": "Hotmail",
        "nylas": "hotmail",
        "auth": "oauth2",
        "domains": ["hotmail.com"],
        "ispdb": [("hotmail.com", _is_hotmail), ("outlook.com", _is_hotmail),
                  ("live.com", _is_hotmail)],
        "notes": [MS_NOTE],
        "incoming": MS_INCOMING,
        "outgoing": MS_OUTGOING,
    },
    {
        "id": "office365",
        "name": "Microsoft 365",
        "nylas": "office365",
        "auth": "oauth2",
        # Every Microsoft 365 tenant gets <tenant>.onmicrosoft.com.
        "domains": ["*.onmicrosoft.com"],
        "ispdb": ["office365.com"],
        "mx": ["*.mail.protection.outlook.com"],
        "notes": [
            "Basic authentication is disabled in Exchange Online; sign in with OAuth2. "
            "The tenant administrator may have to allow IMAP/SMTP access."
        ],
        "incoming": MS_INCOMING,
        "outgoing": MS_OUTGOING,
    },
    {
        "id": "gmx",
        "name": "GMX",
        "nylas": "imap",
        "auth": "password",
        "ispdb": ["gmx.net"],
        # gmx.net's MX hosts are mx00/mx01.emig.gmx.net.
        "mx": ["mx*.gmx.net", "mx*.emig.gmx.net"],
        "notes": [
            "IMAP/POP3 access must be enabled once in the e-mail settings of the account."
        ],
        "incoming": [srv("imap", "imap.gmx.net", 993, "tls")],
        "outgoing": [srv("smtp", "mail.gmx.net", 465, "tls")],
    },
    {
        # Same company as gmx.net but other access servers (imap.gmx.com): ISPDB servers.
        "id": "gmx.com",
        "nylas": "imap",
        "auth": "password",
        "ispdb": ["gmx.com"],
        "servers_from_ispdb": True,
        "mx": ["mx*.gmx.com"],
    },
    {
        "id": "webde",
        "name": "WEB.DE",
        "nylas": "imap",
        "auth": "password",
        "domains": ["web.de"],
        "ispdb": ["web.de"],
        "mx": ["mx*.web.de"],
        "notes": [
            "IMAP/POP3 access must be enabled once in the e-mail settings of the account."
        ],
        "incoming": [
            srv("imap", "imap.web.de", 993, "tls", username="%EMAILLOCALPART%")
        ],
        "outgoing": [
            srv("smtp", "smtp.web.de", 587, "starttls", username="%EMAILLOCALPART%")
        ],
    },
    {
        "id": "yandex",
        "name": "Yandex Mail",
        "nylas": "imap",
        "auth": "app-password",
        "ispdb": ["yandex.ru", "yandex.com", "ya.ru"],
        "mx": ["mx.yandex.net", "mx.yandex.ru"],
        "notes": [
            "Needs an app password; IMAP access must be enabled in the mail settings."
        ],
        "incoming": [srv("imap", "imap.yandex.com", 993, "tls")],
        "outgoing": [srv("smtp", "smtp.yandex.com", 465, "tls")],
    },
    {
        "id": "mailru",
        "name": "Mail.Ru",
        "nylas": "imap",
        "auth": "app-password",
        "domains": ["mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru"],
        "ispdb": ["mail.ru"],
        "mx": ["mxs.mail.ru"],
        "notes": ["Needs an app password (password for external applications)."],
        "incoming": [srv("imap", "imap.mail.ru", 993, "tls")],
        "outgoing": [srv("smtp", "smtp.mail.ru", 465, "tls")],
    },
    {
        "id": "fastmail",
        "name": "Fastmail",
        "nylas": "imap",
        "auth": "app-password",
        "domains": ["fastmail.com", "fastmail.fm"],
        "ispdb": ["messagingengine.com", "fastmail.com", "fastmail.fm"],
        "mx": ["in*-smtp.messagingengine.com"],
        "notes": ["Needs an app password (Settings > Privacy & Security > App passwords)."],
        "incoming": [srv("imap", "imap.fastmail.com", 993, "tls", auth=OAUTH_PW)],
        "outgoing": [srv("smtp", "smtp.fastmail.com", 465, "tls", auth=OAUTH_PW)],
    },
    {
        "id": "zoho",
        "name": "Zoho Mail",
        "nylas": "imap",
        "auth": "app-password",
        "domains": ["zoho.com", "zohomail.com"],
        "ispdb": ["zoho.com"],
        "mx": ["mx*.zoho.com"],
        "notes": [
            "IMAP access must be enabled in the Zoho Mail settings; "
            "with two-factor authentication an app-specific password is needed."
        ],
        "incoming": [srv("imap", "imap.zoho.com", 993, "tls")],
        "outgoing": [srv("smtp", "smtp.zoho.com", 465, "tls")],
    },
    # Regional Zoho data centres: servers from their ISPDB files, plus MX patterns.
    *[
        {
            "id": region,
            "nylas": "imap",
            "auth": "app-password",
            "ispdb": [region],
            "servers_from_ispdb": True,
            "mx": [f"mx*.{region}"],
        }
        for region in ["zoho.eu", "zoho.in", "zoho.com.au", "zohocloud.ca", "zoho.jp"]
    ],
    {
        "id": "posteo",
        "name": "Posteo",
        "nylas": "imap",
        "auth": "password",
        "domains": ["posteo.de"],
        "ispdb": ["posteo.de"],
        "incoming": [srv("imap", "posteo.de", 993, "tls")],
        "outgoing": [srv("smtp", "posteo.de", 465, "tls")],
    },
    {
        "id": "mailboxorg",
        "name": "mailbox.org",
        "nylas": "imap",
        "auth": "password",
        "domains": ["mailbox.org"],
        "ispdb": ["mailbox.org"],
        "incoming": [srv("imap", "imap.mailbox.org", 993, "tls")],
        "outgoing": [srv("smtp", "smtp.mailbox.org", 465, "tls")],
    },
    {
        "id": "tonline",
        "name": "Telekom Mail (t-online.de)",
        "nylas": "imap",
        "auth": "password",
        "ispdb": ["t-online.de"],
        "notes": [
            "Uses a separate e-mail password, set in the Telekom Mail settings, "
            "not the Telekom login password."
        ],
        "incoming": [srv("imap", "secureimap.t-online.de", 993, "tls")],
        "outgoing": [srv("smtp", "securesmtp.t-online.de", 465, "tls")],
    },
    {
        "id": "qq",
        "name": "QQ Mail",
        "nylas": "imap",
        "auth": "app-password",
        "domains": ["qq.com", "foxmail.com", "vip.qq.com"],
        "ispdb": ["qq.com"],
        "notes": [
            "IMAP/SMTP must be enabled in the QQ Mail settings; log in with the "
            "authorization code it generates, not the QQ password."
        ],
        "incoming": [
            srv("imap", "imap.qq.com", 993, "tls", username="%EMAILLOCALPART%")
        ],
        "outgoing": [
            srv("smtp", "smtp.qq.com", 465, "tls", username="%EMAILLOCALPART%")
        ],
    },
]

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

NYLAS = {"gmail", "yahoo", "aol", "icloud", "hotmail", "outlook", "office365", "exchange", "imap"}
LOGIN_AUTH = {"password", "app-password", "oauth2"}
SECURITY = {"ssl": "tls", "tls": "tls", "starttls": "starttls", "plain": "plain"}
AUTH = {
    "password-cleartext": "password-cleartext",
    "plain": "password-cleartext",
    "password-encrypted": "password-encrypted",
    "secure": "password-encrypted",
    "oauth2": "oauth2",
    "ntlm": "ntlm",
    "gssapi": "gssapi",
    "client-ip-address": "client-ip-address",
    "tls-client-cert": "tls-client-cert",
    "none": "none",
}
DEFAULT_USERNAME = "%EMAILADDRESS%"
DEFAULT_AUTH = ["password-cleartext"]
PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
HOST_LABEL_RE = re.compile(r"^(%EMAILDOMAIN%|[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)$")


def warn(msg: str) -> None:
    print(f"ispdb_import: {msg}", file=sys.stderr)


# --------------------------------------------------------------------------
# ISPDB parsing
# --------------------------------------------------------------------------


@dataclass
class Server:
    protocol: str
    host: str
    port: int
    security: str
    username: str = DEFAULT_USERNAME
    auth: list = field(default_factory=lambda: list(DEFAULT_AUTH))

    def key(self):
        return (self.protocol, self.host, self.port, self.security, self.username, tuple(self.auth))


@dataclass
class IspdbFile:
    id: str
    name: str
    domains: list
    incoming: list
    outgoing: list
    documentation: str | None
    notes: list


def local(tag) -> str:
    """Tag name without namespace; '' for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def text(elem) -> str:
    return " ".join((elem.text or "").split()) if elem is not None else ""


def parse_xml(data: bytes, fname: str):
    """Parse leniently: drop a BOM, retry without anything after the root element."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return ET.fromstring(data)
    except ET.ParseError as first:
        end = data.rfind(b"</clientConfig>")
        if end >= 0:
            try:
                root = ET.fromstring(data[: end + len(b"</clientConfig>")])
                warn(f"{fname}: ignored trailing content after </clientConfig> ({first})")
                return root
            except ET.ParseError:
                pass
        raise


def domain_ok(d: str) -> bool:
    if d.startswith("*."):
        d = d[2:]
    labels = d.split(".")
    return len(labels) >= 2 and len(d) <= 253 and all(
        LABEL_RE.match(lab) and len(lab) <= 63 for lab in labels
    )


def norm_domain(raw: str) -> str | None:
    d = raw.strip().rstrip(".").lower()
    if not d:
        return None
    try:
        d.encode("ascii")
    except UnicodeEncodeError:
        try:
            d = d.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return d if domain_ok(d) else None


def host_ok(h: str) -> bool:
    labels = h.split(".")
    return len(h) <= 253 and all(HOST_LABEL_RE.match(lab) for lab in labels)


def fix_template(t: str) -> str:
    """Canonical placeholders: upper case, closing '%' restored.

    ISPDB office365.com.xml has "%EMAILADDRESS" without the closing '%'.
    """
    return re.sub(
        r"%(EMAILADDRESS|EMAILLOCALPART|EMAILDOMAIN)%?",
        lambda m: f"%{m.group(1).upper()}%",
        t,
        flags=re.IGNORECASE,
    )


def parse_server(elem, kind: str, fname: str) -> Server | None:
    """An <incomingServer>/<outgoingServer>; None (with a warning) if unusable."""
    protocol = (elem.get("type") or "").strip().lower()
    where = f"{fname}: {kind} {protocol or '?'}"
    if kind == "incoming" and protocol not in ("imap", "pop3"):
        warn(f"{where}: skipped, type not imap/pop3")
        return None
    if kind == "outgoing" and protocol != "smtp":
        warn(f"{where}: skipped, type not smtp")
        return None
    fields = {local(c.tag): c for c in elem if local(c.tag)}
    host = fix_template(text(fields.get("hostname")).lower().rstrip("."))
    port_s = text(fields.get("port"))
    sock = text(fields.get("socketType")).lower()
    if not host or not host_ok(host):
        warn(f"{where}: skipped, missing or invalid hostname {host!r}")
        return None
    if not port_s.isdigit() or not 1 <= int(port_s) <= 65535:
        warn(f"{where} {host}: skipped, missing or invalid port {port_s!r}")
        return None
    if sock not in SECURITY:
        warn(f"{where} {host}: skipped, unknown socketType {sock!r}")
        return None
    username = fix_template(text(fields.get("username"))) or DEFAULT_USERNAME
    auth = []
    for a in elem:
        if local(a.tag) != "authentication":
            continue
        v = text(a).lower()
        if v not in AUTH:
            warn(f"{where} {host}: ignored unknown authentication {v!r}")
        elif AUTH[v] not in auth:
            auth.append(AUTH[v])
    return Server(protocol, host, int(port_s), SECURITY[sock], username, auth or list(DEFAULT_AUTH))


def order_servers(servers: list, protocols: tuple) -> list:
    """Protocols in the given order; within one, document order with plain ones last."""
    out, seen = [], set()
    for proto in protocols:
        group = [s for s in servers if s.protocol == proto]
        for s in [s for s in group if s.security != "plain"] + [
            s for s in group if s.security == "plain"
        ]:
            if s.key() not in seen:
                seen.add(s.key())
                out.append(s)
    return out


def parse_ispdb_file(path: str) -> IspdbFile:
    fname = os.path.basename(path)
    with open(path, "rb") as f:
        root = parse_xml(f.read(), fname)
    providers = [e for e in root if local(e.tag) == "emailProvider"]
    if not providers:
        raise ValueError("no <emailProvider> element")
    if len(providers) > 1:
        warn(f"{fname}: {len(providers)} <emailProvider> elements, using the first")
    prov = providers[0]

    domains = []
    for d in prov:
        if local(d.tag) != "domain":
            continue
        nd = norm_domain(text(d))
        if nd is None:
            warn(f"{fname}: ignored invalid domain {text(d)!r}")
        elif nd in domains:
            warn(f"{fname}: duplicated domain {nd} (kept once)")
        else:
            domains.append(nd)

    name = ""
    for tag in ("displayName", "displayShortName"):
        el = next((c for c in prov if local(c.tag) == tag), None)
        if text(el):
            name = text(el)
            break
    file_id = fname[: -len(".xml")]

    incoming, outgoing = [], []
    for s in prov:
        tag = local(s.tag)
        if tag == "incomingServer":
            srv_ = parse_server(s, "incoming", fname)
            if srv_:
                incoming.append(srv_)
        elif tag == "outgoingServer":
            srv_ = parse_server(s, "outgoing", fname)
            if srv_:
                outgoing.append(srv_)

    documentation = None
    for d in prov:
        if local(d.tag) == "documentation":
            url = (d.get("url") or "").strip()
            if url.startswith(("https://", "http://")):
                documentation = url
                break

    # <enable><instruction>: the untagged or English text becomes a note.
    notes = []
    for en in list(prov) + list(root):
        if local(en.tag) != "enable":
            continue
        for ins in en:
            if local(ins.tag) == "instruction" and (ins.get("lang") or "en") == "en":
                t = text(ins)
                if t and t not in notes:
                    notes.append(t)
                break

    return IspdbFile(
        id=file_id,
        name=name or file_id,
        domains=domains,
        incoming=order_servers(incoming, ("imap", "pop3")),
        outgoing=order_servers(outgoing, ("smtp",)),
        documentation=documentation,
        notes=notes,
    )


def load_ispdb(directory: str) -> dict:
    files = {}
    for fname in sorted(os.listdir(directory)):
        if not fname.endswith(".xml"):
            continue
        try:
            f = parse_ispdb_file(os.path.join(directory, fname))
        except (ET.ParseError, ValueError, OSError) as e:
            warn(f"{fname}: skipped, cannot parse ({e})")
            continue
        files[f.id] = f
    return files


# --------------------------------------------------------------------------
# Building the catalogue
# --------------------------------------------------------------------------


def curated_server(d: dict) -> Server:
    return Server(d["protocol"], d["host"], d["port"], d["security"], d["username"], list(d["auth"]))


def build(ispdb: dict) -> tuple[list, dict]:
    """Returns (entries, stats). Entries are dicts ready for `render`."""
    entries = []
    used_files = set()
    missing_refs = []

    for c in CURATED:
        domains = list(c.get("domains", []))
        docs, srcs = [], []
        files_for_servers = []
        for ref in c.get("ispdb", []):
            fid, pred = ref if isinstance(ref, tuple) else (ref, None)
            f = ispdb.get(fid)
            if f is None:
                missing_refs.append(f"{c['id']} <- {fid}.xml")
                continue
            used_files.add(fid)
            srcs.append(f"{fid}.xml")
            files_for_servers.append(f)
            domains += [d for d in f.domains if pred is None or pred(d)]
            if f.documentation:
                docs.append(f.documentation)
        entry = {
            "id": c["id"],
            "name": c.get("name"),
            "nylas": c["nylas"],
            "auth": c["auth"],
            "domains": domains,
            "mx": list(c.get("mx", [])),
            "notes": list(c.get("notes", [])),
            "documentation": c["documentation"] if "documentation" in c else (docs[0] if docs else None),
            "source": "curated" + (f"; domains from ISPDB {', '.join(sorted(set(srcs)))}" if srcs else ""),
        }
        if c.get("servers_from_ispdb"):
            if len(files_for_servers) != 1:
                warn(f"curated {c['id']}: servers_from_ispdb needs exactly one ISPDB file; entry skipped")
                continue
            f = files_for_servers[0]
            entry["name"] = entry["name"] or f.name
            entry["incoming"], entry["outgoing"] = f.incoming, f.outgoing
            entry["notes"] += [n for n in f.notes if n not in entry["notes"]]
            entry["source"] = f"curated; servers and domains from ISPDB {f.id}.xml"
        else:
            entry["incoming"] = [curated_server(s) for s in c["incoming"]]
            entry["outgoing"] = [curated_server(s) for s in c["outgoing"]]
        entries.append(entry)

    skipped_files = []
    for fid in sorted(ispdb):
        if fid in used_files:
            continue
        f = ispdb[fid]
        if not f.incoming or not f.outgoing:
            reason = "no usable incoming (imap/pop3) server" if not f.incoming else "no usable outgoing server"
            warn(f"{fid}.xml: provider skipped, {reason}")
            skipped_files.append((fid, reason))
            continue
        if not ID_RE.match(fid):
            warn(f"{fid}.xml: provider skipped, file name is not a valid id")
            skipped_files.append((fid, "invalid id"))
            continue
        all_oauth_only = all(s.auth == ["oauth2"] for s in f.incoming + f.outgoing)
        entries.append(
            {
                "id": fid,
                "name": f.name,
                "nylas": "imap",
                "auth": "oauth2" if all_oauth_only else "password",
                "domains": list(f.domains),
                "mx": [],
                "notes": list(f.notes),
                "documentation": f.documentation,
                "incoming": f.incoming,
                "outgoing": f.outgoing,
                "source": f"ISPDB {fid}.xml",
            }
        )
        used_files.add(fid)

    # Global domain de-duplication: first occurrence wins.
    owner = {}
    dropped = []
    for e in entries:
        kept = []
        for d in e["domains"]:
            if d in owner:
                if owner[d] != e["id"]:
                    dropped.append((d, e["id"], owner[d]))
                    warn(f"domain {d} dropped from {e['id']}: already in {owner[d]}")
                continue
            owner[d] = e["id"]
            kept.append(d)
        e["domains"] = kept

    if missing_refs:
        # Harmless: curated entries name files that may appear in later ISPDB versions.
        warn(f"note: ISPDB files named by curated entries but absent: {', '.join(missing_refs)}")

    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate provider id"
    for e in entries:
        validate(e)
    stats = {
        "providers": len(entries),
        "domains": len(owner),
        "ispdb_files": len(ispdb),
        "ispdb_used": len(used_files),
        "ispdb_skipped": skipped_files,
        "dropped": dropped,
    }
    return entries, stats


def validate(e: dict) -> None:
    where = f"provider {e['id']}"
    assert ID_RE.match(e["id"]), where
    assert e["name"], where
    assert e["nylas"] in NYLAS, where
    assert e["auth"] in LOGIN_AUTH, where
    assert e["incoming"] and e["outgoing"], where
    for d in e["domains"]:
        assert domain_ok(d), f"{where}: domain {d}"
    for s in e["incoming"] + e["outgoing"]:
        assert 1 <= s.port <= 65535, where
        assert s.security in ("tls", "starttls", "plain"), where
        assert all(a in AUTH.values() for a in s.auth), where
        for p in re.findall(r"%[A-Z]*%?", s.username + s.host):
            assert p in PLACEHOLDERS, f"{where}: placeholder {p}"
    assert all(s.protocol in ("imap", "pop3") for s in e["incoming"]), where
    assert all(s.protocol == "smtp" for s in e["outgoing"]), where


# --------------------------------------------------------------------------
# TOML output
# --------------------------------------------------------------------------

HEADER = """\
# providers.toml: the built-in provider catalogue.
#
# Maps e-mail domains (and MX host patterns) to mail providers and their IMAP/POP3/SMTP
# servers. The schema is documented in crates/providers/catalogue/src/lib.rs (rustdoc) and
# in the README.
#
# Entries were derived in part from the Thunderbird ISPDB
# (https://github.com/thunderbird/autoconfig), licensed under the Mozilla Public
# License 2.0 (http://mozilla.org/MPL/2.0/).
#
# This file was first generated by scripts/ispdb_import.py and may be edited by hand.
"""

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(s: str) -> str:
    """A TOML basic string; non-ASCII characters are kept as UTF-8."""
    out = []
    for ch in s:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_array(key: str, items: list, width: int = 100) -> str:
    parts = [toml_str(i) for i in items]
    one_line = f"{key} = [{', '.join(parts)}]"
    if len(one_line) <= width:
        return one_line
    lines, cur = [], "    "
    for p in parts:
        piece = p + ","
        if len(cur) > 4 and len(cur) + 1 + len(piece) > width:
            lines.append(cur)
            cur = "    " + piece
        else:
            cur = cur + ("" if len(cur) == 4 else " ") + piece
    lines.append(cur)
    return f"{key} = [\n" + "\n".join(lines) + "\n]"


def render_server(table: str, s: Server) -> list:
    out = [
        f"[[provider.{table}]]",
        f"protocol = {toml_str(s.protocol)}",
        f"host = {toml_str(s.host)}",
        f"port = {s.port}",
        f"security = {toml_str(s.security)}",
    ]
    if s.username != DEFAULT_USERNAME:
        out.append(f"username = {toml_str(s.username)}")
    if s.auth != DEFAULT_AUTH:
        out.append(toml_array("auth", s.auth))
    return out


def render(entries: list) -> str:
    lines = [HEADER.rstrip("\n")]
    for e in entries:
        lines += ["", f"# {e['source']}", "[[provider]]"]
        lines.append(f"id = {toml_str(e['id'])}")
        lines.append(f"name = {toml_str(e['name'])}")
        lines.append(f"nylas = {toml_str(e['nylas'])}")
        lines.append(f"auth = {toml_str(e['auth'])}")
        if e["domains"]:
            lines.append(toml_array("domains", e["domains"]))
        if e["mx"]:
            lines.append(toml_array("mx", e["mx"]))
        if e["notes"]:
            lines.append(toml_array("notes", e["notes"]))
        if e["documentation"]:
            lines.append(f"documentation = {toml_str(e['documentation'])}")
        for s in e["incoming"]:
            lines += [""] + render_server("incoming", s)
        for s in e["outgoing"]:
            lines += [""] + render_server("outgoing", s)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------


def default_ispdb_dir() -> str:
    rel = os.path.join("..", "shared", "data", "ispdb")
    if os.path.isdir(rel):
        return rel
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(repo, rel)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ispdb_dir", nargs="?", default=None,
                    help="folder with ISPDB *.xml files (default: ../shared/data/ispdb)")
    ap.add_argument("-o", "--output", help="write providers.toml here instead of stdout")
    args = ap.parse_args(argv)

    directory = args.ispdb_dir or default_ispdb_dir()
    if not os.path.isdir(directory):
        ap.error(f"not a directory: {directory}")
    ispdb = load_ispdb(directory)
    entries, stats = build(ispdb)
    toml = render(entries)

    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="\n") as f:
            f.write(toml)
    else:
        sys.stdout.buffer.write(toml.encode("utf-8"))

    skipped = stats["ispdb_skipped"]
    warn(
        f"{stats['providers']} providers, {stats['domains']} domains; ISPDB files: "
        f"{stats['ispdb_files']} parsed, {stats['ispdb_used']} used, {len(skipped)} skipped; "
        f"{len(stats['dropped'])} duplicate domains dropped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
