// SPDX-License-Identifier: Apache-2.0
// The enrolment state machine against a CA that answers later, is down, or
// loses its answer: ScepService with real SQLite stores and a scripted backend.
#include <doctest/doctest.h>
#include <openssl/cms.h>
#include <openssl/dsa.h>

#include <algorithm>

#include "core/scep_service.hpp"
#include "crypto/csr_seal.hpp"
#include "crypto/encoding.hpp"
#include "scep/client.hpp"
#include "scep/message_data.hpp"
#include "scep/signed_message.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "store/request_store.hpp"
#include "support/scripted_backend.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

namespace {

/// Every request is authorised: the tests are about what happens after.
class AcceptAll final : public core::ChallengeVerifier {
  public:
    int verified = 0;  ///< how often a challenge was asked for (a one-time password would be used up)

    core::ChallengeVerdict verify(const core::ChallengeRequest&) override {
        ++verified;
        core::ChallengeVerdict verdict;
        verdict.accepted = true;
        return verdict;
    }
};

/// Records every outcome it is told.
class RecordingListener final : public core::EnrolmentOutcomeListener {
  public:
    std::vector<core::EnrolmentOutcome> told;
    void on_outcome(const core::EnrolmentOutcome& outcome) noexcept override { told.push_back(outcome); }
};

core::RaIdentity identity_of(const TestPki& pki) {
    return {crypto::up_ref(*pki.ra_sign_cert), crypto::up_ref(*pki.ra_sign_key),
            crypto::up_ref(*pki.ra_enc_cert), crypto::up_ref(*pki.ra_enc_key)};
}

core::ServiceOptions with_seal_key() {
    core::ServiceOptions options;
    options.csr_seal_key = Bytes(32, 0x5e);
    return options;
}

struct Fixture {
    const TestPki& pki = shared_test_pki();
    TempDir dir;
    FixedClock clock{std::chrono::system_clock::now()};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("ra.db"), true);
    store::AuditLog audit{*db, clock};
    store::RequestStore requests{*db, clock};
    AcceptAll challenges;
    ScriptedBackend ca{*pki.ca_cert, *pki.ca_key};
    core::ServiceOptions options = with_seal_key();
    std::unique_ptr<core::ScepService> service;

    core::ScepService& scep() {
        if (!service) {
            service = std::make_unique<core::ScepService>(options, identity_of(pki), ca, challenges, audit,
                                                          requests, clock);
        }
        return *service;
    }

    std::string last_decision(const std::string& txid) { return audit.by_transaction(txid).back().decision; }
    std::string last_detail(const std::string& txid) {
        return audit.by_transaction(txid).back().detail.value_or("");
    }
    /// The requests row's sealed CSR as SQLite holds it.
    Bytes sealed_csr_column(const std::string& txid) {
        return db->read([&](store::Database& d) {
            auto st = d.prepare("SELECT csr_sealed FROM requests WHERE transaction_id = ?1");
            st.bind(1, txid);
            REQUIRE(st.step());
            return st.column_blob(0);
        });
    }
    /// The database refuses these writes, as a full disk would: `event` is a
    /// trigger's event clause ("UPDATE ON requests WHEN ..."). allow() lifts it.
    void refuse(const std::string& name, const std::string& event) {
        db->write([&](store::Database& d) {
            d.exec("CREATE TRIGGER " + name + " BEFORE " + event +
                   " BEGIN SELECT RAISE(ABORT, 'no space left (test)'); END");
        });
    }
    void allow(const std::string& name) {
        db->write([&](store::Database& d) { d.exec("DROP TRIGGER " + name); });
    }
    store::RequestRecord stored(const std::string& txid) {
        auto r = requests.find_latest(txid);
        REQUIRE(r);
        return *r;
    }
};

/// A device: its key, the self-signed certificate that signs its requests, and its CSR.
struct Device {
    crypto::EvpPkeyPtr key = pooled_client_key(0);
    crypto::X509Ptr self_signed = make_cert("CN=device", *key, nullptr, nullptr, {});
    crypto::X509ReqPtr csr = make_csr(*key, "CN=device", "device-secret");
};

bool contains(const Bytes& haystack, ByteView needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

scep::CertRepView send(Fixture& f, Device& d, MessageType type, const std::string& txid, const Bytes& data) {
    Bytes req = scep::build_pki_request({type, txid, {}}, data, *f.pki.ra_enc_cert, {"AES-128-CBC", false},
                                        {*d.self_signed, *d.key, "SHA256"}, f.clock.now());
    core::ScepResponse reply = f.scep().handle({"PKIOperation", req, "127.0.0.1"});
    REQUIRE(reply.status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), *f.pki.ra_sign_cert, {*d.self_signed, *d.key});
}

/// A PKCSReq for d's CSR signed by another certificate and key, its envelope
/// to the RA with or without OAEP; the reply as read without decrypting it.
scep::SignedMessage pkcs_req_signed_by(Fixture& f, Device& d, X509& cert, EVP_PKEY& key,
                                       const std::string& txid, bool oaep) {
    Bytes req = scep::build_pki_request({MessageType::pkcs_req, txid, {}}, crypto::csr_der(*d.csr),
                                        *f.pki.ra_enc_cert, {"AES-128-CBC", oaep}, {cert, key, "SHA256"},
                                        f.clock.now());
    core::ScepResponse reply = f.scep().handle({"PKIOperation", req, "127.0.0.1"});
    REQUIRE(reply.status == 200);
    return scep::parse_signed_message(as_bytes(reply.body));
}

scep::CertRepView pkcs_req(Fixture& f, Device& d, const std::string& txid) {
    return send(f, d, MessageType::pkcs_req, txid, crypto::csr_der(*d.csr));
}

scep::CertRepView cert_poll(Fixture& f, Device& d, const std::string& txid) {
    return send(f, d, MessageType::cert_poll, txid,
                scep::issuer_and_subject_der(*X509_get_subject_name(f.pki.ca_cert.get()),
                                             *X509_REQ_get_subject_name(d.csr.get())));
}

void check_issued_to(const scep::CertRepView& rep, Device& d) {
    REQUIRE(rep.status == PkiStatus::success);
    REQUIRE(!rep.certs.empty());
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(rep.certs.front().get()), d.key.get()) == 1);
}

}  // namespace

TEST_SUITE("core.enrolment_state") {
    TEST_CASE("a poll while the CA is down answers PENDING and the request stays pending") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::pending});
        CHECK(pkcs_req(f, d, "TX-POLL").status == PkiStatus::pending);

        f.ca.script_poll({Behaviour::unavailable});
        auto rep = cert_poll(f, d, "TX-POLL");
        CHECK(rep.status == PkiStatus::pending);
        CHECK(f.last_decision("TX-POLL") == "pending");
        CHECK(f.last_detail("TX-POLL").find("the CA was unavailable") != std::string::npos);
        CHECK(f.stored("TX-POLL").status == "pending");

        SUBCASE("a re-sent request meets the same outage: PENDING too") {
            f.ca.script_poll({Behaviour::unavailable});
            CHECK(pkcs_req(f, d, "TX-POLL").status == PkiStatus::pending);
        }
        SUBCASE("once the CA is back the next poll gets the certificate") {
            f.ca.script_poll({Behaviour::issued});
            check_issued_to(cert_poll(f, d, "TX-POLL"), d);
            CHECK(f.stored("TX-POLL").status == "issued");
        }
        CHECK(f.ca.submits("TX-POLL") == 1);
    }

    TEST_CASE(
        "a CertPoll gets the poller's own request when another device used its transactionID for a "
        "renewal") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::pending});
        CHECK(pkcs_req(f, d, "TX-SHARED").status == PkiStatus::pending);
        // Another device's renewal with the same transactionID: another kind, so a row of its own, and newer.
        store::RequestRecord other = f.stored("TX-SHARED");
        other.kind = "Renewal:0BADC0DE";
        other.key_hash = Bytes(32, 0x42);
        other.signer_hash = Bytes(32, 0x43);
        other.backend_ref.reset();
        other.csr_sealed.clear();
        REQUIRE(f.requests.insert(other));
        REQUIRE(f.stored("TX-SHARED").kind == "Renewal:0BADC0DE");

        f.ca.script_poll({Behaviour::issued});
        check_issued_to(cert_poll(f, d, "TX-SHARED"), d);
        CHECK(f.requests.find("TX-SHARED", "PKCSReq")->status == "issued");
        CHECK(f.requests.find("TX-SHARED", "Renewal:0BADC0DE")->status == "pending");
        SUBCASE("a third device, whose request neither is, is still refused") {
            Device stranger;
            stranger.key = pooled_client_key(1);
            stranger.self_signed = make_cert("CN=device", *stranger.key, nullptr, nullptr, {});
            CHECK(cert_poll(f, stranger, "TX-SHARED").fail_info == scep::FailInfo::bad_cert_id);
        }
    }

    TEST_CASE("a poll whose answer is lost answers PENDING") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::pending});
        CHECK(pkcs_req(f, d, "TX-LOST").status == PkiStatus::pending);
        f.ca.script_poll({Behaviour::outcome_unknown});
        CHECK(cert_poll(f, d, "TX-LOST").status == PkiStatus::pending);
        CHECK(f.stored("TX-LOST").status == "pending");
    }

    TEST_CASE("a timeout after submit never leads to a second submit for the same transaction") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::outcome_unknown});
        CHECK(pkcs_req(f, d, "TX-UNKNOWN").status == PkiStatus::pending);
        CHECK(f.last_decision("TX-UNKNOWN") == "pending");
        CHECK(f.last_detail("TX-UNKNOWN").find("outcome is unknown") != std::string::npos);
        auto held = f.stored("TX-UNKNOWN");
        CHECK(held.status == "pending");
        CHECK(held.fail_text.value_or("").starts_with("outcome unknown: "));

        SUBCASE("the re-sent request gets the certificate the CA issued") {
            check_issued_to(pkcs_req(f, d, "TX-UNKNOWN"), d);
            // The CA was asked with the time of the claim, so that it can leave out older certificates.
            CHECK(f.ca.last_find_claimed_at() == parse_sql_time(held.created_at));
        }
        SUBCASE("a CertPoll gets the certificate the CA issued") {
            check_issued_to(cert_poll(f, d, "TX-UNKNOWN"), d);
            check_issued_to(pkcs_req(f, d, "TX-UNKNOWN"), d);
        }
        CHECK(f.stored("TX-UNKNOWN").status == "issued");
        CHECK(f.ca.submits("TX-UNKNOWN") == 1);
    }

    TEST_CASE("an unknown outcome the CA has no record of is submitted again at the next attempt, once") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::lost_before_ca});
        CHECK(pkcs_req(f, d, "TX-NEVER").status == PkiStatus::pending);
        CHECK(f.stored("TX-NEVER").fail_text.value_or("").starts_with("outcome unknown: "));

        SUBCASE("the re-sent request") {
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(pkcs_req(f, d, "TX-NEVER"), d);
        }
        SUBCASE("a CertPoll, from the CSR the RA holds") {
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(cert_poll(f, d, "TX-NEVER"), d);
            check_issued_to(pkcs_req(f, d, "TX-NEVER"), d);  // the stored answer, no third submit
        }
        SUBCASE("lost again: held again, then issued") {
            f.ca.script_submit({Behaviour::lost_before_ca, Behaviour::issued});
            CHECK(pkcs_req(f, d, "TX-NEVER").status == PkiStatus::pending);
            check_issued_to(cert_poll(f, d, "TX-NEVER"), d);
            CHECK(f.ca.submits("TX-NEVER") == 3);
            CHECK(f.ca.finds() == 2);  // once per attempt that found the outcome unknown
            return;
        }
        CHECK(f.ca.submits("TX-NEVER") == 2);
        CHECK(f.ca.finds() == 1);  // the attempt asks the CA once, not again before submitting
        CHECK(f.stored("TX-NEVER").status == "issued");
        CHECK(f.requests.list_unknown_outcome(10).empty());
    }

    TEST_CASE(
        "a certificate the CA issued that the RA cannot store is PENDING, then delivered, never "
        "FAILURE") {
        Fixture f;
        Device d;
        // The database refuses to record an issued certificate (as a full disk would), nothing else.
        f.refuse("refuse_issued", "UPDATE ON requests WHEN NEW.status = 'issued'");
        f.ca.script_submit({Behaviour::issued});
        CHECK(pkcs_req(f, d, "TX-UNSTORED").status == PkiStatus::pending);
        const auto held = f.stored("TX-UNSTORED");
        CHECK(held.status == "pending");
        CHECK(held.fail_text.value_or("").starts_with("outcome unknown: the CA answered"));
        CHECK(f.requests.list_unknown_outcome(10).size() == 1);

        f.allow("refuse_issued");
        check_issued_to(cert_poll(f, d, "TX-UNSTORED"), d);
        CHECK(f.stored("TX-UNSTORED").status == "issued");
        CHECK(f.ca.submits("TX-UNSTORED") == 1);  // the CA's certificate, not a second one
    }

    TEST_CASE(
        "a certificate a poll finds that the RA cannot store is PENDING, then delivered, never FAILURE") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::pending});
        CHECK(pkcs_req(f, d, "TX-POLL-UNSTORED").status == PkiStatus::pending);
        f.refuse("refuse_issued", "UPDATE ON requests WHEN NEW.status = 'issued'");
        f.ca.script_poll({Behaviour::issued});
        CHECK(cert_poll(f, d, "TX-POLL-UNSTORED").status == PkiStatus::pending);
        CHECK(f.last_detail("TX-POLL-UNSTORED").find("no space left") != std::string::npos);
        const auto still = f.stored("TX-POLL-UNSTORED");
        CHECK(still.status == "pending");
        CHECK(still.backend_ref);  // the CA is polled again, never sent the request again

        f.allow("refuse_issued");
        f.ca.script_poll({Behaviour::issued});
        check_issued_to(cert_poll(f, d, "TX-POLL-UNSTORED"), d);
        CHECK(f.stored("TX-POLL-UNSTORED").status == "issued");
        CHECK(f.ca.submits("TX-POLL-UNSTORED") == 1);
    }

    TEST_CASE(
        "an outcome listener that cannot be marked as told never turns an issued certificate into FAILURE") {
        Fixture f;
        Device d;
        auto listener = std::make_shared<RecordingListener>();
        f.options.outcome_listeners = {listener};
        f.refuse("refuse_told", "UPDATE OF outcome_told_at ON requests");
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-TOLD"), d);
        CHECK(f.stored("TX-TOLD").status == "issued");
        CHECK(listener->told.empty());

        // Told at the transaction's next attempt, once.
        f.allow("refuse_told");
        check_issued_to(pkcs_req(f, d, "TX-TOLD"), d);
        check_issued_to(pkcs_req(f, d, "TX-TOLD"), d);
        CHECK(listener->told.size() == 1);
        CHECK(f.ca.submits("TX-TOLD") == 1);
    }

    TEST_CASE("a resumed claim whose CA look-up outlasts the interrupted age is not resumed twice") {
        Fixture f;
        Device d;
        // Held as the CA being unavailable: the device's next attempt resumes it, asking the CA first.
        f.ca.script_submit({Behaviour::unavailable, Behaviour::issued, Behaviour::issued});
        CHECK(pkcs_req(f, d, "TX-SLOW-FIND").status == PkiStatus::pending);
        CHECK(f.stored("TX-SLOW-FIND").fail_text.value_or("").starts_with("CA unavailable"));

        // The look-up takes 11 minutes; meanwhile the device polls, finds the
        // claim older than the interrupted age, and resumes it itself.
        std::optional<PkiStatus> during;
        f.ca.during_next_find([&] {
            f.clock.advance(std::chrono::minutes(11));
            during = cert_poll(f, d, "TX-SLOW-FIND").status;
        });
        check_issued_to(pkcs_req(f, d, "TX-SLOW-FIND"), d);
        CHECK(during == PkiStatus::success);
        CHECK(f.ca.submits("TX-SLOW-FIND") == 2);  // the outage, then one certificate: never two
        CHECK(f.stored("TX-SLOW-FIND").status == "issued");
    }

    TEST_CASE(
        "an unknown outcome the CA has no record of yet is submitted again only after the CA's settle "
        "time") {
        Fixture f;
        Device d;
        f.ca.set_settle_time(std::chrono::seconds(90));
        f.ca.script_submit({Behaviour::lost_before_ca});
        CHECK(pkcs_req(f, d, "TX-SETTLE").status == PkiStatus::pending);
        // Within the settle time the CA may still be working on the lost call: asked, never sent it again.
        f.clock.advance(std::chrono::seconds(30));
        CHECK(pkcs_req(f, d, "TX-SETTLE").status == PkiStatus::pending);
        CHECK(cert_poll(f, d, "TX-SETTLE").status == PkiStatus::pending);
        CHECK(f.last_detail("TX-SETTLE").find("no record yet") != std::string::npos);
        CHECK(f.ca.submits("TX-SETTLE") == 1);
        CHECK(f.ca.finds() == 2);
        CHECK(f.stored("TX-SETTLE").fail_text.value_or("").starts_with("outcome unknown: "));
        // Once it has passed, "no record" means the call never reached the CA.
        f.clock.advance(std::chrono::seconds(61));
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-SETTLE"), d);
        CHECK(f.ca.submits("TX-SETTLE") == 2);
    }

    TEST_CASE("an unknown outcome the CA cannot tell about waits for an operator") {
        Fixture f;
        Device d;
        f.ca.set_can_find(false);
        f.ca.script_submit({Behaviour::outcome_unknown});
        CHECK(pkcs_req(f, d, "TX-ASK").status == PkiStatus::pending);
        CHECK(pkcs_req(f, d, "TX-ASK").status == PkiStatus::pending);
        CHECK(cert_poll(f, d, "TX-ASK").status == PkiStatus::pending);
        CHECK(f.last_detail("TX-ASK").find("held for an operator") != std::string::npos);
        CHECK(f.ca.submits("TX-ASK") == 1);
        auto listed = f.requests.list_unknown_outcome(10);
        REQUIRE(listed.size() == 1);
        CHECK(listed.front().transaction_id == "TX-ASK");

        // The operator checked the CA by hand: released, the next re-send submits again.
        CHECK(f.requests.release_unknown_outcome(listed.front().id, "test"));
        CHECK_FALSE(f.requests.release_unknown_outcome(listed.front().id, "test"));
        CHECK(f.requests.list_unknown_outcome(10).empty());
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-ASK"), d);
        CHECK(f.ca.submits("TX-ASK") == 2);
    }

    TEST_CASE("an unexpected error from the backend's submit is held like an unknown outcome") {
        Fixture f;
        Device d;
        f.ca.set_can_find(false);
        // Nothing scripted: the scripted backend's submit() throws a logic_error.
        CHECK(pkcs_req(f, d, "TX-BUG").status == PkiStatus::pending);
        CHECK(pkcs_req(f, d, "TX-BUG").status == PkiStatus::pending);
        CHECK(f.ca.submits("TX-BUG") == 1);
        CHECK(f.stored("TX-BUG").fail_text.value_or("").starts_with("outcome unknown: "));
    }

    TEST_CASE(
        "a request pending at the CA keeps its CSR sealed, hands it to the poll, and loses it at the "
        "outcome") {
        Fixture f;
        Device d;
        const Bytes csr = crypto::csr_der(*d.csr);
        f.ca.script_submit({Behaviour::pending});
        REQUIRE(pkcs_req(f, d, "TX-KEEP").status == PkiStatus::pending);

        const Bytes held = f.sealed_csr_column("TX-KEEP");
        REQUIRE(!held.empty());
        CHECK(crypto::CsrSeal::is_sealed(held));
        CHECK(!contains(held, as_bytes(std::string("device-secret"))));
        CHECK(!contains(held, Bytes(csr.begin() + 4, csr.begin() + 40)));
        // Bound to its transaction: the same key opens it there and nowhere else.
        crypto::CsrSeal seal(Bytes(32, 0x5e));
        CHECK(seal.open(held, store::sealed_csr_row("TX-KEEP", "PKCSReq")) == csr);
        CHECK_THROWS(seal.open(held, store::sealed_csr_row("TX-OTHER", "PKCSReq")));

        CHECK(cert_poll(f, d, "TX-KEEP").status == PkiStatus::pending);
        CHECK(f.ca.last_poll_csr() == csr);
        CHECK(!f.sealed_csr_column("TX-KEEP").empty());

        SUBCASE("issued: the CSR is gone") {
            f.ca.script_poll({Behaviour::issued});
            check_issued_to(cert_poll(f, d, "TX-KEEP"), d);
        }
        SUBCASE("rejected: the CSR is gone") {
            f.ca.script_poll({Behaviour::rejected});
            CHECK(cert_poll(f, d, "TX-KEEP").status == PkiStatus::failure);
        }
        CHECK(f.sealed_csr_column("TX-KEEP").empty());
    }

    TEST_CASE("a request the CA issues at once keeps no CSR") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-NOW"), d);
        CHECK(f.sealed_csr_column("TX-NOW").empty());
    }

    TEST_CASE(
        "a CA down when the request arrives: PENDING, and the next CertPoll submits the stored CSR once") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::unavailable});
        auto first = pkcs_req(f, d, "TX-DOWN");
        CHECK(first.status == PkiStatus::pending);
        CHECK(f.last_decision("TX-DOWN") == "pending");
        CHECK(f.last_detail("TX-DOWN").find("the CA is unavailable") != std::string::npos);
        auto held = f.stored("TX-DOWN");
        CHECK(held.status == "pending");
        CHECK(held.fail_text.value_or("").starts_with("CA unavailable: "));
        CHECK(!f.sealed_csr_column("TX-DOWN").empty());

        SUBCASE("still down at the poll: PENDING again, the claim kept") {
            f.ca.script_submit({Behaviour::unavailable, Behaviour::issued});
            CHECK(cert_poll(f, d, "TX-DOWN").status == PkiStatus::pending);
            CHECK(f.stored("TX-DOWN").fail_text.value_or("").starts_with("CA unavailable: "));
            check_issued_to(cert_poll(f, d, "TX-DOWN"), d);
            CHECK(f.ca.submits("TX-DOWN") == 3);
        }
        SUBCASE("back at the poll: issued from the stored CSR") {
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(cert_poll(f, d, "TX-DOWN"), d);
            CHECK(f.last_detail("TX-DOWN") == "resumed a request the CA could not take before");
            CHECK(f.ca.submits("TX-DOWN") == 2);
            // Repeats answer the stored certificate, never a third submission.
            check_issued_to(cert_poll(f, d, "TX-DOWN"), d);
            check_issued_to(pkcs_req(f, d, "TX-DOWN"), d);
            CHECK(f.ca.submits("TX-DOWN") == 2);
        }
        SUBCASE("back at the re-send: issued") {
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(pkcs_req(f, d, "TX-DOWN"), d);
            CHECK(f.ca.submits("TX-DOWN") == 2);
        }
        SUBCASE("the resubmission's answer is lost: held, then the CA is asked, never a third submission") {
            f.ca.script_submit({Behaviour::outcome_unknown});
            CHECK(cert_poll(f, d, "TX-DOWN").status == PkiStatus::pending);
            CHECK(f.stored("TX-DOWN").fail_text.value_or("").starts_with("outcome unknown: "));
            check_issued_to(cert_poll(f, d, "TX-DOWN"), d);
            CHECK(f.ca.submits("TX-DOWN") == 2);
        }
        // The challenge was checked once, when the request first arrived.
        CHECK(f.challenges.verified == 1);
        CHECK(f.sealed_csr_column("TX-DOWN").empty() == (f.stored("TX-DOWN").status != "pending"));
    }

    TEST_CASE(
        "[ca] unavailable = fail: a CA down when the request arrives answers FAILURE, a re-send resumes it") {
        Fixture f;
        f.options.ca_unavailable = core::WhenCaUnavailable::fail;
        Device d;
        f.ca.script_submit({Behaviour::unavailable});
        auto first = pkcs_req(f, d, "TX-FAIL");
        CHECK(first.status == PkiStatus::failure);
        CHECK(first.fail_info == FailInfo::bad_request);
        CHECK(f.last_decision("TX-FAIL") == "error");
        CHECK(f.stored("TX-FAIL").status == "pending");
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-FAIL"), d);
        CHECK(f.ca.submits("TX-FAIL") == 2);
        CHECK(f.challenges.verified == 1);
    }

    TEST_CASE(
        "manual approval: the RA holds the request before any backend sees it, and approval submits it") {
        Fixture f;
        core::TemplatePolicy held_for_approval;
        held_for_approval.manual_approval = true;
        for (const auto& name : {f.options.templates.signature, f.options.templates.encryption,
                                 f.options.templates.general_purpose}) {
            f.options.template_policies.set(name, held_for_approval);
        }
        Device d;
        CHECK(pkcs_req(f, d, "TX-HOLD").status == PkiStatus::pending);
        CHECK(f.last_detail("TX-HOLD").starts_with("awaiting approval (template "));
        CHECK(cert_poll(f, d, "TX-HOLD").status == PkiStatus::pending);
        CHECK(f.last_detail("TX-HOLD") == "awaiting approval");
        CHECK(pkcs_req(f, d, "TX-HOLD").status == PkiStatus::pending);
        CHECK(f.ca.submits("TX-HOLD") == 0);
        CHECK(f.ca.finds() == 0);
        CHECK(!f.sealed_csr_column("TX-HOLD").empty());
        auto held = f.requests.list_awaiting_approval(10);
        REQUIRE(held.size() == 1);
        const std::int64_t id = held.front().id;

        SUBCASE("approved: the next poll submits it and answers what the CA says") {
            REQUIRE(f.requests.approve(id, "officer"));
            CHECK_FALSE(f.requests.approve(id, "officer"));
            CHECK(f.requests.list_awaiting_approval(10).empty());
            f.ca.script_submit({Behaviour::pending});
            CHECK(cert_poll(f, d, "TX-HOLD").status == PkiStatus::pending);
            CHECK(f.ca.submits("TX-HOLD") == 1);
            f.ca.script_poll({Behaviour::issued});
            check_issued_to(cert_poll(f, d, "TX-HOLD"), d);
            CHECK(f.ca.submits("TX-HOLD") == 1);
            CHECK(f.sealed_csr_column("TX-HOLD").empty());
        }
        SUBCASE("approved: a re-sent request submits it") {
            REQUIRE(f.requests.approve(id, "officer"));
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(pkcs_req(f, d, "TX-HOLD"), d);
            CHECK(f.ca.submits("TX-HOLD") == 1);
        }
        SUBCASE("denied: FAILURE badRequest with the reason, and nothing reaches the CA") {
            REQUIRE(f.requests.deny(id, "not in the inventory"));
            CHECK_FALSE(f.requests.approve(id, "officer"));
            auto rep = cert_poll(f, d, "TX-HOLD");
            CHECK(rep.status == PkiStatus::failure);
            CHECK(rep.fail_info == FailInfo::bad_request);
            CHECK(rep.fail_info_text.value_or("").find("not in the inventory") != std::string::npos);
            CHECK(pkcs_req(f, d, "TX-HOLD").status == PkiStatus::failure);
            CHECK(f.ca.submits("TX-HOLD") == 0);
            CHECK(f.sealed_csr_column("TX-HOLD").empty());
        }
        CHECK(f.challenges.verified == 1);
    }

    TEST_CASE(
        "outcome listeners are told each final outcome once, after it is stored, however often the device "
        "asks") {
        Fixture f;
        auto listener = std::make_shared<RecordingListener>();
        f.options.outcome_listeners = {listener};
        Device d;
        SUBCASE("issued at once: told with the certificate and the CSR") {
            f.ca.script_submit({Behaviour::issued});
            check_issued_to(pkcs_req(f, d, "TX-TOLD"), d);
            REQUIRE(listener->told.size() == 1);
            const auto& outcome = listener->told.front();
            CHECK(outcome.kind == core::EnrolmentOutcome::Kind::issued);
            CHECK(outcome.transaction_id == "TX-TOLD");
            CHECK(outcome.message_type == "PKCSReq");
            CHECK(outcome.csr_der == crypto::csr_der(*d.csr));
            CHECK(outcome.certificate_der == f.stored("TX-TOLD").cert_der);
            check_issued_to(pkcs_req(f, d, "TX-TOLD"), d);
            CHECK(listener->told.size() == 1);
        }
        SUBCASE("pending, then rejected by the CA at a poll: told once, at the rejection") {
            f.ca.script_submit({Behaviour::pending});
            CHECK(pkcs_req(f, d, "TX-TOLD").status == PkiStatus::pending);
            CHECK(listener->told.empty());
            f.ca.script_poll({Behaviour::rejected});
            CHECK(cert_poll(f, d, "TX-TOLD").status == PkiStatus::failure);
            CHECK(cert_poll(f, d, "TX-TOLD").status == PkiStatus::failure);
            CHECK(pkcs_req(f, d, "TX-TOLD").status == PkiStatus::failure);
            REQUIRE(listener->told.size() == 1);
            CHECK(listener->told.front().kind == core::EnrolmentOutcome::Kind::rejected);
            CHECK(listener->told.front().reason.starts_with("rejected by the CA"));
        }
        SUBCASE("denied by an operator: told at the device's next poll, once") {
            core::TemplatePolicy held;
            held.manual_approval = true;
            f.options.template_policies.set(f.options.templates.general_purpose, held);
            CHECK(pkcs_req(f, d, "TX-TOLD").status == PkiStatus::pending);
            REQUIRE(f.requests.deny(f.requests.list_awaiting_approval(1).front().id, "not ours"));
            CHECK(cert_poll(f, d, "TX-TOLD").status == PkiStatus::failure);
            CHECK(cert_poll(f, d, "TX-TOLD").status == PkiStatus::failure);
            REQUIRE(listener->told.size() == 1);
            CHECK(listener->told.front().reason == "denied: not ours");
        }
    }

    TEST_CASE(
        "the template's key policy is the RA's: a weak key is refused before the challenge, whatever the "
        "backend") {
        Fixture f;
        Device d;
        d.key = make_key(1024);
        d.self_signed = make_cert("CN=device", *d.key, nullptr, nullptr, {});
        d.csr = make_csr(*d.key, "CN=device", "device-secret");
        auto rep = pkcs_req(f, d, "TX-WEAK");
        CHECK(rep.status == PkiStatus::failure);
        CHECK(rep.fail_info == FailInfo::bad_request);
        CHECK(rep.fail_info_text.value_or("").find("at least 2048 bits") != std::string::npos);
        CHECK(f.challenges.verified == 0);
        CHECK(f.ca.submits("TX-WEAK") == 0);

        SUBCASE("a template may lower the bound") {
            Fixture lowered;
            core::TemplatePolicy policy;
            policy.keys.min_rsa_bits = 1024;
            for (const auto& name :
                 {lowered.options.templates.signature, lowered.options.templates.encryption,
                  lowered.options.templates.general_purpose}) {
                lowered.options.template_policies.set(name, policy);
            }
            lowered.ca.script_submit({Behaviour::issued});
            check_issued_to(pkcs_req(lowered, d, "TX-WEAK"), d);
        }
    }
    TEST_CASE("a signer whose key cannot receive the reply is badAlg before anything is issued or used up") {
        Fixture f;
        Device d;
        // A DSA key signs CMS, but nothing can be encrypted to it.
        crypto::EvpPkeyCtxPtr paramgen(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
        REQUIRE(paramgen);
        REQUIRE(EVP_PKEY_paramgen_init(paramgen.get()) == 1);
        REQUIRE(EVP_PKEY_CTX_set_dsa_paramgen_bits(paramgen.get(), 1024) == 1);
        EVP_PKEY* params = nullptr;
        REQUIRE(EVP_PKEY_paramgen(paramgen.get(), &params) == 1);
        crypto::EvpPkeyPtr dsa_params(params);
        crypto::EvpPkeyCtxPtr keygen(EVP_PKEY_CTX_new_from_pkey(nullptr, dsa_params.get(), nullptr));
        REQUIRE(keygen);
        REQUIRE(EVP_PKEY_keygen_init(keygen.get()) == 1);
        EVP_PKEY* generated = nullptr;
        REQUIRE(EVP_PKEY_keygen(keygen.get(), &generated) == 1);
        crypto::EvpPkeyPtr dsa_key(generated);
        crypto::X509Ptr dsa_cert = make_cert("CN=device", *dsa_key, nullptr, nullptr, {});
        f.ca.script_submit({Behaviour::issued});
        scep::SignedMessage rep = pkcs_req_signed_by(f, d, *dsa_cert, *dsa_key, "TX-DSA", false);
        CHECK(rep.attrs.pki_status == PkiStatus::failure);
        INFO(rep.attrs.fail_info_text.value_or(""));
        CHECK(rep.attrs.fail_info == FailInfo::bad_alg);
        CHECK(f.ca.submits("TX-DSA") == 0);
        CHECK(f.challenges.verified == 0);
        CHECK_FALSE(f.requests.find_latest("TX-DSA"));
    }

    TEST_CASE("an EC signer that sent its request with OAEP gets its certificate by key agreement") {
        Fixture f;
        Device d;
        crypto::EvpPkeyPtr ec_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        REQUIRE(ec_key);
        crypto::X509Ptr ec_cert = make_cert("CN=device", *ec_key, nullptr, nullptr, {});
        f.ca.script_submit({Behaviour::issued});
        scep::SignedMessage rep = pkcs_req_signed_by(f, d, *ec_cert, *ec_key, "TX-EC", true);
        REQUIRE(rep.attrs.pki_status == PkiStatus::success);
        const unsigned char* p = rep.content.data();
        crypto::CmsPtr envelope(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(rep.content.size())));
        REQUIRE(envelope);
        crypto::BioPtr out(BIO_new(BIO_s_mem()));
        CHECK(CMS_decrypt(envelope.get(), ec_key.get(), ec_cert.get(), nullptr, out.get(), CMS_BINARY) == 1);
        CHECK(f.ca.submits("TX-EC") == 1);
    }
    TEST_CASE(
        "a new request under the transactionID of a refused one is a new transaction, the old one kept") {
        // Clients that derive the transactionID from the key send the same one
        // again when they retry with a corrected password.
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::rejected});
        CHECK(pkcs_req(f, d, "TX-KEYED").status == PkiStatus::failure);
        CHECK(pkcs_req(f, d, "TX-KEYED").status ==
              PkiStatus::failure);  // the same request: the stored answer
        CHECK(f.ca.submits("TX-KEYED") == 1);
        const auto refused = f.stored("TX-KEYED");

        d.csr = make_csr(*d.key, "CN=device", "the-right-secret");
        f.ca.script_submit({Behaviour::issued});
        check_issued_to(pkcs_req(f, d, "TX-KEYED"), d);
        CHECK(f.ca.submits("TX-KEYED") == 2);
        CHECK(f.stored("TX-KEYED").status == "issued");
        CHECK(f.last_detail("TX-KEYED").find("kept as TX-KEYED#" + std::to_string(refused.id)) !=
              std::string::npos);
        auto kept = f.requests.find("TX-KEYED#" + std::to_string(refused.id), "PKCSReq");
        REQUIRE(kept);
        CHECK(kept->status == "rejected");
        check_issued_to(cert_poll(f, d, "TX-KEYED"), d);  // a poll finds the new request
    }

    TEST_CASE(
        "a new request under the transactionID of an issued one gets a new certificate, a re-send the old") {
        Fixture f;
        Device d;
        f.ca.script_submit({Behaviour::issued, Behaviour::issued});
        auto first = pkcs_req(f, d, "TX-AGAIN");
        check_issued_to(first, d);
        check_issued_to(pkcs_req(f, d, "TX-AGAIN"), d);
        CHECK(f.ca.submits("TX-AGAIN") == 1);  // the same request: the stored certificate

        d.csr = make_csr(*d.key, "CN=device", "a-new-one-time-password");
        auto second = pkcs_req(f, d, "TX-AGAIN");
        check_issued_to(second, d);
        CHECK(f.ca.submits("TX-AGAIN") == 2);
        CHECK(X509_cmp(first.certs.front().get(), second.certs.front().get()) != 0);
    }
}
