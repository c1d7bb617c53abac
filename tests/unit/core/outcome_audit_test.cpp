// SPDX-License-Identifier: Apache-2.0
// A final outcome (issued, rejected by the CA) and its audit event are one
// commit: ScepService with real SQLite files, the local CA (which records the
// certificate and the RA's outcome together) and a scripted remote CA.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "core/scep_service.hpp"
#include "crypto/encoding.hpp"
#include "local/local_ca_backend.hpp"
#include "scep/client.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "store/request_store.hpp"
#include "support/scripted_backend.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::MessageType;
using scep::PkiStatus;

// A named namespace: the unity build puts this file in one batch with others.
namespace scepra::test::outcome_audit {

/// Accepts every request with a note, so that the event carries a detail from before the CA.
class AcceptWithNote final : public core::ChallengeVerifier {
  public:
    core::ChallengeVerdict verify(const core::ChallengeRequest&) override {
        core::ChallengeVerdict verdict;
        verdict.accepted = true;
        verdict.note = "accepted by the test";
        return verdict;
    }
};

struct Service {
    const TestPki& pki = shared_test_pki();
    TempDir dir;
    FixedClock clock{TimePoint(std::chrono::seconds(unix_seconds(std::chrono::system_clock::now())))};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("ra.db"), true);
    store::AuditLog audit{*db, clock};
    store::RequestStore requests{*db, clock};
    AcceptWithNote challenges;
    ScriptedBackend scripted{*pki.ca_cert, *pki.ca_key};
    std::unique_ptr<backend::local::LocalCaBackend> local_ca;
    std::unique_ptr<core::ScepService> service;

    /// The local CA, recording its certificates in the RA's own database.
    void use_local_ca() {
        crypto::save_cert_file(dir.file("ca.pem"), *pki.ca_cert, true);
        crypto::save_key_file(dir.file("ca.key"), *pki.ca_key, true);
        backend::local::LocalCaConfig config;
        config.cert_file = dir.file("ca.pem");
        config.key_file = dir.file("ca.key");
        backend::local::CertificateProfile profile;
        profile.name = core::default_template_name;
        config.profiles.push_back(profile);
        local_ca = std::make_unique<backend::local::LocalCaBackend>(config, *db, clock);
    }

    core::ScepService& scep() {
        if (!service) {
            core::ServiceOptions options;
            options.csr_seal_key = Bytes(32, 0x5e);
            backend::CaBackend& ca = local_ca ? static_cast<backend::CaBackend&>(*local_ca) : scripted;
            service = std::make_unique<core::ScepService>(
                options,
                core::RaIdentity{crypto::up_ref(*pki.ra_sign_cert), crypto::up_ref(*pki.ra_sign_key),
                                 crypto::up_ref(*pki.ra_enc_cert), crypto::up_ref(*pki.ra_enc_key)},
                ca, challenges, audit, requests, clock);
        }
        return *service;
    }

    struct Reply {
        core::ScepResponse response;
        scep::CertRepView rep;
    };

    /// A device's PKCSReq, and how many commits the RA made for it.
    Reply enrol(const std::string& txid, std::uint64_t& commits) {
        auto key = pooled_client_key(1);
        auto self_signed = make_cert("CN=audited device", *key, nullptr, nullptr, {});
        auto csr = make_csr(*key, "CN=audited device", "secret");
        Bytes req = scep::build_pki_request({MessageType::pkcs_req, txid, {}}, crypto::csr_der(*csr),
                                            *pki.ra_enc_cert, {"AES-128-CBC", false},
                                            {*self_signed, *key, "SHA256"}, clock.now());
        core::ScepService& ra = scep();
        const std::uint64_t before = db->commits();
        core::ScepResponse response = ra.handle({"PKIOperation", req, "127.0.0.1"});
        commits = db->commits() - before;
        REQUIRE(response.status == 200);
        scep::CertRepView rep =
            scep::read_cert_rep(as_bytes(response.body), *pki.ra_sign_cert, {*self_signed, *key});
        return {std::move(response), std::move(rep)};
    }
};

}  // namespace scepra::test::outcome_audit

using scepra::test::outcome_audit::Service;

TEST_SUITE("core.outcome_audit") {
    TEST_CASE(
        "an enrolment with the local CA commits twice: the claim, then the certificate, the outcome "
        "and its audit event") {
        Service s;
        s.use_local_ca();
        std::uint64_t commits = 0;
        auto reply = s.enrol("TX-LOCAL", commits);
        REQUIRE(reply.rep.status == PkiStatus::success);
        REQUIRE(!reply.rep.certs.empty());
        CHECK(commits == 2);

        const auto rows = s.audit.by_transaction("TX-LOCAL");
        REQUIRE(rows.size() == 1);  // written with the outcome, not again by the service
        CHECK(rows[0].decision == "issued");
        CHECK(rows[0].serial == crypto::serial_hex(*reply.rep.certs.front()));
        CHECK(rows[0].detail == "accepted by the test");
        CHECK(rows[0].subject == "CN=audited device");
        CHECK(rows[0].message_type == "PKCSReq");
        CHECK(rows[0].peer == "127.0.0.1");
        CHECK(s.requests.find_latest("TX-LOCAL")->status == "issued");
    }

    TEST_CASE("a certificate from a remote CA is stored with its audit event in one commit") {
        Service s;
        s.scripted.script_submit({Behaviour::issued});
        std::uint64_t commits = 0;
        auto reply = s.enrol("TX-REMOTE", commits);
        REQUIRE(reply.rep.status == PkiStatus::success);
        CHECK(commits == 2);
        const auto rows = s.audit.by_transaction("TX-REMOTE");
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].decision == "issued");
        CHECK(rows[0].serial == crypto::serial_hex(*reply.rep.certs.front()));
        CHECK(rows[0].detail == "accepted by the test");
    }

    TEST_CASE("a CA's rejection is stored with its audit event in one commit, as the device is told") {
        Service s;
        s.scripted.script_submit({Behaviour::rejected});
        std::uint64_t commits = 0;
        auto reply = s.enrol("TX-REFUSED", commits);
        CHECK(reply.rep.status == PkiStatus::failure);
        CHECK(commits == 2);
        const auto rows = s.audit.by_transaction("TX-REFUSED");
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].decision == "rejected");
        CHECK(rows[0].fail_info == "badRequest");
        CHECK(rows[0].detail == "rejected by the CA: scripted rejection");
        CHECK(reply.rep.fail_info_text == rows[0].detail);
        CHECK(s.requests.find_latest("TX-REFUSED")->status == "rejected");
    }

    TEST_CASE("a pending answer is not final: its event is written by the service, once") {
        Service s;
        s.scripted.script_submit({Behaviour::pending});
        std::uint64_t commits = 0;
        auto reply = s.enrol("TX-LATER", commits);
        CHECK(reply.rep.status == PkiStatus::pending);
        const auto rows = s.audit.by_transaction("TX-LATER");
        REQUIRE(rows.size() == 1);
        CHECK(rows[0].decision == "pending");
    }

    TEST_CASE("an audit row that cannot be written does not undo the certificate stored with it") {
        Service s;
        s.use_local_ca();
        s.db->write([](store::Database& db) {
            db.exec(
                "CREATE TRIGGER refuse_issued_event BEFORE INSERT ON audit_events WHEN NEW.decision = "
                "'issued' "
                "BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END");
        });
        std::uint64_t commits = 0;
        auto reply = s.enrol("TX-NO-AUDIT", commits);
        REQUIRE(reply.rep.status == PkiStatus::success);
        CHECK(s.requests.find_latest("TX-NO-AUDIT")->status == "issued");
        CHECK(s.audit.by_transaction("TX-NO-AUDIT").empty());
        // The service tried again on its own and says so in the request log.
        CHECK(reply.response.log.find("audit event not recorded") != std::string::npos);
    }
}
