#!/usr/bin/env python3
"""Compare `providers.toml` with Delta Chat's provider database and the ISPDB.

For every domain of the provider database (`../shared/data/provider-db/*.md`, YAML front
matter) this reports whether the catalogue knows it (exact domain, or a `*.` wildcard, as
`Catalogue::lookup` does), and whether the first IMAP and the first SMTP server of our entry
(host, port, security) equal the provider database's first IMAP and SMTP servers. It also
lists the ISPDB domains (`<domain>` elements of `../shared/data/ispdb/*.xml`) the catalogue
does not know.

The catalogue is never written: with `--emit-toml` the script prints TOML for what is
missing (domains to append to an existing entry, or a new `[[provider]]` entry with the
provider database's servers), to be reviewed and pasted by hand. Notes are not copied: the
provider database's sentences stay there; write our own.

A server difference that was looked at and kept is recorded in our entry as a comment
`# provider-db differs: <what>; kept because <reason>`; the report says which differences
are recorded and which are not yet.

Rerunnable and read-only; only the Python 3.11+ standard library is used.

Usage:
    python3 scripts/provider_db_import.py [--catalogue providers.toml]
        [--provider-db DIR] [--ispdb DIR] [--emit-toml] [--strict]

Paths default to the repository's providers.toml and ../shared/data/{provider-db,ispdb}
beside the repository. With --strict the exit status is 1 when a provider-database domain
(not skipped below) or an ISPDB domain is unknown, or a difference is not recorded.

Both databases are licensed under the Mozilla Public License 2.0
(http://mozilla.org/MPL/2.0/); only facts (domains, hosts, ports, required steps) are taken.

Provider-database entries deliberately NOT in the catalogue (kept in sync with `SKIPPED`
below and with the exclusion list of tests/catalogue_sources.rs):

  Test-only, local or not reachable from the internet:
    example.com.md       example.com, example.org, example.net: the provider database's own test
                         fixture (its hint says the provider does not exist), BROKEN.
    mail2tor.md          mail2tor.com: its servers are Tor hidden services (.onion) on plaintext
                         ports, reachable only through Tor.
    yggmail.md           yggmail: a pseudo-domain of the Yggdrasil mesh network; the "server" is
                         a companion app on the user's own device (localhost:1143/1025).
    testrun.md           testrun.org: Delta Chat's test server.
    nine.testrun.org.md  nine.testrun.org: Delta Chat's chatmail test/default relay (see below).
    hermes.radio.md      *.hermes.radio, *.aco-connexion.org: an HF-radio mail network; only
                         wildcard domains, no servers, TLS certificates not checked (strict_tls
                         false); not reachable as an internet provider.
  Chatmail relays (accounts made by Delta Chat on first use; the relay passes on only
  end-to-end encrypted Delta Chat messages, so it is no mailbox for a general mail app):
    mehl.cloud.md        mehl.cloud
    daleth.cafe.md       daleth.cafe
  No server in the provider database (Delta Chat relies on the domain's own autoconfig) and
  none confirmed by a second source; discovery still finds them by autoconfig/SRV/guessing:
    five.chat.md         five.chat: publishes its own autoconfig (the provider database dropped
                         its server list for that reason).
    i3.net.md            i3.net: publishes its own autoconfig.
    espiv.net.md         espiv.net: only lead is the former K-9 Mail list (mail.espiv.net).
    kolst.com.md         kolst.com: nothing found.
    kontent.com.md       kontent.com: a web host; its help names hosts, no ports.
    sonic.md             sonic.net: Sonic's wiki confirms free IMAP, not the hosts.
    vfemail.md           vfemail.net: VFEmail lists ports 993/465; hosts only from users' configs.
    firemail.de.md       firemail.de, firemail.at (also: full IMAP access only on paid plans)
  (dismail.de and rogers.com were here; both are in the catalogue now, from other clients'
  provider lists and Rogers' own page.)
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import tomllib

# The catalogue's TOML style (wrapped lists), shared with the ISPDB importer beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ispdb_import import toml_array  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DEFAULT_CATALOGUE = os.path.join(REPO, "providers.toml")
DEFAULT_PROVIDER_DB = os.path.join(REPO, "..", "shared", "data", "provider-db")
DEFAULT_ISPDB = os.path.join(REPO, "..", "shared", "data", "ispdb")

# Provider-database files (file name without .md) left out of the catalogue, with the reason.
# Their domains are reported as "skipped", not as unknown.
SKIPPED = {
    "example.com": "test fixture of the provider database, not a real provider",
    "mail2tor": "servers are Tor hidden services (.onion), reachable only through Tor",
    "yggmail": "mesh-network pseudo-domain served by an app on the user's device",
    "testrun": "Delta Chat's test server",
    "nine.testrun.org": "Delta Chat's chatmail test/default relay",
    "hermes.radio": "HF-radio mail network: wildcard domains only, no servers, TLS not checked",
    "mehl.cloud": "chatmail relay: only end-to-end encrypted Delta Chat messages",
    "daleth.cafe": "chatmail relay: only end-to-end encrypted Delta Chat messages",
    "espiv.net": "no server in provider-db, none confirmed elsewhere",
    "five.chat": "no server in provider-db, none confirmed elsewhere",
    "i3.net": "no server in provider-db, none confirmed elsewhere",
    "kolst.com": "no server in provider-db, none confirmed elsewhere",
    "kontent.com": "no server in provider-db, none confirmed elsewhere",
    "sonic": "no server in provider-db, none confirmed elsewhere",
    "vfemail": "no server in provider-db, none confirmed elsewhere",
    "firemail.de": "no server in provider-db, none confirmed elsewhere (IMAP on paid plans only)",
}

SECURITY = {"SSL": "tls", "STARTTLS": "starttls", "PLAIN": "plain"}
USERNAME = {"EMAIL": "%EMAILADDRESS%", "EMAILLOCALPART": "%EMAILLOCALPART%"}

DIFF_COMMENT = re.compile(r"^\s*#\s*provider-db differs:\s*(.*)$")


# --------------------------------------------------------------------------
# A small YAML subset: mappings, lists (of scalars or mappings), block scalars
# --------------------------------------------------------------------------


def front_matter(text: str) -> list[str]:
    """The lines between the first `---` and the next one."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ValueError("no front matter")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            return lines[1:end]
    raise ValueError("front matter not closed")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:(?:\s+|$)(.*)$")


def _scalar(text: str):
    text = text.strip()
    if text[:1] in ('"', "'"):
        quote = text[0]
        end = text.rfind(quote)
        inner = text[1:end] if end > 0 else text[1:]
        if quote == '"':
            inner = inner.replace('\\"', '"').replace("\\\\", "\\")
        else:
            inner = inner.replace("''", "'")
        return inner
    text = re.sub(r"\s+#.*$", "", text)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    if text in ("", "~", "null"):
        return None
    return text


class _Reader:
    def __init__(self, lines: list[str]):
        self.lines = list(lines)
        self.i = 0

    def skip(self) -> None:
        while self.i < len(self.lines) and not _is_content(self.lines[self.i]):
            self.i += 1

    def block(self, indent: int):
        """A list or a mapping whose lines are indented exactly `indent`."""
        self.skip()
        if self.i >= len(self.lines):
            return None
        first = self.lines[self.i].strip()
        if first == "-" or first.startswith("- "):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> list:
        items = []
        while True:
            self.skip()
            if self.i >= len(self.lines):
                return items
            line = self.lines[self.i]
            stripped = line.strip()
            if _indent(line) != indent or not (stripped == "-" or stripped.startswith("- ")):
                return items
            content = stripped[1:].strip()
            if not content:
                self.i += 1
                self.skip()
                items.append(self.block(_indent(self.lines[self.i])) if self.i < len(self.lines) else None)
            elif _KEY.match(content) and content[:1] not in ('"', "'"):
                # "- key: value": a mapping whose keys line up with `key`.
                inner = indent + (len(line) - indent - len(line[indent:].lstrip(" -")))
                self.lines[self.i] = " " * inner + content
                items.append(self.mapping(inner))
            else:
                items.append(_scalar(content))
                self.i += 1

    def mapping(self, indent: int) -> dict:
        result = {}
        while True:
            self.skip()
            if self.i >= len(self.lines):
                return result
            line = self.lines[self.i]
            if _indent(line) != indent or line.strip().startswith("-"):
                return result
            match = _KEY.match(line.strip())
            if not match:
                raise ValueError(f"cannot read line {self.i + 1}: {line!r}")
            key, rest = match.group(1), match.group(2).strip()
            self.i += 1
            if rest[:1] in ("|", ">"):
                result[key] = self.block_scalar(indent, folded=rest[0] == ">")
            elif rest and not rest.startswith("#"):
                result[key] = _scalar(rest)
            else:
                self.skip()
                if self.i < len(self.lines):
                    nxt = self.lines[self.i]
                    deeper = _indent(nxt) > indent
                    same_list = _indent(nxt) == indent and nxt.strip().startswith("-")
                    result[key] = self.block(_indent(nxt)) if deeper or same_list else None
                else:
                    result[key] = None

    def block_scalar(self, indent: int, folded: bool) -> str:
        body = []
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if line.strip() and _indent(line) <= indent:
                break
            body.append(line)
            self.i += 1
        while body and not body[-1].strip():
            body.pop()
        if not body:
            return ""
        cut = min(_indent(line) for line in body if line.strip())
        text = [line[cut:] for line in body]
        return (" ".join(text) if folded else "\n".join(text)).strip() + "\n"


def read_provider_db_file(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        lines = front_matter(f.read())
    content = [line for line in lines if _is_content(line)]
    base = min((_indent(line) for line in content), default=0)
    lines = [line[base:] if len(line) >= base else line.lstrip(" ") for line in lines]
    data = _Reader(lines).mapping(0) or {}
    data["file"] = os.path.splitext(os.path.basename(path))[0]
    data["domains"] = [str(d).strip().lower() for d in (data.get("domains") or [])]
    servers = []
    for server in data.get("server") or []:
        servers.append(
            {
                "protocol": str(server.get("type", "")).lower(),
                "host": str(server.get("hostname", "")).lower(),
                "port": int(server.get("port", 0)),
                "security": SECURITY.get(str(server.get("socket", "")).upper(), "?"),
                "username": USERNAME.get(str(server.get("username_pattern", "EMAIL")).upper(), "?"),
            }
        )
    data["servers"] = servers
    data["status"] = str(data.get("status", "")).upper()
    return data


def read_provider_db(directory: str) -> list[dict]:
    files = sorted(glob.glob(os.path.join(directory, "*.md")))
    if not files:
        sys.exit(f"error: no provider-database files (*.md) in {directory}")
    return [read_provider_db_file(path) for path in files]


# --------------------------------------------------------------------------
# ISPDB
# --------------------------------------------------------------------------

_DOMAIN = re.compile(r"<domain>\s*([^<]+?)\s*</domain>")


def read_ispdb(directory: str) -> dict[str, str]:
    """domain -> file name, for every `<domain>` element."""
    files = sorted(glob.glob(os.path.join(directory, "*.xml")))
    if not files:
        sys.exit(f"error: no ISPDB files (*.xml) in {directory}")
    domains: dict[str, str] = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"<!--.*?-->", "", f.read(), flags=re.S)
        for match in _DOMAIN.finditer(text):
            domains.setdefault(match.group(1).strip().lower(), os.path.basename(path))
    return domains


# --------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------


class Catalogue:
    def __init__(self, path: str):
        with open(path, "rb") as f:
            raw = f.read()
        self.data = tomllib.loads(raw.decode("utf-8"))
        self.entries = self.data.get("provider", [])
        self.by_id = {e["id"]: e for e in self.entries}
        self.exact: dict[str, dict] = {}
        self.wildcard: dict[str, dict] = {}
        for entry in self.entries:
            for domain in entry.get("domains", []):
                if domain.startswith("*."):
                    self.wildcard[domain[2:]] = entry
                else:
                    self.exact[domain] = entry
        self.recorded = self._recorded_differences(raw.decode("utf-8"))

    @staticmethod
    def _recorded_differences(text: str) -> dict[str, list[str]]:
        """id -> the `# provider-db differs:` comments inside that entry (after its `id`);
        a comment goes on over the following lines that start with `#` and two spaces."""
        recorded: dict[str, list[str]] = {}
        current = None
        open_comment = None
        for line in text.split("\n"):
            if line.strip() in ("[[provider]]", "[[gateway]]"):
                current, open_comment = None, None
                continue
            match = re.match(r'^id\s*=\s*"([^"]+)"', line)
            if match and current is None:
                current = match.group(1)
                continue
            diff = DIFF_COMMENT.match(line)
            if diff and current:
                recorded.setdefault(current, []).append(diff.group(1).strip())
                open_comment = recorded[current]
            elif open_comment is not None and re.match(r"^\s*#\s{2,}\S", line):
                open_comment[-1] += " " + line.strip().lstrip("#").strip()
            else:
                open_comment = None
        return recorded

    def lookup(self, domain: str):
        domain = domain.rstrip(".")
        if domain in self.exact:
            return self.exact[domain]
        for index, char in enumerate(domain):
            if char == "." and domain[index + 1 :] in self.wildcard:
                return self.wildcard[domain[index + 1 :]]
        return None


def lookup(catalogue: Catalogue, domain: str):
    """The entry for `domain`; a provider-database wildcard `*.x` is asked as `sub.x`."""
    if domain.startswith("*."):
        domain = "subdomain" + domain[1:]
    return catalogue.lookup(domain)


def first(servers: list[dict], protocol: str):
    return next((s for s in servers if s.get("protocol") == protocol), None)


def describe(server) -> str:
    if server is None:
        return "none"
    return f"{server['host']}:{server['port']}/{server['security']}"


def same(ours, theirs) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    return (ours["host"].lower(), int(ours["port"]), ours["security"]) == (
        theirs["host"],
        theirs["port"],
        theirs["security"],
    )


# --------------------------------------------------------------------------
# TOML output
# --------------------------------------------------------------------------


def snippet_new_entry(provider: dict, domains: list[str]) -> str:
    ident = provider["file"].removesuffix(".md")
    out = [f"# provider-db {provider['file']}.md", "[[provider]]", f'id = "{ident}"']
    out.append(f'name = "{provider.get("name", ident)}"')
    out.append('nylas = "imap"')
    broken = provider["status"] == "BROKEN"
    out.append('auth = "unsupported"' if broken else 'auth = "password"')
    out.append(toml_array("domains", domains))
    if provider.get("before_login_hint"):
        out.append("# TODO requires/notes from before_login_hint (own words): "
                   + " ".join(str(provider["before_login_hint"]).split())[:90])
    if provider.get("website"):
        out.append(f'documentation = "{provider["website"]}"')
    if not broken:
        for direction, protocol in (("incoming", "imap"), ("outgoing", "smtp")):
            for server in provider["servers"]:
                if server["protocol"] != protocol:
                    continue
                out += ["", f"[[provider.{direction}]]", f'protocol = "{protocol}"',
                        f'host = "{server["host"]}"', f"port = {server['port']}",
                        f'security = "{server["security"]}"']
                if server["username"] != "%EMAILADDRESS%":
                    out.append(f'username = "{server["username"]}"')
    return "\n".join(out)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalogue", default=DEFAULT_CATALOGUE)
    parser.add_argument("--provider-db", default=DEFAULT_PROVIDER_DB)
    parser.add_argument("--ispdb", default=DEFAULT_ISPDB)
    parser.add_argument("--emit-toml", action="store_true",
                        help="print TOML snippets for the missing provider-database domains")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 on unknown domains or unrecorded differences")
    args = parser.parse_args()

    catalogue = Catalogue(args.catalogue)
    providers = read_provider_db(args.provider_db)
    ispdb = read_ispdb(args.ispdb)

    pdb_domains: dict[str, dict] = {}
    for provider in providers:
        for domain in provider["domains"]:
            pdb_domains.setdefault(domain, provider)

    unknown_count = skipped_count = 0
    missing: dict[str, list[str]] = {}  # provider file -> unknown domains
    skipped: dict[str, list[str]] = {}
    differences = []  # (entry id, provider file, what, recorded?)
    broken_offered = []
    compared: set[tuple[str, str]] = set()
    for domain, provider in sorted(pdb_domains.items()):
        entry = lookup(catalogue, domain)
        if provider["file"] in SKIPPED:
            skipped.setdefault(provider["file"], []).append(domain)
            skipped_count += 1
            if entry is None:
                continue
        if entry is None:
            missing.setdefault(provider["file"], []).append(domain)
            unknown_count += 1
            continue
        if provider["status"] == "BROKEN" and entry["auth"] in ("password", "app-password"):
            broken_offered.append((domain, entry["id"], entry["auth"]))
        key = (entry["id"], provider["file"])
        if key in compared:
            continue
        compared.add(key)
        if provider["status"] == "BROKEN" or not provider["servers"]:
            continue
        for protocol, direction in (("imap", "incoming"), ("smtp", "outgoing")):
            ours = first(entry.get(direction, []), protocol)
            theirs = first(provider["servers"], protocol)
            if theirs is None or same(ours, theirs):
                continue
            what = f"{protocol} {describe(theirs)} (ours {describe(ours)})"
            recorded = any(describe(theirs) in c for c in catalogue.recorded.get(entry["id"], []))
            differences.append((entry["id"], provider["file"], what, recorded))

    total = len(pdb_domains)
    ispdb_unknown = sorted(d for d in ispdb if lookup(catalogue, d) is None)

    print(f"catalogue: {args.catalogue}: {len(catalogue.entries)} entries, "
          f"{len(catalogue.exact) + len(catalogue.wildcard)} domains")
    print(f"provider-database files: {len(providers)}, domains: {total}")
    known_all = sum(1 for d in pdb_domains if lookup(catalogue, d) is not None)
    print(f"provider-database domains known {known_all} / {total}"
          f" (skipped on purpose: {skipped_count}, unknown and not skipped: {unknown_count})")
    print(f"ISPDB domains known {len(ispdb) - len(ispdb_unknown)} / {len(ispdb)}")

    if missing:
        print(f"\nunknown provider-database domains ({unknown_count}):")
        for file, domains in sorted(missing.items()):
            near = sorted({lookup(catalogue, d)["id"] for p in providers if p["file"] == file
                           for d in p["domains"] if lookup(catalogue, d)})
            hint = f"; other domains of this provider are in: {', '.join(near)}" if near else ""
            print(f"  {file}.md ({len(domains)}): {', '.join(domains)}{hint}")
    if skipped:
        print(f"\nskipped on purpose ({skipped_count}):")
        for file, domains in sorted(skipped.items()):
            now_known = [d for d in domains if lookup(catalogue, d) is not None]
            stale = f" (known now, drop from SKIPPED: {', '.join(now_known)})" if now_known else ""
            print(f"  {file}.md: {', '.join(domains)}: {SKIPPED[file]}{stale}")
    if ispdb_unknown:
        print(f"\nunknown ISPDB domains ({len(ispdb_unknown)}):")
        for domain in ispdb_unknown:
            print(f"  {domain} ({ispdb[domain]})")

    if differences:
        print(f"\nserver differences, first IMAP/SMTP server ({len(differences)}):")
        for entry_id, file, what, recorded in differences:
            state = "recorded" if recorded else "NOT RECORDED"
            print(f"  [{state}] {entry_id} vs {file}.md: provider-db {what}")
    recorded_comments = sum(len(v) for v in catalogue.recorded.values())
    print(f"\n'# provider-db differs' comments in the catalogue: {recorded_comments}")
    for entry_id, comments in sorted(catalogue.recorded.items()):
        for comment in comments:
            print(f"  {entry_id}: {comment}")

    if broken_offered:
        print(f"\nprovider-db BROKEN but offered with a password ({len(broken_offered)}):")
        for domain, entry_id, auth in broken_offered:
            print(f"  {domain}: {entry_id} auth = {auth}")

    if args.emit_toml and missing:
        print("\n# ---- TOML for the missing provider-database domains (review before use) ----")
        for file, domains in sorted(missing.items()):
            provider = next(p for p in providers if p["file"] == file)
            near = sorted({lookup(catalogue, d)["id"] for d in provider["domains"]
                           if lookup(catalogue, d)})
            print()
            if near:
                print(f"# {file}.md: append to `domains` of the entry id = {near[0]!r}:")
                print(toml_array("domains", domains).split("[", 1)[1].rstrip("]").strip("\n"))
            else:
                print(snippet_new_entry(provider, domains))

    failed = bool(missing or ispdb_unknown or broken_offered
                  or any(not recorded for *_, recorded in differences))
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # output piped into `head`
        sys.stderr.close()
        sys.exit(1)
