// SPDX-License-Identifier: Apache-2.0
// doctor --enroll: one real enrolment through the running server, as a device
// makes it, with a certificate named so the audit trail shows it for a test.
#include <optional>

#include "cli/backend_factory.hpp"
#include "cli/doctor_server.hpp"
#include "cli/instance.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/log_text.hpp"
#include "local/local_ca_backend.hpp"
#include "scep/ca_certs.hpp"
#include "scep/client.hpp"
#include "scep/client_identity.hpp"
#include "scep/issued_cert_check.hpp"

namespace scepra::cli {

namespace {

const std::string enrol_check = "test enrolment";
constexpr int cessation_of_operation = 5;  // RFC 5280 CRLReason

/// CN=scep-ra-doctor-20261202T063500Z: the audit trail and CA show what it was.
std::string test_common_name(TimePoint now) {
    std::string text;
    for (char ch : sql_time(now)) {
        if (ch == ' ') {
            text += 'T';
        } else if (ch != '-' && ch != ':') {
            text += ch;
        }
    }
    return "scep-ra-doctor-" + text + "Z";
}

struct Challenge {
    std::string password;
    std::string consumed;  ///< what the enrolment uses up, for the operator
    std::optional<std::int64_t> one_time_id;
};

/// The challenge password the configured mode gives this enrolment, or nullopt
/// (with a finding saying why) when there is none to be had.
std::optional<Challenge> obtain_challenge(const AppConfig& c, const std::string& common_name,
                                          const TestEnrolment& options, store::ChallengeStore& challenges,
                                          std::vector<DoctorFinding>& out) {
    if (!c.password.enforce_password) {
        return Challenge{"", "no challenge password (EnforcePassword = 0)", std::nullopt};
    }
    if (c.password.use_single_password) {
        if (!options.single_password) {
            out.push_back(
                {enrol_check, Verdict::fail,
                 "UseSinglePassword = 1 and scep-ra keeps only the password's hash",
                 "give the single password on stdin: scep-ra doctor --enroll --single-password-file -"});
            return std::nullopt;
        }
        return Challenge{*options.single_password, "the single password (it stays valid)", std::nullopt};
    }
    try {
        // Bound to the test's name: nothing else can use it, even if the test stops half-way.
        const auto issued =
            challenges.issue(c.password.one_time, "doctor", std::nullopt, {.expected_subject = common_name});
        return Challenge{issued.password, "one one-time password (id " + std::to_string(issued.id) + ")",
                         issued.id};
    } catch (const store::ChallengeCacheFull& e) {
        out.push_back(
            {enrol_check, Verdict::fail,
             std::string(e.what()) + " " + std::to_string(c.password.one_time.max_outstanding) +
                 " unused one-time passwords are outstanding (PasswordMax): no device can get one either",
             "revoke unused ones (`scep-ra password list`, `scep-ra password revoke ID`), let them "
             "expire, or raise PasswordMax"});
        return std::nullopt;
    }
}

scep::CaCerts fetch_ca_certs(const ScepHttpClient& server) {
    const HttpAnswer answer = server.get("GetCACert");
    if (answer.status != 200) {
        throw std::runtime_error("GetCACert answered HTTP " + std::to_string(answer.status));
    }
    return scep::read_ca_certs(answer.body, answer.content_type);
}

/// The test certificate is revoked at once: it proved what it had to.
void revoke_test_certificate(const AppConfig& c, store::Database& db, const std::string& serial,
                             std::vector<DoctorFinding>& out) {
    const std::string what = enrol_check + ": revocation";
    const std::string by_hand = "revoke it: scep-ra revoke " + serial + " --reason cessationOfOperation";
    SystemClock clock;
    try {
        auto ca = make_backend(c, db, clock);
        if (!ca->capabilities().revoke) {
            out.push_back({what, Verdict::warn,
                           "the " + ca->name() + " backend cannot revoke: serial " + serial + " stays valid",
                           "revoke serial " + serial + " at the CA"});
            return;
        }
        const auto outcome = ca->revoke(serial, cessation_of_operation);
        if (auto* local = dynamic_cast<backend::local::LocalCaBackend*>(ca.get())) {
            local->crl_der();  // sign the new CRL now, as `scep-ra revoke` does
        }
        out.push_back({what,
                       Verdict::pass,
                       outcome == backend::RevokeOutcome::revoked
                           ? "revoked serial " + serial + " (cessationOfOperation)"
                           : "revocation of serial " + serial + " awaits approval at the CA",
                       {}});
    } catch (const std::exception& e) {
        out.push_back(
            {what, Verdict::warn, std::string("serial ") + serial + " not revoked: " + e.what(), by_hand});
    }
}

/// Reads the server's answer to the request; adds what it says to out.
void judge_reply(const AppConfig& c, store::Database& db, const HttpAnswer& answer, const scep::CaCerts& ca,
                 const scep::ClientIdentity& device, const scep::ClientRequest& request,
                 const std::string& common_name, std::vector<DoctorFinding>& out) {
    if (answer.status != 200) {
        out.push_back({enrol_check, Verdict::fail,
                       "PKIOperation answered HTTP " + std::to_string(answer.status),
                       "see the server's log line for this request (journalctl -u scep-ra)"});
        return;
    }
    const scep::CertRepView reply =
        scep::read_cert_rep(as_bytes(answer.body), *ca.ra_signing, {*device.cert, *device.key});
    if (!reply.signature_valid || !reply.signed_by_expected ||
        reply.transaction_id != request.transaction_id || reply.recipient_nonce != request.sender_nonce) {
        out.push_back(
            {enrol_check, Verdict::fail,
             "the CertRep is not signed by the RA signing certificate GetCACert returned, or does not "
             "answer this request (transactionID, recipientNonce)",
             "devices refuse such a reply: check the [ra] certificates with this doctor's other lines"});
        return;
    }
    if (reply.status == scep::PkiStatus::failure) {
        out.push_back({enrol_check, Verdict::fail,
                       "refused " + common_name + ": failInfo " +
                           (reply.fail_info ? std::string(scep::fail_info_name(*reply.fail_info)) : "none") +
                           (reply.fail_info_text ? " (" + http::log_safe(*reply.fail_info_text) + ")" : ""),
                       "`scep-ra audit --transaction " + request.transaction_id + "` says why"});
        return;
    }
    if (reply.status == scep::PkiStatus::pending) {
        out.push_back({enrol_check, Verdict::warn,
                       "held PENDING (manual approval, or the CA is unavailable): transaction " +
                           request.transaction_id,
                       "deny it: `scep-ra request list` shows the request for CN=" + common_name +
                           ", `scep-ra request deny ID --reason 'doctor test'`"});
        return;
    }
    const scep::IssuedCertCheck issued = scep::check_issued_cert(reply.certs, *device.key, ca);
    if (!issued.failure.empty()) {
        out.push_back(
            {enrol_check, Verdict::fail, issued.failure,
             "devices cannot use such a certificate: check [local_ca] chain (or the remote CA's chain) "
             "and the RA certificates"});
        return;
    }
    out.push_back({enrol_check,
                   Verdict::pass,
                   "issued serial " + issued.serial + " to CN=" + common_name + ", which chains to the CA",
                   {}});
    revoke_test_certificate(c, db, issued.serial, out);
}

}  // namespace

std::vector<DoctorFinding> run_test_enrolment(const AppConfig& c, const ScepHttpClient& server,
                                              const TestEnrolment& options, TimePoint now) {
    std::vector<DoctorFinding> out;
    scep::CaCerts ca;
    try {
        ca = fetch_ca_certs(server);
    } catch (const std::exception& e) {
        out.push_back({enrol_check, Verdict::fail, std::string("no enrolment: ") + e.what(),
                       "start the server (systemctl start scep-ra), or name where it answers with --url"});
        return out;
    }
    SystemClock clock;
    Stores stores = open_stores(c, clock);
    const std::string common_name = test_common_name(now);
    const auto challenge = obtain_challenge(c, common_name, options, *stores.challenges, out);
    if (!challenge) {
        return out;
    }
    const scep::ClientIdentity device = scep::make_client_identity({}, *scep::client_name(common_name, ""));
    const auto csr = scep::make_client_csr(*device.key, *scep::client_name(common_name, ""),
                                           challenge->password, "SHA256");
    scep::ClientRequest request{scep::MessageType::pkcs_req, to_hex(crypto::random_bytes(16)),
                                crypto::random_bytes(16)};
    const Bytes message =
        scep::build_pki_request(request, crypto::csr_der(*csr), *ca.ra_encryption, {"AES-256-CBC", false},
                                {*device.cert, *device.key, "SHA256"}, now);
    const size_t findings_before = out.size();
    try {
        judge_reply(c, *stores.db, server.post_pki_message(to_string(message)), ca, device, request,
                    common_name, out);
    } catch (const std::exception& e) {
        out.push_back({enrol_check, Verdict::fail,
                       std::string("no usable answer to the PKCSReq: ") + e.what(),
                       "see the server's log line for transaction " + request.transaction_id});
    }
    // A request the server issued or holds has used its challenge; any other
    // leaves a one-time password behind, which is revoked again.
    const bool reached_server = out.size() > findings_before && out[findings_before].verdict != Verdict::fail;
    std::string consumed = "nothing";
    if (reached_server) {
        consumed = challenge->consumed + "; CN=" + common_name + ", transaction " + request.transaction_id +
                   " in the audit trail";
    } else if (challenge->one_time_id) {
        consumed = stores.challenges->revoke(*challenge->one_time_id, "doctor")
                       ? "nothing: the one-time password it took (id " +
                             std::to_string(*challenge->one_time_id) + ") is revoked"
                       : challenge->consumed;
    }
    out.push_back({enrol_check + ": consumed", Verdict::pass, consumed, {}});
    return out;
}

}  // namespace scepra::cli
