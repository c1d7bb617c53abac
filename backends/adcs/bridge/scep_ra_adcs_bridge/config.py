# SPDX-License-Identifier: Apache-2.0
"""The bridge's INI config file. Every error names the file, section and key; all are
reported at once."""
import configparser
import dataclasses
import ipaddress
import os
import re
import stat

from cryptography import x509

from .pem import load_pem_certificates

SCHEMA = {
    "server": ("listen", "tls_cert", "tls_key", "client_ca", "allow_client"),
    "ca": ("ca_host", "ca_name", "transport", "port", "templates", "chain", "timeout_seconds"),
    "auth": ("auth", "domain", "username", "password_file", "keytab"),
    "bridge": ("state", "log"),
}
MAX_TEMPLATE_LENGTH = 64
_TEMPLATE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,%d}" % (MAX_TEMPLATE_LENGTH - 1))
_HEX = re.compile(r"[0-9A-Fa-f]{64}")


@dataclasses.dataclass(frozen=True)
class AllowedClients:
    fingerprints: frozenset      # lower-case hex SHA-256 of the DER certificate
    subjects: frozenset          # RFC 4514 strings as python3-cryptography prints them

    def allows(self, fingerprint: str, subject: str) -> bool:
        return fingerprint in self.fingerprints or subject in self.subjects


@dataclasses.dataclass(frozen=True)
class BridgeConfig:
    path: str
    listen_host: str
    listen_port: int
    tls_cert: str
    tls_key: str
    client_ca: str
    allow_client: AllowedClients
    ca_host: str
    ca_name: str
    transport: str
    port: object                  # int, "pipe" or "epm"
    templates: tuple
    chain: tuple                  # x509.Certificate, issuing CA first
    timeout_seconds: float
    auth: str
    domain: str
    username: str
    password_file: str
    keytab: str
    state: str
    log: str

    @property
    def config_string(self) -> str:
        return "%s\\%s" % (self.ca_host, self.ca_name)


class ConfigError(Exception):
    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


class _Checker:
    def __init__(self, path: str, parser: configparser.ConfigParser):
        self.path = path
        self.parser = parser
        self.errors = []

    def error(self, section: str, key: str, message: str) -> None:
        self.errors.append("%s: [%s] %s: %s" % (self.path, section, key, message))

    def get(self, section: str, key: str, default=None, required=False):
        if self.parser.has_option(section, key):
            value = self.parser.get(section, key).strip()
            if value:
                return value
        if required:
            self.error(section, key, "is required")
        return default

    def choice(self, section: str, key: str, choices, default):
        value = self.get(section, key, default)
        if value not in choices:
            self.error(section, key, "must be one of %s, not %r" % (" | ".join(choices), value))
            return default
        return value

    def readable_file(self, section: str, key: str, required=True, private=False):
        value = self.get(section, key, required=required)
        if value is None:
            return None
        try:
            mode = os.stat(value).st_mode
            with open(value, "rb"):
                pass
        except OSError as e:
            self.error(section, key, "cannot read %s: %s" % (value, e.strerror))
            return None
        if private and mode & (stat.S_IRWXG | stat.S_IRWXO):
            self.error(section, key, "%s must not be readable by group or others (chmod 600)" % value)
        return value

    def certificates(self, section: str, key: str, required: bool):
        path = self.readable_file(section, key, required=required)
        if path is None:
            return ()
        try:
            with open(path, "rb") as f:
                certs = load_pem_certificates(f.read())
        except ValueError as e:
            self.error(section, key, "%s: %s" % (path, e))
            return ()
        if not certs:
            self.error(section, key, "%s holds no PEM certificate" % path)
        return tuple(certs)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_listen(c: _Checker):
    value = c.get("server", "listen", "127.0.0.1:8444")
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]]+):(\d{1,5})", value)
    if not m:
        c.error("server", "listen", "must be HOST:PORT or [IPV6]:PORT, not %r" % value)
        return "127.0.0.1", 8444
    host, port = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    if not 0 <= int(port) < 65536:   # 0: any free port (the start line in the log names it)
        c.error("server", "listen", "port %s is out of range" % port)
    return host, int(port)


def _parse_allow(c: _Checker) -> AllowedClients:
    fingerprints, subjects = set(), set()
    value = c.get("server", "allow_client", required=True) or ""
    for line in (item.strip() for item in value.splitlines()):
        if not line:
            continue
        kind, _, rest = line.partition(":")
        rest = rest.strip()
        if kind == "sha256" and _HEX.fullmatch(rest.replace(":", "")):
            fingerprints.add(rest.replace(":", "").lower())
        elif kind == "subject" and rest:
            try:
                subjects.add(x509.Name.from_rfc4514_string(rest).rfc4514_string())
            except (ValueError, AttributeError):
                subjects.add(rest)
        else:
            c.error("server", "allow_client", "entry %r must be 'sha256:<64 hex>' or 'subject:<RFC 4514 DN>'" % line)
    return AllowedClients(frozenset(fingerprints), frozenset(subjects))


def _parse_port(c: _Checker):
    value = c.get("ca", "port", "pipe")
    if value in ("pipe", "epm"):
        return value
    if re.fullmatch(r"[0-9]{1,5}", value) and 0 < int(value) < 65536:
        return int(value)
    c.error("ca", "port", "must be a TCP port, 'pipe' (\\pipe\\cert over SMB) or 'epm' (endpoint mapper), not %r"
            % value)
    return "pipe"


def _parse_templates(c: _Checker) -> tuple:
    value = c.get("ca", "templates", required=True) or ""
    names = [t.strip() for t in re.split(r"[,\n]", value) if t.strip()]
    for name in names:
        if not _TEMPLATE.fullmatch(name):
            c.error("ca", "templates", "%r is not a template name (letters, digits, space, _ . -; at most %d)"
                    % (name, MAX_TEMPLATE_LENGTH))
    if value and not names:
        c.error("ca", "templates", "lists no template")
    return tuple(names)


def _parse_timeout(c: _Checker) -> float:
    value = c.get("ca", "timeout_seconds", "30")
    try:
        timeout = float(value)
    except ValueError:
        timeout = -1
    if not 1 <= timeout <= 600:
        c.error("ca", "timeout_seconds", "must be a number of seconds from 1 to 600, not %r" % value)
        return 30.0
    return timeout


def load_config(path: str) -> BridgeConfig:
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00unused")
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except (OSError, UnicodeDecodeError, configparser.Error) as e:
        raise ConfigError(["%s: cannot read the config: %s" % (path, e)])
    c = _Checker(path, parser)
    for section in parser.sections():
        if section not in SCHEMA:
            c.error(section, "*", "unknown section (expected %s)" % ", ".join(SCHEMA))
            continue
        for key in parser.options(section):
            if key not in SCHEMA[section]:
                c.error(section, key, "unknown key")

    listen_host, listen_port = _parse_listen(c)
    tls_cert = c.readable_file("server", "tls_cert")
    tls_key = c.readable_file("server", "tls_key", private=True)
    client_ca = c.readable_file("server", "client_ca")
    allow = _parse_allow(c)

    ca_host = c.get("ca", "ca_host", required=True) or ""
    ca_name = c.get("ca", "ca_name", required=True) or ""
    if ca_name and ("\\" in ca_name or len(ca_name) > 64):
        c.error("ca", "ca_name", "must be the CA's common name (no backslash, at most 64 characters)")
    transport = c.choice("ca", "transport", ("icpr", "dcom"), "icpr")
    port = _parse_port(c)
    templates = _parse_templates(c)
    chain = c.certificates("ca", "chain", required=True)
    timeout = _parse_timeout(c)

    auth = c.choice("auth", "auth", ("ntlm", "kerberos", "none"), "ntlm")
    domain = c.get("auth", "domain", "", required=auth != "none")
    username = c.get("auth", "username", "", required=auth != "none")
    password_file = keytab = ""
    if auth == "ntlm":
        password_file = c.readable_file("auth", "password_file", private=True) or ""
    elif auth == "kerberos":
        keytab = c.readable_file("auth", "keytab", private=True) or ""
    elif ca_host and not _loopback(ca_host):
        c.error("auth", "auth", "'none' is for tests against a loopback CA only; ca_host %r is not loopback"
                % ca_host)
    if transport == "dcom" and c.get("ca", "port") is not None:
        c.error("ca", "port", "is for icpr only; dcom always starts at the endpoint mapper (135)")

    state = c.get("bridge", "state", required=True) or ""
    if state and not os.path.isdir(os.path.dirname(os.path.abspath(state))):
        c.error("bridge", "state", "the directory of %s does not exist" % state)
    log = c.get("bridge", "log", "")

    if c.errors:
        raise ConfigError(c.errors)
    return BridgeConfig(path, listen_host, listen_port, tls_cert, tls_key, client_ca, allow, ca_host, ca_name,
                        transport, port, templates, chain, timeout, auth, domain, username, password_file, keytab,
                        state, log)
