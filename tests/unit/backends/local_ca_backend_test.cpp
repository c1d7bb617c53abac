// SPDX-License-Identifier: Apache-2.0
// LocalCaBackend against real keys, a real SQLite file and a fixed clock.
#include "local/local_ca_backend.hpp"

#include <doctest/doctest.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "crypto/encoding.hpp"
#include "local_ca_fixture.hpp"
#include "store/database.hpp"
#include "support/backend_queries.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::local;

namespace {

using Fixture = test::LocalCaFixture;
using test::contains;
using test::day;
using test::extension;
using test::is_critical;
using test::thrown_message;

bool verifies(X509& cert, X509& trust_anchor, const std::vector<crypto::X509Ptr>& untrusted, TimePoint at) {
    crypto::X509StorePtr store(X509_STORE_new());
    REQUIRE(store != nullptr);
    REQUIRE(X509_STORE_add_cert(store.get(), &trust_anchor) == 1);
    crypto::X509StackPtr chain(sk_X509_new_null());
    REQUIRE(chain != nullptr);
    for (const auto& c : untrusted) {
        REQUIRE(X509_add_cert(chain.get(), c.get(), X509_ADD_FLAG_UP_REF) == 1);
    }
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), &cert, chain.get()) == 1);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<std::time_t>(unix_seconds(at)));
    int ok = X509_verify_cert(ctx.get());
    if (ok != 1) {
        MESSAGE(
            "verify: " << std::string(X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
    }
    return ok == 1;
}

X509_EXTENSION* csr_extension(X509_REQ& csr, int nid) {
    static crypto::X509ExtensionStackPtr keep;  // owns the extensions of the last call
    keep.reset(X509_REQ_get_extensions(&csr));
    REQUIRE(keep != nullptr);
    int index = X509v3_get_ext_by_NID(keep.get(), nid, -1);
    return index < 0 ? nullptr : X509v3_get_ext(keep.get(), index);
}

std::int64_t bits_of_serial(X509& cert) {
    crypto::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(&cert), nullptr));
    REQUIRE(bn != nullptr);
    REQUIRE_FALSE(BN_is_negative(bn.get()));
    REQUIRE_FALSE(BN_is_zero(bn.get()));
    return BN_num_bits(bn.get());
}

}  // namespace

TEST_SUITE("backends.local") {
    TEST_CASE("an issued certificate chains to the CA and comes with the CA chain") {
        Fixture f;
        auto client = test::pooled_client_key(0);

        SUBCASE("ok/root CA") {
            auto result = f.submit(*client, "CN=router1,O=Example");
            REQUIRE(result.disposition == Disposition::issued);
            REQUIRE(result.certificate != nullptr);
            CHECK(result.reason.empty());
            REQUIRE(result.chain.size() == 1);
            CHECK(X509_cmp(result.chain[0].get(), f.ca_cert) == 0);
            CHECK(verifies(*result.certificate, *f.ca_cert, {}, f.clock.now()));
            CHECK(X509_get_version(result.certificate.get()) == X509_VERSION_3);
            CHECK(X509_get_signature_nid(result.certificate.get()) == NID_sha256WithRSAEncryption);
            CHECK(X509_NAME_cmp(
                      X509_get_subject_name(result.certificate.get()),
                      X509_REQ_get_subject_name(test::make_csr(*client, "CN=router1,O=Example").get())) == 0);
            CHECK(EVP_PKEY_eq(X509_get0_pubkey(result.certificate.get()), client.get()) == 1);
        }
        SUBCASE("ok/intermediate CA with a chain file") {
            auto root_key = test::make_key(0, true);
            auto root = test::make_cert("CN=Chain Root", *root_key, nullptr, nullptr,
                                        {{NID_basic_constraints, "critical,CA:TRUE"},
                                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                         {NID_subject_key_identifier, "hash"}},
                                        3650, 10);
            auto sub_key = test::make_key(0, true);
            auto sub = test::make_cert("CN=Issuing CA", *sub_key, root.get(), root_key.get(),
                                       {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                        {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                        {NID_subject_key_identifier, "hash"},
                                        {NID_authority_key_identifier, "keyid:always"}},
                                       1825, 11);
            f.use_ca(*sub, *sub_key);
            // the chain file may start with the issuing CA itself; it must not appear twice
            crypto::write_file(f.dir.file("chain.pem"), crypto::cert_pem(*sub) + crypto::cert_pem(*root),
                               0644, true);
            f.config.chain_file = f.dir.file("chain.pem");

            auto result = f.submit(*client, "CN=router2");
            REQUIRE(result.disposition == Disposition::issued);
            REQUIRE(result.chain.size() == 2);
            CHECK(X509_cmp(result.chain[0].get(), sub.get()) == 0);
            CHECK(X509_cmp(result.chain[1].get(), root.get()) == 0);
            CHECK(X509_get_signature_nid(result.certificate.get()) == NID_ecdsa_with_SHA256);
            CHECK(verifies(*result.certificate, *root, result.chain, f.clock.now()));
            CHECK_FALSE(verifies(*result.certificate, *root, {}, f.clock.now()));

            auto chain = f.backend().ca_chain();
            REQUIRE(chain.size() == 2);
            CHECK(X509_cmp(chain[0].get(), sub.get()) == 0);
            CHECK(X509_cmp(chain[1].get(), root.get()) == 0);
        }
    }

    TEST_CASE("serials are positive, have at least 64 bits, are unique and are recorded") {
        Fixture f;
        constexpr int count = 200;
        std::set<std::string> serials;
        for (int i = 0; i < count; ++i) {
            auto key = test::pooled_client_key(static_cast<size_t>(i));
            auto result = f.submit(*key, "CN=device-" + std::to_string(i));
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(bits_of_serial(*result.certificate) >= 64);
            CHECK(bits_of_serial(*result.certificate) <= 127);
            serials.insert(crypto::serial_hex(*result.certificate));
        }
        CHECK(serials.size() == count);
        CHECK(f.issued_rows() == count);
        std::set<std::string> stored = f.db->read([](store::Database& d) {
            std::set<std::string> out;
            auto st = d.prepare("SELECT serial FROM issued_certs");
            while (st.step()) {
                out.insert(st.column_text(0));
            }
            return out;
        });
        CHECK(stored == serials);
    }

    TEST_CASE("concurrent submissions all succeed with distinct serials") {
        Fixture f;
        constexpr int threads = 8;
        constexpr int per_thread = 15;
        std::vector<Bytes> csrs;
        for (int i = 0; i < threads * per_thread; ++i) {
            auto key = test::pooled_client_key(static_cast<size_t>(i));
            csrs.push_back(crypto::csr_der(*test::make_csr(*key, "CN=parallel-" + std::to_string(i))));
        }
        LocalCaBackend& backend = f.backend();
        std::vector<std::string> serials(csrs.size());
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&, t] {
                for (int i = t * per_thread; i < (t + 1) * per_thread; ++i) {
                    try {
                        auto result = test::parsed(
                            backend.submit(SubmitRequest{"tx", csrs[static_cast<size_t>(i)], "", ""}));
                        if (result.disposition == Disposition::issued) {
                            serials[static_cast<size_t>(i)] = crypto::serial_hex(*result.certificate);
                        }
                    } catch (const std::exception&) {
                        // leaves the serial empty, which the checks below report
                    }
                }
            });
        }
        for (auto& w : workers) {
            w.join();
        }
        std::set<std::string> unique(serials.begin(), serials.end());
        CHECK(unique.count("") == 0);
        CHECK(unique.size() == csrs.size());
        CHECK(f.issued_rows() == static_cast<std::int64_t>(csrs.size()));
    }

    TEST_CASE("the issued certificate is recorded in issued_certs and can be found again") {
        Fixture f;
        f.config.profiles.push_back(test::profile_named("Router"));
        auto key = test::pooled_client_key(2);
        // the template is matched case-insensitively and recorded as configured
        auto result =
            f.submit(crypto::csr_der(*test::make_csr(*key, "CN=router3,O=Example")), "tx-1", "router");
        REQUIRE(result.disposition == Disposition::issued);
        const std::string serial = crypto::serial_hex(*result.certificate);
        const std::string issuer = crypto::name_string(*X509_get_subject_name(f.ca_cert));
        CHECK(f.backend().issuer_dn() == issuer);

        SUBCASE("ok/row contents") {
            f.db->read([&](store::Database& d) {
                auto st = d.prepare(
                    "SELECT issuer, subject, not_before, not_after, transaction_id, template, issued_at, "
                    "der, "
                    "revoked_at FROM issued_certs WHERE serial = ?1");
                st.bind(1, serial);
                REQUIRE(st.step());
                CHECK(st.column_text(0) == issuer);
                CHECK(st.column_text(1) ==
                      crypto::name_string(*X509_get_subject_name(result.certificate.get())));
                CHECK(st.column_text(2) == sql_time(f.clock.now() - std::chrono::seconds(600)));
                CHECK(st.column_text(3) == sql_time(f.clock.now() + std::chrono::hours(24 * 365)));
                CHECK(st.column_text(4) == "tx-1");
                CHECK(st.column_text(5) == "Router");
                CHECK(st.column_text(6) == sql_time(f.clock.now()));
                CHECK(st.column_blob(7) == crypto::cert_der(*result.certificate));
                CHECK(st.is_null(8));
                CHECK_FALSE(st.step());
            });
        }
        SUBCASE("ok/find_issued by issuer and serial, any case") {
            auto found = f.backend().find_issued(issuer, serial);
            REQUIRE(found.has_value());
            CHECK(X509_cmp(found->get(), result.certificate.get()) == 0);
            std::string lower = serial;
            for (auto& c : lower) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            CHECK(f.backend().find_issued(issuer, lower).has_value());
        }
        SUBCASE("fail/find_issued with an unknown serial or issuer") {
            CHECK_FALSE(f.backend().find_issued(issuer, "01").has_value());
            CHECK_FALSE(f.backend().find_issued("CN=Someone Else", serial).has_value());
        }
    }

    TEST_CASE("the RA's record of an issued certificate is committed with the CA's, or neither is") {
        Fixture f;
        auto key = test::pooled_client_key(2);
        const Bytes csr = crypto::csr_der(*test::make_csr(*key, "CN=together,O=Example"));
        SubmitRequest request{"tx-together", csr, "", "192.0.2.7"};

        SUBCASE("ok/the hook runs in the transaction that holds the certificate's row") {
            std::int64_t rows_seen = -1;
            request.record_issued = [&](store::Database& db, const SubmitResult& issued) {
                CHECK(issued.disposition == Disposition::issued);
                auto st = db.prepare("SELECT count(*) FROM issued_certs WHERE der = ?1");
                st.bind(1, issued.certificate_der);
                st.step();
                rows_seen = st.column_int(0);
                db.prepare("CREATE TABLE ra_side (x INTEGER)").run();
                db.prepare("INSERT INTO ra_side VALUES (7)").run();
                return true;
            };
            auto result = f.backend().submit(request);
            CHECK(result.disposition == Disposition::issued);
            CHECK(result.recorded_by_ra);
            CHECK(rows_seen == 1);
            CHECK(f.count("SELECT count(*) FROM ra_side") == 1);
            CHECK(f.count("SELECT count(*) FROM issued_certs") == 1);
        }
        SUBCASE("ok/a hook that wrote nothing leaves the RA to record it") {
            request.record_issued = [](store::Database&, const SubmitResult&) { return false; };
            auto result = f.backend().submit(request);
            CHECK(result.disposition == Disposition::issued);
            CHECK_FALSE(result.recorded_by_ra);
            CHECK(f.count("SELECT count(*) FROM issued_certs") == 1);
        }
        SUBCASE("fail/a failing RA record rolls back the certificate's row: the CA did not issue") {
            request.record_issued = [](store::Database& db, const SubmitResult&) -> bool {
                db.prepare("INSERT INTO no_such_table VALUES (1)").run();
                return true;
            };
            CHECK_THROWS_AS(f.backend().submit(request), BackendUnavailable);
            CHECK(f.count("SELECT count(*) FROM issued_certs") == 0);
        }
    }

    TEST_CASE("the validity window follows the clock, backdate and validity_days") {
        Fixture f;
        auto key = test::pooled_client_key(3);
        const std::time_t now = unix_seconds(f.clock.now());

        SUBCASE("ok/defaults: ten minutes back, one year ahead") {
            auto result = f.submit(*key, "CN=v1");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(result.certificate.get()), now - 600) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(result.certificate.get()), now + 365 * day) == 0);
        }
        SUBCASE("ok/configured backdate and validity, clock moved") {
            f.config.backdate_seconds = 0;
            f.config.validity_days = 30;
            f.clock.advance(std::chrono::hours(24 * 10));
            auto result = f.submit(*key, "CN=v2");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notBefore(result.certificate.get()), now + 10 * day) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_get0_notAfter(result.certificate.get()), now + 40 * day) == 0);
        }
        SUBCASE("ok/clamped to the CA's notAfter") {
            auto ca_key = test::make_key(0, true);
            auto short_ca = test::make_cert("CN=Short-lived CA", *ca_key, nullptr, nullptr,
                                            {{NID_basic_constraints, "critical,CA:TRUE"},
                                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                             {NID_subject_key_identifier, "hash"}},
                                            30, 20);
            f.use_ca(*short_ca, *ca_key);
            auto result = f.submit(*key, "CN=v3");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(ASN1_TIME_compare(X509_get0_notAfter(result.certificate.get()),
                                    X509_get0_notAfter(short_ca.get())) == 0);
            CHECK(verifies(*result.certificate, *short_ca, {}, f.clock.now()));
        }
        SUBCASE("fail/the CA has expired") {
            f.clock.advance(std::chrono::hours(24 * 3651));
            CHECK_THROWS_AS(f.submit(*key, "CN=v4"), BackendUnavailable);
            CHECK(f.issued_rows() == 0);
        }
    }

    TEST_CASE("basicConstraints, keyUsage and EKU come from the config, never from the request") {
        Fixture f;
        auto key = test::pooled_client_key(4);

        SUBCASE("ok/default profile") {
            auto result = f.submit(*key, "CN=ext1");
            REQUIRE(result.disposition == Disposition::issued);
            X509& cert = *result.certificate;
            CHECK(X509_check_ca(&cert) == 0);
            CHECK(is_critical(cert, NID_basic_constraints));
            CHECK((X509_get_extension_flags(&cert) & EXFLAG_BCONS) != 0);
            CHECK(is_critical(cert, NID_key_usage));
            CHECK(X509_get_key_usage(&cert) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
            CHECK_FALSE(is_critical(cert, NID_ext_key_usage));
            CHECK(X509_get_extended_key_usage(&cert) == XKU_SSL_CLIENT);
            REQUIRE(X509_get0_subject_key_id(&cert) != nullptr);
            unsigned char sha1[EVP_MAX_MD_SIZE];
            unsigned int len = 0;
            REQUIRE(X509_pubkey_digest(&cert, EVP_sha1(), sha1, &len) == 1);
            CHECK(Bytes(sha1, sha1 + len) == Bytes(ASN1_STRING_get0_data(X509_get0_subject_key_id(&cert)),
                                                   ASN1_STRING_get0_data(X509_get0_subject_key_id(&cert)) +
                                                       ASN1_STRING_length(X509_get0_subject_key_id(&cert))));
            REQUIRE(X509_get0_authority_key_id(&cert) != nullptr);
            CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(&cert),
                                        X509_get0_subject_key_id(f.ca_cert)) == 0);
            CHECK(X509_get0_authority_issuer(&cert) == nullptr);
            CHECK(X509_get_ext_count(&cert) == 5);
        }
        SUBCASE("ok/configured usages") {
            f.config.key_usage = "digitalSignature";
            f.config.extended_key_usage = "serverAuth,clientAuth";
            auto result = f.submit(*key, "CN=ext2");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(X509_get_key_usage(result.certificate.get()) == KU_DIGITAL_SIGNATURE);
            CHECK(X509_get_extended_key_usage(result.certificate.get()) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
        }
        SUBCASE("ok/empty strings omit the extensions") {
            f.config.key_usage = "";
            f.config.extended_key_usage = "";
            auto result = f.submit(*key, "CN=ext3");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(extension(*result.certificate, NID_key_usage) == nullptr);
            CHECK(extension(*result.certificate, NID_ext_key_usage) == nullptr);
            CHECK(extension(*result.certificate, NID_basic_constraints) != nullptr);
            CHECK(X509_get_ext_count(result.certificate.get()) == 3);
        }
        SUBCASE("ok/keyEncipherment is dropped for an EC key") {
            auto ec = test::make_key(0, true);
            auto result = f.submit(*ec, "CN=ext4");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(X509_get_key_usage(result.certificate.get()) == KU_DIGITAL_SIGNATURE);
        }
        SUBCASE("fail/a request asking for CA powers does not get them") {
            auto result = f.submit(*key, "CN=evil",
                                   {{NID_basic_constraints, "critical,CA:TRUE"},
                                    {NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature"},
                                    {NID_ext_key_usage, "codeSigning,OCSPSigning"},
                                    {NID_name_constraints, "permitted;DNS:example.com"},
                                    {NID_crl_distribution_points, "URI:http://evil.example/crl"},
                                    {NID_info_access, "caIssuers;URI:http://evil.example/ca"},
                                    {NID_subject_key_identifier, "DEADBEEF"}});
            REQUIRE(result.disposition == Disposition::issued);
            X509& cert = *result.certificate;
            CHECK(X509_check_ca(&cert) == 0);
            CHECK(X509_get_key_usage(&cert) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
            CHECK(X509_get_extended_key_usage(&cert) == XKU_SSL_CLIENT);
            CHECK(extension(cert, NID_name_constraints) == nullptr);
            CHECK(extension(cert, NID_crl_distribution_points) == nullptr);
            CHECK(extension(cert, NID_info_access) == nullptr);
            CHECK(ASN1_STRING_length(X509_get0_subject_key_id(&cert)) == 20);
            CHECK(X509_get_ext_count(&cert) == 5);
            // the issued leaf cannot act as a CA for anything below it
            auto victim = test::make_key(0, true);
            auto forged = test::make_cert("CN=forged", *victim, &cert, key.get(), {}, 30, 99);
            std::vector<crypto::X509Ptr> intermediates;
            intermediates.push_back(crypto::up_ref(cert));
            CHECK_FALSE(verifies(*forged, *f.ca_cert, intermediates, f.clock.now()));
        }
    }

    TEST_CASE("subjectAltName is copied from the request only when allowed") {
        Fixture f;
        auto key = test::pooled_client_key(5);
        auto csr = test::make_csr(*key, "CN=router4", "secret",
                                  {{NID_subject_alt_name, "DNS:router4.example.com,IP:192.0.2.4"}});
        const Bytes der = crypto::csr_der(*csr);

        SUBCASE("ok/copied") {
            auto result = f.submit(der);
            REQUIRE(result.disposition == Disposition::issued);
            X509_EXTENSION* san = extension(*result.certificate, NID_subject_alt_name);
            REQUIRE(san != nullptr);
            X509_EXTENSION* requested = csr_extension(*csr, NID_subject_alt_name);
            REQUIRE(requested != nullptr);
            CHECK(ASN1_OCTET_STRING_cmp(X509_EXTENSION_get_data(san), X509_EXTENSION_get_data(requested)) ==
                  0);
            CHECK(X509_get_ext_count(result.certificate.get()) == 6);
        }
        SUBCASE("ok/encoded anew: bytes after the names and the requester's critical flag are not signed") {
            // GeneralNames { dNSName "router4.example.com" }, then 05 00 that OpenSSL's reader ignores.
            const std::string dns = "router4.example.com";
            Bytes value{0x30, static_cast<unsigned char>(dns.size() + 2), 0x82,
                        static_cast<unsigned char>(dns.size())};
            value.insert(value.end(), dns.begin(), dns.end());
            const Bytes canonical = value;
            value.push_back(0x05);
            value.push_back(0x00);
            crypto::Asn1OctetStringPtr data(ASN1_OCTET_STRING_new());
            REQUIRE(ASN1_OCTET_STRING_set(data.get(), value.data(), static_cast<int>(value.size())) == 1);
            crypto::X509ExtensionStackPtr exts(sk_X509_EXTENSION_new_null());
            sk_X509_EXTENSION_push(
                exts.get(), X509_EXTENSION_create_by_NID(nullptr, NID_subject_alt_name, 1, data.get()));
            auto lenient = test::make_csr(*key, "CN=router4", "secret");
            REQUIRE(X509_REQ_add_extensions(lenient.get(), exts.get()) == 1);
            REQUIRE(X509_REQ_sign(lenient.get(), key.get(), EVP_sha256()) > 0);
            auto result = f.submit(crypto::csr_der(*lenient));
            REQUIRE(result.disposition == Disposition::issued);
            X509_EXTENSION* san = extension(*result.certificate, NID_subject_alt_name);
            REQUIRE(san != nullptr);
            const ASN1_OCTET_STRING* issued = X509_EXTENSION_get_data(san);
            CHECK(Bytes(ASN1_STRING_get0_data(issued),
                        ASN1_STRING_get0_data(issued) + ASN1_STRING_length(issued)) == canonical);
            CHECK(X509_EXTENSION_get_critical(san) == 0);  // the subject is not empty
        }
        SUBCASE("fail/not copied when copy_san is off") {
            f.config.copy_san = false;
            auto result = f.submit(der);
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(extension(*result.certificate, NID_subject_alt_name) == nullptr);
        }
        SUBCASE("ok/no SAN requested, none issued") {
            auto result = f.submit(*key, "CN=router5");
            REQUIRE(result.disposition == Disposition::issued);
            CHECK(extension(*result.certificate, NID_subject_alt_name) == nullptr);
        }
    }

    TEST_CASE("bad requests are rejected with a reason and nothing is recorded") {
        Fixture f;
        auto key = test::pooled_client_key(0);
        test::ParsedResult result;
        std::string expected;

        SUBCASE("fail/not a CSR") {
            result = f.submit(Bytes{0x30, 0x03, 0x02, 0x01, 0x01});
            expected = "not a valid PKCS#10";
        }
        SUBCASE("fail/signature does not verify") {
            Bytes der = crypto::csr_der(*test::make_csr(*key, "CN=tampered"));
            der.back() ^= 0x01;  // last byte of the signature BIT STRING
            result = f.submit(der);
            expected = "signature";
        }
        SUBCASE("fail/subject altered after signing") {
            Bytes der = crypto::csr_der(*test::make_csr(*key, "CN=aaaa"));
            auto pos = std::search(der.begin(), der.end(), std::begin("aaaa"), std::begin("aaaa") + 4);
            REQUIRE(pos != der.end());
            *pos = 'b';
            result = f.submit(der);
            expected = "signature";
        }
        SUBCASE("fail/RSA key under 2048 bits") {
            auto weak = test::make_key(1024);
            result = f.submit(*weak, "CN=weak");
            expected = "2048";
        }
        SUBCASE("fail/empty subject") {
            result = f.submit(*key, "");
            expected = "empty subject";
        }
        CHECK(result.disposition == Disposition::rejected);
        CHECK(result.certificate == nullptr);
        CHECK(contains(result.reason, expected));
        CHECK(f.issued_rows() == 0);
    }

    TEST_CASE("the constructor checks the CA certificate, key and settings") {
        Fixture f;
        SUBCASE("ok/matching pair") {
            CHECK(f.backend().name() == "local");
            CHECK(f.backend().ca_chain().size() == 1);
            auto polled = test::parsed(f.backend().poll(test::poll_of("anything")));
            CHECK(polled.disposition == Disposition::rejected);
            CHECK(polled.reason == "unknown request");
        }
        SUBCASE("fail/key does not match the certificate") {
            auto other = test::make_key(0, true);
            crypto::save_key_file(f.dir.file("other.key"), *other);
            f.config.key_file = f.dir.file("other.key");
            auto message = thrown_message<std::runtime_error>([&] { f.backend(); });
            CHECK(contains(message, "other.key"));
            CHECK(contains(message, "does not match"));
        }
        SUBCASE("fail/certificate is not a CA") {
            const auto& pki = test::shared_test_pki();
            f.use_ca(*pki.ra_sign_cert, *pki.ra_sign_key);
            auto message = thrown_message<std::runtime_error>([&] { f.backend(); });
            CHECK(contains(message, "ca.pem"));
            CHECK(contains(message, "not a CA"));
        }
        SUBCASE("fail/missing or garbage certificate file") {
            f.config.cert_file = f.dir.file("missing.pem");
            CHECK(contains(thrown_message<std::runtime_error>([&] { f.backend(); }), "missing.pem"));
            crypto::write_file(f.dir.file("garbage.der"), "not a certificate", 0644, true);
            f.config.cert_file = f.dir.file("garbage.der");
            CHECK(contains(thrown_message<std::runtime_error>([&] { f.backend(); }), "garbage.der"));
        }
        SUBCASE("fail/bad settings") {
            SUBCASE("digest") { f.config.digest = "NOSUCHDIGEST"; }
            SUBCASE("key usage") { f.config.key_usage = "digitalSignature,flyingPigs"; }
            SUBCASE("extended key usage") { f.config.extended_key_usage = "notAnEku"; }
            SUBCASE("validity") { f.config.validity_days = 0; }
            SUBCASE("backdate") { f.config.backdate_seconds = -1; }
            CHECK_THROWS_AS(f.backend(), std::invalid_argument);
        }
    }
}
