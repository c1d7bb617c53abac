# SPDX-License-Identifier: Apache-2.0
"""scep-ra-adcs-bridge: serve | check-config | unknown | resolve."""
import argparse
import os
import re
import signal
import socket
import sys
import threading

from . import outcome
from .config import ConfigError, load_config
from .logline import CallLog
from .rpc import CaUnreachable, Credentials, OutcomeUnknown, credentials_from_keytab, read_secret_file
from .store import SubmissionMap

DEFAULT_CONFIG = "/etc/scep-ra/adcs-bridge.conf"


def ca_client(config):
    # impacket takes tickets from a credential cache named by KRB5CCNAME before the keytab: a
    # bridge started from an admin's shell after kinit would enrol as that admin.
    os.environ.pop("KRB5CCNAME", None)
    if config.auth == "ntlm":
        creds = Credentials("ntlm", config.domain, config.username, password=read_secret_file(config.password_file))
    elif config.auth == "kerberos":
        creds = credentials_from_keytab(config.keytab, config.username, config.domain)
    else:
        creds = Credentials("none")
    if config.transport == "dcom":
        from .dcom import DcomClient
        return DcomClient(config.ca_host, config.ca_name, creds, config.timeout_seconds)
    from .icpr import IcprClient
    return IcprClient(config.ca_host, config.ca_name, config.port, creds, config.timeout_seconds)


def _open_log(config) -> CallLog:
    if not config.log:
        return CallLog(sys.stderr)
    fd = os.open(config.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    return CallLog(os.fdopen(fd, "a", encoding="utf-8"))


def build_server(config, log):
    """The bridge as `serve` runs it: the map (recovered), the CA client, the HTTPS server."""
    from .http_api import BridgeServer, tls_context
    from .service import Bridge
    submissions = SubmissionMap(config.state)
    recovered = submissions.recover()
    bridge = Bridge(ca_client(config), submissions, config.chain, config.templates, log)
    server = BridgeServer((config.listen_host, config.listen_port), bridge, config.allow_client,
                          tls_context(config.tls_cert, config.tls_key, config.client_ca), log)
    log.write("start", listen="%s:%d" % server.server_address[:2], ca=config.config_string,
              transport=config.transport, auth=config.auth, recovered_unknown=recovered)
    return server, submissions


def serve(config) -> int:
    # A backstop: a socket nothing else gives a timeout gets the CA timeout instead of none
    # (impacket's SMB session for \pipe\cert puts its socket back to this default once connected,
    # until its first read sets one). The HTTPS connections set their own, and the listening
    # socket accepts only when a connection is ready.
    socket.setdefaulttimeout(config.timeout_seconds)
    log = _open_log(config)
    server, submissions = build_server(config, log)

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        submissions.close()
        log.write("stop")
    return 0


def list_unknown(config, out) -> int:
    submissions = SubmissionMap(config.state)
    rows = submissions.unknown()
    for row in rows:
        out.write("%s\ttemplate=%s\tcsr_sha256=%s\tsince=%d\n" % (row.client_ref, row.template, row.csr_sha256,
                                                                  row.created_at))
    if not rows:
        out.write("no request with an unknown outcome\n")
    return 0


def resolve(config, args, out) -> int:
    submissions = SubmissionMap(config.state)
    try:
        if args.not_submitted:
            submissions.resolve_not_submitted(args.client_ref)
            out.write("%s: forgotten; the next POST submits it again\n" % args.client_ref)
        else:
            state = _request_at_the_ca(config, submissions, args.client_ref, args.request_id)
            submissions.resolve(args.client_ref, args.request_id)
            out.write("%s: now follows request %d (%s)\n" % (args.client_ref, args.request_id, state))
    except LookupError as e:
        sys.stderr.write("scep-ra-adcs-bridge: %s\n" % e)
        return 1
    return 0


def _request_at_the_ca(config, submissions, client_ref: str, request_id: int) -> str:
    """What the CA says of request_id, when it may be client_ref's: it exists, and a certificate it
    issued is for that request's key. Raises LookupError otherwise (a typo must not make a device's
    request follow someone else's)."""
    row = submissions.by_client_ref(client_ref)
    if row is None or row.state != "unknown":
        raise LookupError("no request with an unknown outcome has client_ref %r" % client_ref)
    try:
        answer = ca_client(config).retrieve(request_id)
    except (CaUnreachable, OutcomeUnknown) as e:
        raise LookupError("cannot ask the CA about request %d: %s" % (request_id, e)) from e
    reply = outcome.classify(answer, request_id, row.subject_key, [], 200, is_retrieval=True)
    if reply is None:
        return "issued out of band"
    if reply.status in (404, 503):
        raise LookupError("request %d cannot be %r's: %s" % (request_id, client_ref, reply.body.get("message")))
    return "%s: %s" % (reply.body.get("status"), reply.body.get("message", "certificate for its key"))


def _request_id(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", text) or not 0 < int(text) <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError("must be a request id from 1 to 4294967295")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scep-ra-adcs-bridge", description="scep-ra's bridge to an AD CS CA")
    sub = p.add_subparsers(dest="command", required=True)
    for name, help_text in (("serve", "run the HTTPS API"), ("check-config", "check the config file and exit"),
                            ("unknown", "list requests whose outcome at the CA is unknown")):
        sub.add_parser(name, help=help_text).add_argument("--config", default=DEFAULT_CONFIG)
    r = sub.add_parser("resolve", help="settle a request whose outcome is unknown")
    r.add_argument("client_ref")
    how = r.add_mutually_exclusive_group(required=True)
    how.add_argument("--request-id", type=_request_id, help="the CA's id for this request")
    how.add_argument("--not-submitted", action="store_true", help="the CA never got it: allow a new submission")
    r.add_argument("--config", default=DEFAULT_CONFIG)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        for line in e.errors:
            sys.stderr.write("scep-ra-adcs-bridge: %s\n" % line)
        return 2
    if args.command == "unknown":
        return list_unknown(config, sys.stdout)
    if args.command == "resolve":
        return resolve(config, args, sys.stdout)
    try:
        ca_client(config)   # reads the password file or the keytab
    except Exception as e:   # impacket's keytab parser raises whatever struct raises on a bad file
        key = "password_file" if config.auth == "ntlm" else "keytab"
        sys.stderr.write("scep-ra-adcs-bridge: %s: [auth] %s: %s\n" % (config.path, key, e))
        return 2
    if args.command == "check-config":
        print("%s: ok" % args.config)
        return 0
    return serve(config)
