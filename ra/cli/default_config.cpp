// SPDX-License-Identifier: Apache-2.0
// The commented configuration `scep-ra init` writes, every key at its default.
#include <sstream>

#include "cli/app_config.hpp"
#include "core/template_selection.hpp"

namespace scepra::cli {

namespace {

using FileAt = std::string (*)(const InstanceLayout&, const std::string&);

/// A file of the instance, as the config names it: relative, or absolute under the state directory.
std::string file_at(const InstanceLayout& layout, const std::string& name) {
    return layout.state_dir.empty() || name.empty() ? name : (layout.state_dir / name).string();
}

std::string local_ca_section(const InstanceLayout& layout) {
    std::ostringstream out;
    auto at = [&layout](const std::string& name) { return file_at(layout, name); };
    out << R"([local_ca]
cert = )"
        << at("ca.pem") << R"(
key = )" << at("private/ca.key")
        << R"(
# Optional PEM file with further CA certificates up to the root.
chain =
validity_days = 365
# notBefore is set this many minutes in the past, for clients with slow clocks.
backdate_minutes = 10
# keyUsage and extendedKeyUsage of issued certificates (OpenSSL names; empty = none).
key_usage = digitalSignature,keyEncipherment
extended_key_usage = clientAuth
# 1 copies the subjectAltName the client asked for; no other requested extension is ever copied.
copy_san = 1
# Signature digest of certificates and CRLs: SHA256, SHA384 or SHA512 (MD5 and SHA-1 are refused).
digest = SHA256
# The CRL is served over plain HTTP on the SCEP listener at crl_path, and
# re-signed after every revocation and when half of crl_validity_hours passed.
crl_path = /crl/scep-ra.crl
crl_validity_hours = 168
# When set (e.g. http://ra.example.com:8080/crl/scep-ra.crl), issued
# certificates name it as their CRL distribution point.
crl_distribution_point =
# Certificate templates: a [profile.NAME] section defines the template NAME
# (the names in [templates] pick one by key usage). Keys: validity_days,
# key_usage, extended_key_usage, copy_san, min_rsa_bits, allowed_key_types
# (RSA,EC,ED25519,...), manual_approval (1 = requests wait for
# `scep-ra request approve`). Templates without a section use the settings above.
# Keys accepted by default: RSA of at least 2048 bits (min_rsa_bits) and EC
# on P-256, P-384 or P-521; Ed25519 and Ed448 only where allowed_key_types
# lists them; DSA never.
#
# [profile.)"
        << core::default_template_name << R"(]
# validity_days = 730
# extended_key_usage = clientAuth,serverAuth
# manual_approval = 0

)";
    return out.str();
}

std::string ejbca_section(const InstanceLayout& layout) {
    auto at = [&layout](const std::string& name) { return file_at(layout, name); };
    std::ostringstream out;
    out << R"([ejbca]
# EJBCA's REST API (enable "REST Certificate Management" in EJBCA's System
# Configuration > Protocol Configuration). Requests are enrolled with
# POST v1/certificate/pkcs10enroll; scep-ra authenticates with a TLS client
# certificate that EJBCA knows as an administrator.
url = https://ejbca.example:8443/ejbca/ejbca-rest-api
client_cert = )"
        << at("ejbca-client.pem") << R"(
client_key = )"
        << at("private/ejbca-client.key") << R"(
# CA certificate(s) that verify EJBCA's TLS certificate; the host name is always checked.
server_ca = )"
        << at("ejbca-server-ca.pem") << R"(
# The issuing CA's name in EJBCA (certificate_authority_name), not its DN.
ca_name = IssuingCA1
# Profiles used unless an [ejbca.template.NAME] section names others.
certificate_profile = ENDUSER
end_entity_profile = EMPTY
# The end entity a certificate is filed under: cn, cn+transaction, san-dns or san-email.
username = cn
# Optional PEM file with the CA chain (issuing CA first). Empty: fetched from
# EJBCA at start (and kept, so that a restart while EJBCA is down still works).
chain =
timeout_seconds = 30
# Profiles the RA's own certificates are enrolled with (scep-ra init --backend ejbca).
ra_certificate_profile =
ra_end_entity_profile =

# Per scep-ra template (the names in [templates]), other EJBCA profiles:
# [ejbca.template.)"
        << core::default_template_name << R"(]
# certificate_profile = ENDUSER
# end_entity_profile = EMPTY

)";
    return out.str();
}

std::string adcs_section(const InstanceLayout& layout) {
    auto at = [&layout](const std::string& name) { return file_at(layout, name); };
    std::ostringstream out;
    out << R"([adcs]
# The AD CS bridge (scep-ra-adcs-bridge, its own service), which submits to
# the Enterprise CA over MS-ICPR or MS-WCCE. scep-ra reaches it over HTTPS
# with a client certificate the bridge's allow_client lists.
bridge_url = https://127.0.0.1:8444
client_cert = )"
        << at("adcs-client.pem") << R"(
client_key = )"
        << at("private/adcs-client.key") << R"(
# Verifies the bridge's TLS certificate.
server_ca = )"
        << at("adcs-bridge-ca.pem") << R"(
timeout_seconds = 60
# Optional PEM file with the CA chain (issuing CA first), read again at every
# reload. Empty: GET /v1/ca from the bridge at start and at every reload (and
# kept for a restart while it is down).
chain =
# The templates `scep-ra ra enroll` enrols the RA certificates with, as NDES
# does: EnrollmentAgentOffline (Exchange Enrollment Agent (Offline request))
# for the RA signing certificate, CEPEncryption (CEP Encryption) for the RA
# encryption certificate. They must issue without CA manager approval.
ra_signing_template = EnrollmentAgentOffline
ra_encryption_template = CEPEncryption

)";
    return out.str();
}

std::string backend_sections(const InstanceLayout& layout) {
    std::ostringstream out;
    out << R"([ca]
# CA backend that issues approved requests: local (the embedded OpenSSL CA),
# ejbca (EJBCA over its REST API) or adcs (a Microsoft Enterprise CA through
# the AD CS bridge). Only the chosen backend's section is used.
backend = )"
        << layout.backend << R"(
# A new request the CA cannot take (down): pending (the device gets PENDING,
# the request is held and submitted again at its next poll) or fail (FAILURE).
unavailable = pending

)";
    if (layout.backend == "ejbca") {
        out << ejbca_section(layout);
    } else if (layout.backend == "adcs") {
        out << adcs_section(layout);
    } else {
        out << local_ca_section(layout);
    }
    return out.str();
}

}  // namespace

std::string default_config_text(const std::string& listen, const std::string& admin_listen,
                                const std::string& admin_tls_cert, const std::string& admin_tls_key,
                                const InstanceLayout& layout) {
    auto at = [&layout](const std::string& name) { return file_at(layout, name); };
    std::ostringstream out;
    out << R"(# scep-ra configuration, written by `scep-ra init`.
# Relative paths are relative to the directory of this file.
# Changes to [password], [challenge] validator, [profile.NAME] validator and
# [webhook] take effect on `scep-ra reload` (or SIGHUP); all others when
# `scep-ra serve` is restarted.

[server]
# Address and port of the SCEP listener (HOST:PORT, [IPv6]:PORT).
listen = )"
        << listen << R"(
# Worker threads: requests answered at the same time (a connection waiting
# for its next request holds none). A request waits on its worker while the
# CA answers: with a remote CA, size this to rate x the CA's answer time
# (256 workers kept a CA 200 ms away at the CPU bound, BENCHMARKS.md).
threads = 64
# Largest PKIOperation POST body accepted, in bytes.
max_body_bytes = 2097152
# Connections open at once, in all and from one client address (a NAT holds
# many devices); beyond either a new connection gets HTTP 503 and is closed.
max_connections = 4096
max_connections_per_address = 256
# Requests whose head has arrived, waiting for a worker; beyond it HTTP 503.
max_queued_requests = 1024
# Requests from one client address (an IPv6 host by its /64) waiting for or
# with a worker at once; beyond it HTTP 503, so that one host's slow bodies
# cannot hold every worker. A NAT in front of many devices counts as one.
max_active_requests_per_address = 32
# A whole request, from its first byte to its last, must arrive within this.
request_timeout_seconds = 60
# A kept-alive connection is closed after this long without a new request,
# and after this many requests.
idle_timeout_seconds = 5
max_requests_per_connection = 1000
# A client must take the whole answer within this.
write_timeout_seconds = 30
# `serve` writes its process id here; `scep-ra reload` signals it.
pid_file = )"
        << layout.pid_file << R"(

[ra]
# The RA's own certificates: signing (digitalSignature, signs every CertRep)
# and encryption (keyEncipherment, clients encrypt their requests to it).
signing_cert = )"
        << at("ra-signing.pem") << R"(
signing_key = )"
        << at("private/ra-signing.key") << R"(
encryption_cert = )"
        << at("ra-encryption.pem") << R"(
encryption_key = )"
        << at("private/ra-encryption.key") << R"(
# 1 accepts requests encrypted with single DES (forbidden by RFC 8894, but the
# only cipher of some legacy clients such as micromdm scepclient). Replies
# to them are encrypted with triple DES.
allow_single_des = 0
# Refuse (failInfo badTime) requests whose signingTime is further than this
# many minutes from the RA's clock. 0 = do not check (devices often enrol
# before they have the time).
max_clock_skew_minutes = 0

[database]
# SQLite file holding challenge passwords, issued certificates and the audit trail.
path = )"
        << at("scep-ra.db") << R"(

)" << backend_sections(layout)
        << R"([challenge]
# Who decides a new request: local = the [password] modes below (as NDES);
# webhook = an MDM or policy service ([webhook], see README "Policy webhook").
# A [profile.NAME] section may name its own validator for its template.
validator = local

[password]
# The NDES settings, under their registry names.
# 1 = every PKCSReq needs a valid challenge password; 0 = none needed (audited as unauthenticated).
EnforcePassword = 1
# 1 = one reusable password instead of one-time passwords.
UseSinglePassword = 0
# One-time passwords: at most PasswordMax unused at a time, PasswordLength
# random bytes (shown as twice as many hex digits), valid PasswordValidity minutes.
PasswordMax = 5
PasswordLength = 8
PasswordValidity = 60
# Key of the keyed hash under which one-time passwords are stored (never in clear).
hmac_key = )"
        << at("private/challenge-hmac.key") << R"(

[admin]
# The NDES admin page, /certsrv/mscep_admin/, where administrators (accounts
# made with `scep-ra admin add NAME`) get one-time passwords. It has a
# listener of its own (empty = none), served over HTTPS when tls_cert and
# tls_key are set.
listen = )"
        << admin_listen << R"(
tls_cert = )"
        << at(admin_tls_cert) << R"(
tls_key = )"
        << at(admin_tls_key) << R"(
# 1 also serves the admin page on the SCEP listener (plain HTTP there unless
# that listener is behind TLS): off by default.
on_scep_listener = 0
# The admin page takes passwords (HTTP Basic) only over HTTPS. 1 allows plain
# HTTP (an admin listener without tls_cert, or on_scep_listener = 1), e.g.
# when TLS ends at a proxy on the same host. Otherwise such a file is refused.
allow_plaintext = 0
# The HTML page is UTF-16LE like NDES's (Fleet, ManageEngine, Zentral and
# PSNDESEnrollment read it so); 0 serves UTF-8. utf16_bom = 1 starts it with
# the byte order mark FF FE, which Zentral and PSNDESEnrollment need; Fleet
# and ManageEngine read it either way.
utf16 = 1
utf16_bom = 1
# How the page authenticates, in the order offered: negotiate, ntlm, basic
# (negotiate,ntlm,basic as IIS offers them). NTLM is NTLMv2 only and works for
# accounts added (or re-added) since scep-ra stores their sealed NT hash.
auth = basic
# negotiate (Kerberos) needs the keytab of HTTP/<this host's name> (chmod 600
# or 640, owned by scep-ra); service_principal defaults to the keytab's first.
# A principal logs in as the admin account of its full name (alice@EXAMPLE.COM),
# or as "alice" when kerberos_realm = EXAMPLE.COM.
keytab =
service_principal =
kerberos_realm =

[renewal]
# A RenewalReq, or a PKCSReq signed by a certificate this CA issued, is
# authenticated by that certificate: no challenge password is needed.
# 0 stops advertising and accepting renewal.
enabled = 1
# Days after expiry during which an expired certificate may still renew.
grace_days = 0
# 1 = the new request must keep the certificate's subject.
same_subject = 1
# 1 = the new request must use a new key (otherwise a new key is allowed, not required).
require_new_key = 0
# Renewal only in the last N days / last N percent of the validity (0 = any time).
window_days = 0
window_percent = 0
# A renewal never adds subjectAltName entries. same = the request's
# subjectAltName must equal the certificate's; subset = it may drop names.
san = same
# Where the revocation status of the certificate that signs a renewal comes
# from: backend (the CA backend's records: local, ejbca), crl (the CRL at the
# certificate's HTTP CRL distribution point, signed by the CA: how AD CS
# publishes, and it also covers devices enrolled before scep-ra), or none
# (not checked; said at every start).
revocation = )"
        << (layout.backend == "adcs" ? "crl" : "backend") << R"(
# 1 = a certificate the CA issued without scep-ra (NDES's, before the move)
# may renew, keeping the template its keyUsage picks; 0 = only a certificate
# scep-ra issued (any other one the CA issued, such as a user's certificate
# of another profile, could otherwise renew into a SCEP template).
unrecorded_signers = 1

[policy]
# A new PKCSReq (with a challenge password) for a subject that already holds
# a valid certificate: allow, or require-renewal (refused: renew instead).
existing_subject = allow

[templates]
# The certificate template (NDES) chosen by the key usage a request asks for:
# digitalSignature only -> SignatureTemplate, keyEncipherment only ->
# EncryptionTemplate, both or no keyUsage at all -> GeneralPurposeTemplate.
SignatureTemplate = )"
        << core::default_template_name << R"(
EncryptionTemplate = )"
        << core::default_template_name << R"(
GeneralPurposeTemplate = )"
        << core::default_template_name << R"(

[throttle]
# Failed challenge passwords (wrong, used, expired, revoked, missing, or bound
# to another subject or template) are counted per client address and per
# subject: max_failures within window_minutes lock that address or subject
# out for lockout_minutes (refused with "too many failed attempts" before any
# password check). `scep-ra lockout list` shows them, `lockout clear` lifts them.
max_failures = 5
window_minutes = 15
lockout_minutes = 15

[audit]
# Audit events, admin logins, password events and throttle entries older than
# this many days are deleted by the server at start and once a day (and by
# `scep-ra audit purge`). 0 = keep them forever.
retention_days = 365

[metrics]
# Prometheus metrics at http://HOST:PORT/metrics on a listener of their own:
# plain HTTP without login (nothing secret is in them), so keep it on
# loopback or a management network. Empty = no metrics listener.
listen = 127.0.0.1:9464

[log]
# The request log on stderr (the journal under systemd), one line per request:
# text, or json (one JSON object per line: time, level, peer, method, path,
# status, duration_ms, operation, message_type, transaction_id, outcome,
# fail_info, backend, detail). Client-supplied text is escaped; no secrets.
format = text
)";
    return out.str();
}

}  // namespace scepra::cli
