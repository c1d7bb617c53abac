// SPDX-License-Identifier: Apache-2.0
// [renewal] revocation = crl: the CRL at the certificate's HTTP distribution
// point, fetched from a real HTTP server on loopback, decides whether a
// certificate may still authenticate a renewal. Every doubt refuses.
#include <doctest/doctest.h>
#include <httplib.h>
#include <openssl/x509v3.h>

#include <atomic>
#include <ctime>
#include <functional>
#include <thread>

#include "core/revocation_check.hpp"
#include "crypto/encoding.hpp"
#include "http/http_crl_fetcher.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace std::chrono_literals;

namespace {

/// A CRL of ca listing the given serials, valid from now - 1 h for valid_for;
/// `extend` adds extensions before it is signed.
Bytes make_crl(X509& ca, EVP_PKEY& ca_key, const std::vector<long>& revoked, std::chrono::seconds valid_for,
               const std::function<void(X509_CRL&)>& extend = {}) {
    crypto::X509CrlPtr crl(X509_CRL_new());
    REQUIRE(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1);
    REQUIRE(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&ca)) == 1);
    crypto::Asn1TimePtr last(X509_gmtime_adj(nullptr, -3600)),
        next(X509_gmtime_adj(nullptr, valid_for.count()));
    REQUIRE(X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1);
    REQUIRE(X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1);
    for (long serial : revoked) {
        X509_REVOKED* entry = X509_REVOKED_new();
        crypto::Asn1IntegerPtr number(ASN1_INTEGER_new());
        ASN1_INTEGER_set(number.get(), serial);
        X509_REVOKED_set_serialNumber(entry, number.get());
        X509_REVOKED_set_revocationDate(entry, last.get());
        REQUIRE(X509_CRL_add0_revoked(crl.get(), entry) == 1);
    }
    if (extend) {
        extend(*crl);
    }
    REQUIRE(X509_CRL_sign(crl.get(), &ca_key, EVP_sha256()) > 0);
    int length = i2d_X509_CRL(crl.get(), nullptr);
    Bytes der(static_cast<size_t>(length));
    unsigned char* p = der.data();
    i2d_X509_CRL(crl.get(), &p);
    return der;
}

/// A CRL distribution point on loopback whose answer the test sets.
class CrlServer {
  public:
    CrlServer() {
        m_server.Get("/ca.crl", [this](const httplib::Request&, httplib::Response& response) {
            ++m_hits;
            std::lock_guard lock(m_mutex);
            response.status = m_status;
            response.set_content(std::string(m_body.begin(), m_body.end()), "application/pkix-crl");
        });
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
    }
    ~CrlServer() {
        m_server.stop();
        m_thread.join();
    }
    void serve(Bytes body, int status = 200) {
        std::lock_guard lock(m_mutex);
        m_body = std::move(body);
        m_status = status;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/ca.crl"; }
    int hits() const { return m_hits; }

  private:
    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
    std::mutex m_mutex;
    Bytes m_body;
    int m_status = 200;
    std::atomic<int> m_hits{0};
};

crypto::X509Ptr device_cert(long serial, const std::string& cdp) {
    const auto& pki = test::shared_test_pki();
    auto key = test::pooled_client_key(static_cast<size_t>(serial));
    std::vector<test::Ext> exts;
    if (!cdp.empty()) exts.push_back({NID_crl_distribution_points, "URI:" + cdp});
    return test::make_cert("CN=device" + std::to_string(serial), *key, pki.ca_cert.get(), pki.ca_key.get(),
                           exts, 365, serial);
}

std::vector<crypto::X509Ptr> our_ca() {
    std::vector<crypto::X509Ptr> cas;
    cas.push_back(crypto::up_ref(*test::shared_test_pki().ca_cert));
    return cas;
}

bool contains_text(const std::optional<std::string>& text, const std::string& part) {
    return text && text->find(part) != std::string::npos;
}

/// Adds an INTEGER-valued CRL extension (cRLNumber, deltaCRLIndicator).
std::function<void(X509_CRL&)> with_number(int nid, long value) {
    return [nid, value](X509_CRL& crl) {
        crypto::Asn1IntegerPtr number(ASN1_INTEGER_new());
        ASN1_INTEGER_set(number.get(), value);
        REQUIRE(X509_CRL_add1_ext_i2d(&crl, nid, number.get(), nid == NID_delta_crl ? 1 : 0, 0) == 1);
    };
}

/// An issuingDistributionPoint saying the CRL lists CA certificates only.
void only_ca_certificates(X509_CRL& crl) {
    crypto::IssuingDistPointPtr idp(ISSUING_DIST_POINT_new());
    idp->onlyCA = 1;
    REQUIRE(X509_CRL_add1_ext_i2d(&crl, NID_issuing_distribution_point, idp.get(), 1, 0) == 1);
}

/// ExpiredCertsOnCRL (2.5.29.60): expired certificates stay listed from `since` on.
std::function<void(X509_CRL&)> keeping_expired_since(std::time_t since) {
    return [since](X509_CRL& crl) {
        crypto::Asn1GeneralizedTimePtr time(ASN1_GENERALIZEDTIME_set(nullptr, since));
        unsigned char* der = nullptr;
        const int length = i2d_ASN1_GENERALIZEDTIME(time.get(), &der);
        REQUIRE(length > 0);
        crypto::Asn1OctetStringPtr value(ASN1_OCTET_STRING_new());
        ASN1_OCTET_STRING_set(value.get(), der, length);
        OPENSSL_free(der);
        crypto::Asn1ObjectPtr oid(OBJ_txt2obj("2.5.29.60", 1));
        crypto::X509ExtensionPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, value.get()));
        REQUIRE(X509_CRL_add_ext(&crl, ext.get(), -1) == 1);
    };
}

}  // namespace

TEST_SUITE("renewal.crl") {
    TEST_CASE("a certificate on its CA's CRL is refused, one not on it passes, and the CRL is cached") {
        const auto& pki = test::shared_test_pki();
        CrlServer server;
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {7}, 24h));
        http::HttpCrlFetcher fetcher;
        FixedClock clock(std::chrono::system_clock::now());
        core::CrlRevocationCheck check(fetcher, our_ca(), clock);
        auto revoked = device_cert(7, server.url());
        auto good = device_cert(8, server.url());
        CHECK(contains_text(check.refusal(*revoked), "has been revoked"));
        CHECK_FALSE(check.refusal(*good));
        CHECK(server.hits() == 1);
        clock.set(clock.now() + 2h);  // past the cache's max age: fetched again
        CHECK_FALSE(check.refusal(*good));
        CHECK(server.hits() == 2);
    }

    TEST_CASE(
        "every doubt refuses: no distribution point, another CA's CRL, a stale CRL, garbage, 404, no "
        "server") {
        const auto& pki = test::shared_test_pki();
        http::HttpCrlFetcher fetcher(2s);
        FixedClock clock(std::chrono::system_clock::now());
        CrlServer server;
        auto cert = device_cert(9, server.url());

        core::CrlRevocationCheck check(fetcher, our_ca(), clock);
        CHECK(contains_text(check.refusal(*device_cert(10, "")), "names no HTTP CRL distribution point"));

        auto other_key = test::make_key();
        auto other_ca = test::make_cert("CN=Other CA", *other_key, nullptr, nullptr,
                                        {{NID_basic_constraints, "critical,CA:TRUE"}});
        server.serve(make_crl(*other_ca, *other_key, {}, 24h));
        CHECK(contains_text(check.refusal(*cert), "is unavailable"));

        // A CRL whose subject is our CA's but whose signature is another key's.
        server.serve(make_crl(*pki.ca_cert, *other_key, {}, 24h));
        CHECK(contains_text(check.refusal(*cert), "not signed by the certificate's issuing CA"));

        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, -10s));
        CHECK(contains_text(check.refusal(*cert), "past its nextUpdate"));

        server.serve(Bytes{'n', 'o', 't'});
        CHECK(contains_text(check.refusal(*cert), "not a CRL"));

        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, 24h), 404);
        CHECK(contains_text(check.refusal(*cert), "answered HTTP 404"));

        auto unreachable = device_cert(11, "http://127.0.0.1:1/ca.crl");
        CHECK(contains_text(check.refusal(*unreachable), "cannot fetch"));

        core::CrlRevocationCheck other(fetcher, our_ca(), clock);
        auto foreign =
            test::make_cert("CN=foreign", *test::pooled_client_key(3), other_ca.get(), other_key.get(),
                            {{NID_crl_distribution_points, "URI:" + server.url()}});
        CHECK(contains_text(other.refusal(*foreign), "was not issued by this CA"));
    }

    TEST_CASE("a CRL server trickling its answer is given up at the call's deadline") {
        httplib::Server slow;
        slow.Get("/ca.crl", [](const httplib::Request&, httplib::Response& response) {
            response.set_chunked_content_provider(
                "application/pkix-crl", [](size_t, httplib::DataSink& sink) {
                    for (int i = 0; i < 120; ++i) {  // a byte every half second: each read meets its timeout
                        if (!sink.write("0", 1)) {
                            return false;
                        }
                        std::this_thread::sleep_for(500ms);
                    }
                    sink.done();
                    return true;
                });
        });
        const int port = slow.bind_to_any_port("127.0.0.1");
        std::thread serving([&] { slow.listen_after_bind(); });
        http::HttpCrlFetcher fetcher(1s);  // 1 s a phase, 3 s in all
        FixedClock clock(std::chrono::system_clock::now());
        core::CrlRevocationCheck check(fetcher, our_ca(), clock);
        const auto refusal =
            check.refusal(*device_cert(13, "http://127.0.0.1:" + std::to_string(port) + "/ca.crl"));
        slow.stop();
        serving.join();
        CAPTURE(refusal.value_or(""));
        CHECK(contains_text(refusal, "took longer than 3 s"));
    }

    TEST_CASE("a failed fetch is remembered for 30 s, so renewals queued behind it do not each wait for it") {
        struct FailingFetcher final : core::CrlFetcher {
            int calls = 0;
            Bytes fetch(const std::string& url) override {
                ++calls;
                throw std::runtime_error("cannot fetch " + url + ": Connection");
            }
        } fetcher;
        FixedClock clock(std::chrono::system_clock::now());
        core::CrlRevocationCheck check(fetcher, our_ca(), clock);
        auto cert = device_cert(14, "http://127.0.0.1:1/ca.crl");
        CHECK(contains_text(check.refusal(*cert), "cannot fetch"));
        CHECK(contains_text(check.refusal(*cert), "tried again after 30 s"));
        CHECK(fetcher.calls == 1);
        clock.advance(31s);
        CHECK(contains_text(check.refusal(*cert), "cannot fetch"));
        CHECK(fetcher.calls == 2);
    }

    TEST_CASE("a CRL larger than the bound is refused without reading it all") {
        CrlServer server;
        server.serve(Bytes(64 * 1024, 0x30));
        http::HttpCrlFetcher small(2s, 4096);
        FixedClock clock(std::chrono::system_clock::now());
        core::CrlRevocationCheck check(small, our_ca(), clock);
        CHECK(contains_text(check.refusal(*device_cert(12, server.url())), "larger than 4096 bytes"));
    }
    TEST_CASE("a delta CRL, or one limited by its issuingDistributionPoint, is not taken for the whole CRL") {
        const auto& pki = test::shared_test_pki();
        CrlServer server;
        http::HttpCrlFetcher fetcher(2s);
        FixedClock clock(std::chrono::system_clock::now());
        auto revoked = device_cert(13, server.url());
        // The CA's delta CRL lists only what changed since its base: not serial 13, revoked earlier.
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, 24h, with_number(NID_delta_crl, 4)));
        core::CrlRevocationCheck delta(fetcher, our_ca(), clock);
        CHECK(contains_text(delta.refusal(*revoked), "is a delta CRL"));
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, 24h, only_ca_certificates));
        core::CrlRevocationCheck scoped(fetcher, our_ca(), clock);
        CHECK(contains_text(scoped.refusal(*revoked), "covers only some certificates"));
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {13}, 24h));
        core::CrlRevocationCheck whole(fetcher, our_ca(), clock);
        CHECK(contains_text(whole.refusal(*revoked), "has been revoked"));
    }

    TEST_CASE("a CRL older than one read from the same address before is refused (a replayed CRL)") {
        const auto& pki = test::shared_test_pki();
        CrlServer server;
        http::HttpCrlFetcher fetcher(2s);
        FixedClock clock(std::chrono::system_clock::now());
        core::CrlRevocationCheck check(fetcher, our_ca(), clock);
        auto cert = device_cert(14, server.url());
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {14}, 24h, with_number(NID_crl_number, 8)));
        CHECK(contains_text(check.refusal(*cert), "has been revoked"));
        // Later, the CA's CRL number 7 (before the revocation, still within its nextUpdate) comes back.
        clock.set(clock.now() + 2h);
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, 24h, with_number(NID_crl_number, 7)));
        CHECK(contains_text(check.refusal(*cert), "older (cRLNumber)"));
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {14}, 24h, with_number(NID_crl_number, 9)));
        CHECK(contains_text(check.refusal(*cert), "has been revoked"));
    }

    TEST_CASE(
        "an expired certificate (a renewal in its grace days) passes only a CRL that keeps expired ones") {
        const auto& pki = test::shared_test_pki();
        CrlServer server;
        http::HttpCrlFetcher fetcher(2s);
        const auto now = std::chrono::system_clock::now();
        FixedClock clock(now + std::chrono::days(400));  // the 365-day certificate expired 35 days ago
        auto expired = device_cert(15, server.url());
        // Revoked, then expired: the CA dropped it from its CRL.
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, std::chrono::days(500)));
        core::CrlRevocationCheck plain(fetcher, our_ca(), clock);
        CHECK(contains_text(plain.refusal(*expired), "does not keep expired certificates"));
        // A CRL that keeps certificates expired since before its notAfter does show it unrevoked.
        server.serve(make_crl(*pki.ca_cert, *pki.ca_key, {}, std::chrono::days(500),
                              keeping_expired_since(std::chrono::system_clock::to_time_t(now))));
        core::CrlRevocationCheck keeping(fetcher, our_ca(), clock);
        CHECK_FALSE(keeping.refusal(*expired));
        // Kept only from after its expiry: it may have been dropped.
        server.serve(make_crl(
            *pki.ca_cert, *pki.ca_key, {}, std::chrono::days(500),
            keeping_expired_since(std::chrono::system_clock::to_time_t(now + std::chrono::days(380)))));
        core::CrlRevocationCheck late(fetcher, our_ca(), clock);
        CHECK(contains_text(late.refusal(*expired), "does not keep expired certificates"));
    }
}
