// SPDX-License-Identifier: Apache-2.0
// Revocation in the local CA: the signed CRL, its cache and number, certificate status, CDP, subject
// look-ups.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/encoding.hpp"
#include "local/crl.hpp"
#include "local/local_ca_backend.hpp"
#include "local_ca_fixture.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::backend;
using namespace scepra::backend::local;

namespace {

using test::contains;
using test::thrown_message;

struct RevocationFixture : test::LocalCaFixture {
    RevocationFixture() {
        auto short_lived = test::profile_named("Short");
        short_lived.validity_days = 1;
        config.profiles.push_back(short_lived);
    }

    crypto::X509Ptr issue(const std::string& cn, const std::string& template_name = "",
                          size_t key_index = 30) {
        auto key = test::pooled_client_key(key_index);
        auto result = submit_as(template_name, *key, "CN=" + cn);
        REQUIRE(result.disposition == Disposition::issued);
        return std::move(result.certificate);
    }
};

std::string serial_of(X509& cert) { return crypto::serial_hex(cert); }

std::int64_t crl_number(X509_CRL& crl) {
    crypto::Asn1IntegerPtr number(
        static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(&crl, NID_crl_number, nullptr, nullptr)));
    REQUIRE(number != nullptr);
    std::int64_t value = 0;
    REQUIRE(ASN1_INTEGER_get_int64(&value, number.get()) == 1);
    return value;
}

crypto::X509CrlPtr crl_from(const Bytes& der) {
    const unsigned char* p = der.data();
    crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    REQUIRE(crl != nullptr);
    return crl;
}

/// The CRL entry for cert, or null.
X509_REVOKED* entry_for(X509_CRL& crl, X509& cert) {
    X509_REVOKED* entry = nullptr;
    int found = X509_CRL_get0_by_serial(&crl, &entry, X509_get0_serialNumber(&cert));
    return found == 1 ? entry : nullptr;
}

/// The reasonCode of an entry, or -1 when it has none.
int reason_of(X509_REVOKED& entry) {
    int critical = 0;
    auto* reason =
        static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(&entry, NID_crl_reason, &critical, nullptr));
    if (reason == nullptr) {
        return -1;
    }
    long value = ASN1_ENUMERATED_get(reason);
    ASN1_ENUMERATED_free(reason);
    return static_cast<int>(value);
}

/// Full chain verification of cert with CRL checking, as a relying party does it.
int verify_with_crl(X509& cert, X509& ca, X509_CRL& crl, TimePoint at) {
    crypto::X509StorePtr store(X509_STORE_new());
    REQUIRE(store != nullptr);
    REQUIRE(X509_STORE_add_cert(store.get(), &ca) == 1);
    REQUIRE(X509_STORE_add_crl(store.get(), &crl) == 1);
    crypto::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), &cert, nullptr) == 1);
    X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_CRL_CHECK);
    X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<std::time_t>(unix_seconds(at)));
    return X509_verify_cert(ctx.get()) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
}

}  // namespace

TEST_SUITE("backends.local.revocation") {
    TEST_CASE("the CRL is signed by the CA and lists revoked certificates with their reasons") {
        RevocationFixture f;
        auto compromised = f.issue("r1");
        auto replaced = f.issue("r2");
        auto good = f.issue("r3");
        const TimePoint earlier = f.clock.now() - std::chrono::hours(3);
        f.backend().revoke(serial_of(*compromised), crl_reason_key_compromise, earlier);
        f.backend().revoke(serial_of(*replaced), crl_reason_unspecified, f.clock.now());

        auto crl = f.backend().current_crl();
        X509_CRL& c = *crl;

        SUBCASE("ok/signature, version, issuer, times, extensions") {
            CHECK(X509_CRL_verify(&c, X509_get0_pubkey(f.ca_cert)) == 1);
            CHECK(X509_CRL_get_version(&c) == X509_CRL_VERSION_2);
            CHECK(X509_NAME_cmp(X509_CRL_get_issuer(&c), X509_get_subject_name(f.ca_cert)) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(&c), unix_seconds(f.clock.now())) == 0);
            CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(&c),
                                       unix_seconds(f.clock.now()) + 168 * 3600) == 0);
            CHECK(X509_CRL_get_signature_nid(&c) == NID_sha256WithRSAEncryption);
            auto* akid = static_cast<AUTHORITY_KEYID*>(
                X509_CRL_get_ext_d2i(&c, NID_authority_key_identifier, nullptr, nullptr));
            REQUIRE(akid != nullptr);
            REQUIRE(akid->keyid != nullptr);
            CHECK(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(f.ca_cert)) == 0);
            CHECK(akid->issuer == nullptr);
            AUTHORITY_KEYID_free(akid);
            CHECK(crl_number(c) == 1);
            CHECK(X509_CRL_get_ext_count(&c) == 2);
        }
        SUBCASE("fail/the signature does not verify with another key") {
            auto other = test::make_key(0, true);
            CHECK(X509_CRL_verify(&c, other.get()) != 1);
        }
        SUBCASE("ok/entries, dates and reason codes, sorted by serial") {
            STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(&c);
            REQUIRE(sk_X509_REVOKED_num(entries) == 2);
            CHECK(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, 0)),
                                   X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, 1))) < 0);
            X509_REVOKED* first = entry_for(c, *compromised);
            REQUIRE(first != nullptr);
            CHECK(reason_of(*first) == crl_reason_key_compromise);
            CHECK(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(first), unix_seconds(earlier)) == 0);
            X509_REVOKED* second = entry_for(c, *replaced);
            REQUIRE(second != nullptr);
            CHECK(reason_of(*second) == -1);  // unspecified: no reasonCode extension
            CHECK(entry_for(c, *good) == nullptr);
        }
        SUBCASE("ok/a relying party refuses the revoked and accepts the others") {
            CHECK(verify_with_crl(*compromised, *f.ca_cert, c, f.clock.now()) == X509_V_ERR_CERT_REVOKED);
            CHECK(verify_with_crl(*replaced, *f.ca_cert, c, f.clock.now()) == X509_V_ERR_CERT_REVOKED);
            CHECK(verify_with_crl(*good, *f.ca_cert, c, f.clock.now()) == X509_V_OK);
        }
        SUBCASE("ok/crl_der is the DER of the same CRL") {
            const Bytes der = f.backend().crl_der();
            auto parsed = crl_from(der);
            CHECK(X509_CRL_cmp(parsed.get(), &c) == 0);
            CHECK(crl_number(*parsed) == crl_number(c));
        }
    }

    TEST_CASE("an empty CRL is signed before any revocation, with the configured validity") {
        RevocationFixture f;
        f.config.crl_validity_hours = 24;
        f.config.digest = "SHA384";
        auto crl = f.backend().current_crl();
        CHECK(X509_CRL_verify(crl.get(), X509_get0_pubkey(f.ca_cert)) == 1);
        // RFC 5280 5.1.2.6: with no revoked certificates the list MUST be absent, not empty
        CHECK(X509_CRL_get_REVOKED(crl.get()) == nullptr);
        CHECK(crl_number(*crl) == 1);
        CHECK(X509_CRL_get_signature_nid(crl.get()) == NID_sha384WithRSAEncryption);
        CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl.get()),
                                   unix_seconds(f.clock.now()) + 24 * 3600) == 0);
    }

    TEST_CASE("the CRL is cached, re-signed after a revocation or at half-life, and its number only grows") {
        RevocationFixture f;
        auto a = f.issue("n1");
        auto b = f.issue("n2");
        auto c = f.issue("n3");
        const Bytes first = f.backend().crl_der();
        CHECK(crl_number(*crl_from(first)) == 1);

        // cached: the same bytes until something changes, even as time passes
        f.clock.advance(std::chrono::hours(83));
        CHECK(f.backend().crl_der() == first);

        f.backend().revoke(serial_of(*a), crl_reason_superseded, f.clock.now());
        const Bytes second = f.backend().crl_der();
        auto second_crl = crl_from(second);
        CHECK(crl_number(*second_crl) == 2);
        CHECK(entry_for(*second_crl, *a) != nullptr);
        CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(second_crl.get()), unix_seconds(f.clock.now())) ==
              0);

        // half of 168 hours later it is re-signed without any revocation
        f.clock.advance(std::chrono::hours(83));
        CHECK(f.backend().crl_der() == second);
        f.clock.advance(std::chrono::hours(1));
        const Bytes third = f.backend().crl_der();
        auto third_crl = crl_from(third);
        CHECK(crl_number(*third_crl) == 3);
        CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(third_crl.get()), unix_seconds(f.clock.now())) ==
              0);
        CHECK(entry_for(*third_crl, *a) != nullptr);

        SUBCASE("ok/a restart serves the stored CRL, and the number continues") {
            f.restart();
            CHECK(f.backend().crl_der() == third);
            f.backend().revoke(serial_of(*b), crl_reason_cessation_of_operation, f.clock.now());
            CHECK(crl_number(*f.backend().current_crl()) == 4);
            f.restart();
            auto crl = f.backend().current_crl();
            CHECK(crl_number(*crl) == 4);
            CHECK(entry_for(*crl, *b) != nullptr);
        }
        SUBCASE("ok/a revocation by another process is seen by the running server") {
            LocalCaBackend& server = f.backend();
            {
                auto cli_db = store::Database::open(f.dir.file("ra.db"), false);
                LocalCaBackend cli(f.config, *cli_db, f.clock);
                cli.revoke(serial_of(*c), crl_reason_key_compromise, f.clock.now());
            }
            auto crl = server.current_crl();
            CHECK(crl_number(*crl) == 4);
            X509_REVOKED* entry = entry_for(*crl, *c);
            REQUIRE(entry != nullptr);
            CHECK(reason_of(*entry) == crl_reason_key_compromise);
        }
    }

    TEST_CASE("expired certificates drop off the CRL") {
        RevocationFixture f;
        auto short_lived = f.issue("e1", "Short");
        auto long_lived = f.issue("e2");
        f.backend().revoke(serial_of(*short_lived), crl_reason_key_compromise, f.clock.now());
        f.backend().revoke(serial_of(*long_lived), crl_reason_key_compromise, f.clock.now());
        auto before = f.backend().current_crl();
        CHECK(entry_for(*before, *short_lived) != nullptr);
        CHECK(entry_for(*before, *long_lived) != nullptr);

        f.clock.advance(std::chrono::hours(24 * 4));  // past the short certificate and the CRL's half-life
        auto after = f.backend().current_crl();
        CHECK(crl_number(*after) == 2);
        CHECK(entry_for(*after, *short_lived) == nullptr);
        CHECK(entry_for(*after, *long_lived) != nullptr);
    }

    TEST_CASE("revoke refuses unknown, already revoked and malformed input") {
        RevocationFixture f;
        auto cert = f.issue("v1");
        const std::string serial = serial_of(*cert);
        std::string message;

        SUBCASE("ok/serial in lower case with 0x and colons") {
            std::string spelled = "0x";
            for (size_t i = 0; i < serial.size(); ++i) {
                spelled += static_cast<char>(std::tolower(static_cast<unsigned char>(serial[i])));
                if (i % 2 == 1 && i + 1 < serial.size()) {
                    spelled += ':';
                }
            }
            f.backend().revoke(spelled, crl_reason_affiliation_changed, f.clock.now());
            CHECK(f.backend().status_of(serial)->state == CertStatus::State::revoked);
        }
        SUBCASE("fail/unknown serial") {
            message = thrown_message<std::invalid_argument>(
                [&] { f.backend().revoke("0123456789ABCDEF", crl_reason_key_compromise, f.clock.now()); });
            CHECK(contains(message, "no certificate with serial 0123456789ABCDEF"));
        }
        SUBCASE("fail/revoked twice") {
            const TimePoint first = f.clock.now() - std::chrono::hours(1);
            f.backend().revoke(serial, crl_reason_key_compromise, first);
            message = thrown_message<std::invalid_argument>(
                [&] { f.backend().revoke(serial, crl_reason_superseded, f.clock.now()); });
            CHECK(contains(message, "already revoked"));
            auto status = f.backend().status_of(serial);
            REQUIRE(status.has_value());
            CHECK(status->reason_code == crl_reason_key_compromise);
            CHECK(status->revoked_at == first);
        }
        SUBCASE("fail/not a serial") {
            CHECK_THROWS_AS(f.backend().revoke("xyz", crl_reason_key_compromise, f.clock.now()),
                            std::invalid_argument);
            CHECK_THROWS_AS(f.backend().revoke("", crl_reason_key_compromise, f.clock.now()),
                            std::invalid_argument);
        }
        SUBCASE("fail/not a CRLReason for a full CRL") {
            for (int code : {7, int{crl_reason_remove_from_crl}, 11, -1}) {
                CHECK_THROWS_AS(f.backend().revoke(serial, code, f.clock.now()), std::invalid_argument);
            }
            CHECK(f.backend().status_of(serial)->state == CertStatus::State::valid);
        }
        SUBCASE("fail/in the future") {
            const TimePoint later = f.clock.now() + std::chrono::hours(1);
            CHECK_THROWS_AS(f.backend().revoke(serial, crl_reason_key_compromise, later),
                            std::invalid_argument);
            CHECK(f.backend().status_of(serial)->state == CertStatus::State::valid);
        }
    }

    TEST_CASE("status_of tells valid, revoked and expired certificates apart") {
        RevocationFixture f;
        auto cert = f.issue("s1", "Short");
        const std::string serial = serial_of(*cert);

        SUBCASE("ok/valid") {
            auto status = f.backend().status_of(serial);
            REQUIRE(status.has_value());
            CHECK(status->state == CertStatus::State::valid);
            CHECK(X509_cmp(status->certificate.get(), cert.get()) == 0);
            CHECK_FALSE(status->revoked_at.has_value());
        }
        SUBCASE("ok/revoked, with time and reason, even after expiry") {
            const TimePoint when = f.clock.now();
            f.backend().revoke(serial, crl_reason_privilege_withdrawn, when);
            f.clock.advance(std::chrono::hours(48));
            auto status = f.backend().status_of(serial);
            REQUIRE(status.has_value());
            CHECK(status->state == CertStatus::State::revoked);
            CHECK(status->revoked_at == when);
            CHECK(status->reason_code == crl_reason_privilege_withdrawn);
        }
        SUBCASE("ok/expired") {
            f.clock.advance(std::chrono::hours(24));
            CHECK(f.backend().status_of(serial)->state == CertStatus::State::expired);
        }
        SUBCASE("fail/unknown or malformed serial") {
            CHECK_FALSE(f.backend().status_of("0123456789ABCDEF").has_value());
            CHECK_FALSE(f.backend().status_of("not hex").has_value());
        }
    }

    TEST_CASE("crlDistributionPoints is added only when configured") {
        RevocationFixture f;

        SUBCASE("ok/configured") {
            f.config.crl_distribution_point = "http://pki.example.com/scep-ra.crl";
            auto cert = f.issue("c1");
            X509_EXTENSION* ext = test::extension(*cert, NID_crl_distribution_points);
            REQUIRE(ext != nullptr);
            CHECK(X509_EXTENSION_get_critical(ext) == 0);
            auto* points = static_cast<CRL_DIST_POINTS*>(X509V3_EXT_d2i(ext));
            REQUIRE(points != nullptr);
            REQUIRE(sk_DIST_POINT_num(points) == 1);
            DIST_POINT* point = sk_DIST_POINT_value(points, 0);
            REQUIRE(point->distpoint != nullptr);
            REQUIRE(point->distpoint->type == 0);  // fullName
            GENERAL_NAMES* names = point->distpoint->name.fullname;
            REQUIRE(sk_GENERAL_NAME_num(names) == 1);
            GENERAL_NAME* name = sk_GENERAL_NAME_value(names, 0);
            REQUIRE(name->type == GEN_URI);
            const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
            CHECK(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                              static_cast<size_t>(ASN1_STRING_length(uri))) ==
                  "http://pki.example.com/scep-ra.crl");
            CRL_DIST_POINTS_free(points);
            CHECK(X509_get_ext_count(cert.get()) == 6);
        }
        SUBCASE("fail/not configured") {
            auto cert = f.issue("c2");
            CHECK(test::extension(*cert, NID_crl_distribution_points) == nullptr);
            CHECK(X509_get_ext_count(cert.get()) == 5);
        }
    }

    TEST_CASE("find_valid_by_subject returns only the subject's unexpired, unrevoked certificates") {
        RevocationFixture f;
        auto current = f.issue("dev1", "", 31);
        auto revoked = f.issue("dev1", "", 32);
        auto expiring = f.issue("dev1", "Short", 33);
        auto other = f.issue("dev2", "", 34);
        f.backend().revoke(serial_of(*revoked), crl_reason_superseded, f.clock.now());

        SUBCASE("ok/before the short one expires, latest notAfter first") {
            auto found = f.backend().find_valid_by_subject("CN=dev1");
            REQUIRE(found.size() == 2);
            CHECK(X509_cmp(found[0].get(), current.get()) == 0);
            CHECK(X509_cmp(found[1].get(), expiring.get()) == 0);
        }
        SUBCASE("ok/after it expired") {
            f.clock.advance(std::chrono::hours(25));
            auto found = f.backend().find_valid_by_subject("CN=dev1");
            REQUIRE(found.size() == 1);
            CHECK(X509_cmp(found[0].get(), current.get()) == 0);
        }
        SUBCASE("ok/another subject") {
            auto found = f.backend().find_valid_by_subject("CN=dev2");
            REQUIRE(found.size() == 1);
            CHECK(X509_cmp(found[0].get(), other.get()) == 0);
        }
        SUBCASE("fail/nothing for an unknown or merely similar subject") {
            CHECK(f.backend().find_valid_by_subject("CN=nobody").empty());
            CHECK(f.backend().find_valid_by_subject("CN=dev").empty());
            CHECK(f.backend().find_valid_by_subject("cn=DEV1,O=x").empty());
        }
        SUBCASE("ok/the look-up is served by an index") {
            std::string plan = f.db->read([](store::Database& d) {
                auto st = d.prepare(
                    "EXPLAIN QUERY PLAN SELECT der FROM issued_certs WHERE subject = ?1 AND revoked_at IS "
                    "NULL "
                    "AND not_after > ?2 AND issuer = ?3 ORDER BY not_after DESC");
                std::string out;
                while (st.step()) {
                    out += st.column_text(3) + "\n";
                }
                return out;
            });
            CHECK(contains(plan, "USING INDEX local_ca_valid_by_subject"));
        }
    }
}
