// SPDX-License-Identifier: Apache-2.0
// The backend contract (backends/api/ca_backend.hpp), one suite that every CA
// backend passes: the local CA, EJBCA (its fake, over mutual TLS) and AD CS
// (the real bridge in front of a fake CA RPC server). A new backend adds a
// harness here.
#include <doctest/doctest.h>

#include <memory>

#include "adcs/adcs_backend.hpp"
#include "core/renewal_policy.hpp"
#include "crypto/crl_distribution.hpp"
#include "crypto/encoding.hpp"
#include "ejbca/ejbca_backend.hpp"
#include "local/local_ca_backend.hpp"
#include "store/database.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/test_pki.hpp"
#include "unit/adcs/bridge_process.hpp"

using namespace scepra;

namespace {

/// The local CA on the shared test PKI and a fresh database file.
struct LocalHarness {
    static constexpr const char* label = "local";
    test::TempDir dir;
    FixedClock clock{std::chrono::system_clock::now()};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("ra.db"), true);
    std::unique_ptr<backend::local::LocalCaBackend> ca;
    LocalHarness() {
        const auto& pki = test::shared_test_pki();
        crypto::save_cert_file(dir.file("ca.pem"), *pki.ca_cert, true);
        crypto::save_key_file(dir.file("ca.key"), *pki.ca_key, true);
        backend::local::LocalCaConfig config;
        config.cert_file = dir.file("ca.pem");
        config.key_file = dir.file("ca.key");
        ca = std::make_unique<backend::local::LocalCaBackend>(config, *db, clock);
    }
    static std::string skip_reason() { return ""; }
    backend::CaBackend& backend() { return *ca; }
    std::string template_name() const { return ""; }
};

struct EjbcaHarness {
    static constexpr const char* label = "ejbca";
    test::FakeEjbca fake;
    backend::ejbca::EjbcaBackend ca{fake.config()};
    static std::string skip_reason() { return ""; }
    backend::CaBackend& backend() { return ca; }
    std::string template_name() const { return ""; }
};

struct AdcsHarness {
    static constexpr const char* label = "adcs";
    test::BridgeProcess bridge;
    backend::adcs::AdcsBackend ca{bridge.config()};
    static std::string skip_reason() { return test::bridge_unavailable_reason(); }
    backend::CaBackend& backend() { return ca; }
    std::string template_name() const { return "SCEPDevice"; }
};

struct Device {
    crypto::EvpPkeyPtr key;
    backend::SubmitRequest request;
    Bytes key_hash;
    Device(size_t index, const std::string& transaction_id, const std::string& template_name) {
        key = test::pooled_client_key(index);
        auto csr = test::make_csr(*key, "CN=contract-device-" + std::to_string(index) + ",O=scep-ra tests");
        request.transaction_id = transaction_id;
        request.csr_der = crypto::csr_der(*csr);
        request.template_name = template_name;
        request.requester = "127.0.0.1";
        key_hash = core::key_hash(*X509_REQ_get_X509_PUBKEY(csr.get()));
    }
    backend::TransactionQuery query() const {
        return {request.transaction_id, key_hash, request.template_name, request.csr_der, std::nullopt};
    }
};

#define SKIP_UNLESS_RUNNABLE(Harness)                                       \
    do {                                                                    \
        if (const std::string why = Harness::skip_reason(); !why.empty()) { \
            MESSAGE("skipped for " << Harness::label << ": " << why);       \
            return;                                                         \
        }                                                                   \
    } while (false)

}  // namespace

TEST_SUITE("backend contract") {
    TEST_CASE_TEMPLATE("submit issues a certificate for the CSR's key that the issuing CA signed", Harness,
                       LocalHarness, EjbcaHarness, AdcsHarness) {
        SKIP_UNLESS_RUNNABLE(Harness);
        Harness h;
        CAPTURE(Harness::label);
        backend::CaBackend& ca = h.backend();
        CHECK(ca.name() == Harness::label);  // the [ca] backend value that selects it
        const auto chain = ca.ca_chain();
        REQUIRE_FALSE(chain.empty());
        Device device(1, "contract-issue", h.template_name());
        const backend::SubmitResult result = ca.submit(device.request);
        REQUIRE(result.disposition == backend::Disposition::issued);
        auto cert = crypto::cert_from_der(result.certificate_der);
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), device.key.get()) == 1);
        CHECK(X509_check_issued(chain.front().get(), cert.get()) == X509_V_OK);
        CHECK(X509_verify(cert.get(), X509_get0_pubkey(chain.front().get())) == 1);
        for (const auto& der : result.chain_der) {  // the chain never holds the leaf
            CHECK(der != result.certificate_der);
        }
    }

    TEST_CASE_TEMPLATE("after an issue, find_by_transaction gives that certificate, never a second one",
                       Harness, LocalHarness, EjbcaHarness, AdcsHarness) {
        SKIP_UNLESS_RUNNABLE(Harness);
        Harness h;
        CAPTURE(Harness::label);
        backend::CaBackend& ca = h.backend();
        Device device(2, "contract-find", h.template_name());
        if (!ca.capabilities().find_by_transaction) {
            CHECK_FALSE(ca.find_by_transaction(device.query()));
            return;
        }
        const backend::SubmitResult issued = ca.submit(device.request);
        REQUIRE(issued.disposition == backend::Disposition::issued);
        const auto found = ca.find_by_transaction(device.query());
        REQUIRE(found.has_value());
        CHECK(found->disposition == backend::Disposition::issued);
        CHECK(found->certificate_der == issued.certificate_der);
    }

    TEST_CASE_TEMPLATE("a request that is not a CSR is rejected, never issued", Harness, LocalHarness,
                       EjbcaHarness, AdcsHarness) {
        SKIP_UNLESS_RUNNABLE(Harness);
        Harness h;
        CAPTURE(Harness::label);
        Device device(3, "contract-garbage", h.template_name());
        device.request.csr_der = Bytes{0x30, 0x03, 0x02, 0x01, 0x00};
        const backend::SubmitResult result = h.backend().submit(device.request);
        CHECK(result.disposition == backend::Disposition::rejected);
        CHECK(result.certificate_der.empty());
        CHECK_FALSE(result.reason.empty());
    }

    TEST_CASE_TEMPLATE("a poll for a reference the CA never gave is not issued", Harness, LocalHarness,
                       EjbcaHarness, AdcsHarness) {
        SKIP_UNLESS_RUNNABLE(Harness);
        Harness h;
        CAPTURE(Harness::label);
        backend::PollRequest poll;
        poll.backend_ref = "987654";
        poll.transaction_id = "contract-never";
        const backend::SubmitResult result = h.backend().poll(poll);
        CHECK(result.disposition == backend::Disposition::rejected);
    }

    TEST_CASE_TEMPLATE("the capabilities a backend declares are the calls it answers", Harness, LocalHarness,
                       EjbcaHarness, AdcsHarness) {
        SKIP_UNLESS_RUNNABLE(Harness);
        Harness h;
        CAPTURE(Harness::label);
        backend::CaBackend& ca = h.backend();
        const backend::Capabilities can = ca.capabilities();
        const auto chain = ca.ca_chain();
        CHECK(ca.health().ok);

        const auto crl = ca.crl();
        CHECK(crl.has_value() == can.crl);
        if (crl) {
            auto parsed = crypto::crl_from_bytes(*crl);
            CHECK(crypto::crl_signed_by(*parsed, *chain.front()));
        }

        Device device(4, "contract-caps", h.template_name());
        const backend::SubmitResult issued = ca.submit(device.request);
        REQUIRE(issued.disposition == backend::Disposition::issued);
        auto cert = crypto::cert_from_der(issued.certificate_der);
        const std::string issuer = crypto::name_string(*X509_get_issuer_name(cert.get()));
        const std::string serial = crypto::serial_hex(*cert);
        const auto found = ca.find_certificate(issuer, serial);
        CHECK(found.has_value() == can.find_certificate);
        if (found) {
            CHECK(X509_cmp(found->certificate.get(), cert.get()) == 0);
            CHECK(found->state == backend::CertState::valid);
        }
        if (can.revoke) {
            CHECK(ca.revoke(serial, 1) == backend::RevokeOutcome::revoked);
            if (can.find_certificate) {
                CHECK(ca.find_certificate(issuer, serial)->state == backend::CertState::revoked);
            }
            if (can.crl) {
                auto after = crypto::crl_from_bytes(*ca.crl());
                CHECK(crypto::crl_lists(*after, *cert));
            }
        } else {
            CHECK_THROWS_AS(ca.revoke(serial, 1), backend::Unsupported);
        }
        if (!can.subject_lookup) {
            CHECK_FALSE(
                ca.subject_has_valid_certificate(crypto::name_string(*X509_get_subject_name(cert.get()))));
        } else {
            CHECK(ca.subject_has_valid_certificate(crypto::name_string(*X509_get_subject_name(cert.get()))) ==
                  !can.revoke);
        }
    }
}
