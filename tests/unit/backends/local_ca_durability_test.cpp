// SPDX-License-Identifier: Apache-2.0
// The local CA's part in durable decisions: manual-approval CSRs sealed at rest,
// find_by_transaction for an RA that stopped mid-call, and certificates it
// signed outside SCEP recorded for revocation.
#include <doctest/doctest.h>
#include <openssl/x509.h>

#include "crypto/csr_seal.hpp"
#include "crypto/digest.hpp"
#include "local/local_ca_store.hpp"
#include "local_ca_fixture.hpp"
#include "support/backend_queries.hpp"

using namespace scepra;
using namespace scepra::test;
using backend::Disposition;
using crypto::CsrSeal;

namespace {

Bytes spki_hash(EVP_PKEY& key) {
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(&key, &der);
    REQUIRE(len > 0);
    Bytes hash = crypto::sha256(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    return hash;
}

template <class F>
bool throws(F&& f) {
    try {
        f();
    } catch (const std::exception&) {
        return true;
    }
    return false;
}

}  // namespace

TEST_SUITE("backend.local.durability") {
    TEST_CASE("a sealed CSR opens only under its key and its row, and plaintext DER passes through") {
        const Bytes csr = crypto::csr_der(*make_csr(*pooled_client_key(0), "CN=sealed", "secret-password"));
        CsrSeal seal(Bytes(32, 0x42));
        const Bytes sealed = seal.seal(csr, "row 7");
        CHECK(CsrSeal::is_sealed(sealed));
        CHECK(sealed != seal.seal(csr, "row 7"));  // a fresh nonce every time
        CHECK(seal.open(sealed, "row 7") == csr);
        CHECK(throws([&] { seal.open(sealed, "row 8"); }));
        CHECK(throws([&] { CsrSeal(Bytes(32, 0x43)).open(sealed, "row 7"); }));
        Bytes altered = sealed;
        altered[altered.size() / 2] ^= 1;
        CHECK(throws([&] { seal.open(altered, "row 7"); }));
        CHECK(throws([&] { seal.open(Bytes(), "row 7"); }));
        CHECK(throws([&] { seal.open(Bytes(sealed.begin(), sealed.begin() + 10), "row 7"); }));
        CHECK(seal.open(csr, "row 7") == csr);  // a row written before sealing existed
        CHECK(throws([] { CsrSeal(Bytes(16, 1)); }));
    }

    TEST_CASE("a manual-approval request keeps its CSR sealed until its outcome, then none") {
        LocalCaFixture f;
        f.config.profiles.push_back(profile_named("Manual"));
        f.config.profiles.back().manual_approval = true;
        auto key = pooled_client_key(1);
        const Bytes csr = crypto::csr_der(*make_csr(*key, "CN=waiting", "secret-password"));
        auto first = f.submit(csr, "tx-w", "Manual");
        REQUIRE(first.disposition == Disposition::pending);
        const auto stored = f.db->read([](store::Database& d) {
            auto st = d.prepare("SELECT csr_der FROM local_ca_requests");
            st.step();
            return st.column_blob(0);
        });
        CHECK(CsrSeal::is_sealed(stored));
        CHECK(std::search(stored.begin(), stored.end(), csr.begin() + 4, csr.begin() + 40) == stored.end());
        f.backend().approve(std::stoll(first.backend_ref), "officer");
        CHECK(f.backend().poll(test::poll_of(first.backend_ref)).disposition == Disposition::issued);
        CHECK(f.count("SELECT length(csr_der) FROM local_ca_requests") == 0);
        // The key file was created beside the CA key, private.
        CHECK(std::filesystem::exists(f.dir.file("csr-seal.key")));
    }

    TEST_CASE("plaintext CSRs left by older versions are sealed when the CA starts, and still issue") {
        LocalCaFixture f;
        f.config.profiles.push_back(profile_named("Manual"));
        f.config.profiles.back().manual_approval = true;
        auto key = pooled_client_key(5);
        const Bytes csr = crypto::csr_der(*make_csr(*key, "CN=legacy", "secret-password"));
        auto first = f.submit(csr, "tx-legacy", "Manual");
        REQUIRE(first.disposition == Disposition::pending);
        f.db->write([&](store::Database& d) {
            auto st = d.prepare("UPDATE local_ca_requests SET csr_der = ?1");
            st.bind(1, csr);
            st.run();
        });
        f.restart();
        f.backend();
        const auto stored = f.db->read([](store::Database& d) {
            auto st = d.prepare("SELECT csr_der FROM local_ca_requests");
            st.step();
            return st.column_blob(0);
        });
        CHECK(CsrSeal::is_sealed(stored));
        f.backend().approve(std::stoll(first.backend_ref), "officer");
        auto issued = parsed(f.backend().poll(test::poll_of(first.backend_ref)));
        REQUIRE(issued.disposition == Disposition::issued);
        CHECK(EVP_PKEY_eq(X509_get0_pubkey(issued.certificate.get()), key.get()) == 1);
    }

    TEST_CASE("find_by_transaction answers with what the CA did for this transaction and key only") {
        LocalCaFixture f;
        auto key = pooled_client_key(2);
        auto other = pooled_client_key(3);
        CHECK_FALSE(f.backend().find_by_transaction(test::transaction_query("tx-1", spki_hash(*key))));
        auto issued = f.submit(*key, "CN=device");
        REQUIRE(issued.disposition == Disposition::issued);

        auto found = f.backend().find_by_transaction(test::transaction_query("tx-1", spki_hash(*key)));
        REQUIRE(found);
        CHECK(found->disposition == Disposition::issued);
        CHECK(X509_cmp(crypto::cert_from_der(found->certificate_der).get(), issued.certificate.get()) == 0);
        // Same transactionID, another key: another device's request.
        CHECK_FALSE(f.backend().find_by_transaction(test::transaction_query("tx-1", spki_hash(*other))));
        CHECK_FALSE(f.backend().find_by_transaction(test::transaction_query("tx-2", spki_hash(*key))));

        SUBCASE("ok/a-manual-approval-request-is-found-by-its-sealed-csr") {
            f.config.profiles.push_back(profile_named("Manual"));
            f.config.profiles.back().manual_approval = true;
            f.backend_ptr.reset();
            auto pending = f.submit(crypto::csr_der(*make_csr(*other, "CN=other")), "tx-m", "Manual");
            REQUIRE(pending.disposition == Disposition::pending);
            auto again = f.backend().find_by_transaction(test::transaction_query("tx-m", spki_hash(*other)));
            REQUIRE(again);
            CHECK(again->disposition == Disposition::pending);
            CHECK(again->backend_ref == pending.backend_ref);
            CHECK_FALSE(f.backend().find_by_transaction(test::transaction_query("tx-m", spki_hash(*key))));
        }
    }

    TEST_CASE("a certificate signed outside SCEP is recorded under its issuer and can be revoked") {
        LocalCaFixture f;
        auto key = pooled_client_key(4);
        auto cert = make_cert("CN=RA signing", *key, f.ca_cert, f.ca_key, {}, 30, 4242);
        f.db->write([&](store::Database& d) {
            backend::local::record_certificate(d, *cert, "ra-signing", f.clock.now());
        });
        CHECK(f.count("SELECT count(*) FROM issued_certs WHERE template = 'ra-signing' AND transaction_id IS "
                      "NULL") == 1);
        auto status = f.backend().status_of(crypto::serial_hex(*cert));
        REQUIRE(status);
        f.backend().revoke(crypto::serial_hex(*cert), 4, f.clock.now());
        CHECK(f.backend().status_of(crypto::serial_hex(*cert))->state ==
              backend::local::CertStatus::State::revoked);
    }
}
