// SPDX-License-Identifier: Apache-2.0
// The DER-only path for issued certificates: the hand-built degenerate
// SignedData must be byte-identical to OpenSSL's, and the walkers must read
// back exactly what was written and refuse what is not DER.
#include <doctest/doctest.h>
#include <openssl/pkcs7.h>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "scep/degenerate.hpp"
#include "scep/types.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::scep;

TEST_SUITE("degenerate SignedData from DER") {
    TEST_CASE("make_degenerate_der encodes exactly as i2d_PKCS7") {
        const auto& pki = test::shared_test_pki();
        const Bytes sign = crypto::cert_der(*pki.ra_sign_cert);
        const Bytes enc = crypto::cert_der(*pki.ra_enc_cert);
        const Bytes ca = crypto::cert_der(*pki.ca_cert);
        CHECK(make_degenerate_der({ca}) == make_degenerate({pki.ca_cert.get()}));
        CHECK(make_degenerate_der({sign, ca}) ==
              make_degenerate({pki.ra_sign_cert.get(), pki.ca_cert.get()}));
        CHECK(make_degenerate_der({sign, enc, ca}) ==
              make_degenerate({pki.ra_sign_cert.get(), pki.ra_enc_cert.get(), pki.ca_cert.get()}));
        CHECK(make_degenerate_der({}) == make_degenerate({}));
    }

    TEST_CASE("the encapsulated content is omitted, as RFC 8894 section 3.4 requires") {
        const auto& pki = test::shared_test_pki();
        for (const Bytes& der : {make_degenerate({pki.ca_cert.get()}), make_degenerate({}),
                                 make_degenerate_der({crypto::cert_der(*pki.ca_cert)})}) {
            const unsigned char* p = der.data();
            crypto::Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
            REQUIRE(p7 != nullptr);
            REQUIRE(PKCS7_type_is_signed(p7.get()));
            CHECK(OBJ_obj2nid(p7->d.sign->contents->type) == NID_pkcs7_data);
            CHECK(p7->d.sign->contents->d.ptr == nullptr);
        }
    }

    TEST_CASE("degenerate_cert_ders returns each certificate, in order, byte for byte") {
        const auto& pki = test::shared_test_pki();
        const Bytes sign = crypto::cert_der(*pki.ra_sign_cert);
        const Bytes enc = crypto::cert_der(*pki.ra_enc_cert);
        const Bytes ca = crypto::cert_der(*pki.ca_cert);
        auto certs = degenerate_cert_ders(
            make_degenerate({pki.ra_enc_cert.get(), pki.ca_cert.get(), pki.ra_sign_cert.get()}));
        REQUIRE(certs.size() == 3);
        CHECK(certs[0] == enc);
        CHECK(certs[1] == ca);
        CHECK(certs[2] == sign);
        CHECK(degenerate_cert_ders(make_degenerate({})).empty());
        // What OpenSSL parses from the hand-built form is what went in.
        auto parsed = parse_degenerate(make_degenerate_der({enc, sign}));
        REQUIRE(parsed.size() == 2);
        CHECK(X509_cmp(parsed[0].get(), pki.ra_enc_cert.get()) == 0);
        CHECK(X509_cmp(parsed[1].get(), pki.ra_sign_cert.get()) == 0);
    }

    TEST_CASE("malformed input is a DecodeError, never a crash") {
        const auto& pki = test::shared_test_pki();
        const Bytes good = make_degenerate({pki.ca_cert.get()});
        SUBCASE("empty") { CHECK_THROWS_AS(degenerate_cert_ders({}), DecodeError); }
        SUBCASE("random") { CHECK_THROWS_AS(degenerate_cert_ders(crypto::random_bytes(200)), DecodeError); }
        SUBCASE("every truncation") {
            for (size_t n = 0; n < good.size(); n += 7) {
                CHECK_THROWS_AS(degenerate_cert_ders(ByteView(good).first(n)), DecodeError);
            }
        }
        SUBCASE("another content type") {
            Bytes other = good;
            // The OID's last octet: pkcs7-signedData (2) becomes pkcs7-envelopedData (3).
            REQUIRE(other[14] == 0x02);
            other[14] = 0x03;
            CHECK_THROWS_AS(degenerate_cert_ders(other), DecodeError);
        }
        SUBCASE("BER indefinite length") {
            Bytes ber = good;
            ber[1] = 0x80;
            CHECK_THROWS_AS(degenerate_cert_ders(ber), DecodeError);
        }
        SUBCASE("a certificate that is not a SEQUENCE") {
            const Bytes not_cert{0x04, 0x01, 0x00};
            CHECK_THROWS_AS(make_degenerate_der({not_cert}), DecodeError);
            const Bytes trailing_garbage = [&] {
                Bytes b = crypto::cert_der(*pki.ca_cert);
                b.push_back(0);
                return b;
            }();
            CHECK_THROWS_AS(make_degenerate_der({trailing_garbage}), DecodeError);
        }
    }

    TEST_CASE("serial_hex_of_der reads the serial that X509 parsing reads") {
        const auto& pki = test::shared_test_pki();
        for (X509* cert : {pki.ca_cert.get(), pki.ra_sign_cert.get(), pki.ra_enc_cert.get()}) {
            CHECK(crypto::serial_hex_of_der(crypto::cert_der(*cert)) == crypto::serial_hex(*cert));
        }
        CHECK_THROWS(crypto::serial_hex_of_der(Bytes{0x30, 0x00}));
        CHECK_THROWS(crypto::serial_hex_of_der(crypto::random_bytes(64)));
    }

    TEST_CASE("DER lengths in short and long form round-trip") {
        for (size_t size : {0UL, 1UL, 127UL, 128UL, 255UL, 256UL, 65535UL, 65536UL, 300000UL}) {
            Bytes content(size, 0x5a);
            Bytes encoded = crypto::der::tlv(crypto::der::tag_sequence, content);
            crypto::der::Reader reader(encoded);
            auto element = reader.next();
            REQUIRE(element);
            CHECK(element->tag == crypto::der::tag_sequence);
            CHECK(element->content.size() == size);
            CHECK(element->whole.size() == encoded.size());
            CHECK(reader.at_end());
            CHECK_FALSE(reader.failed());
        }
        // A length that runs past the end.
        const Bytes short_by_one{0x30, 0x03, 0x01, 0x02};
        crypto::der::Reader reader(short_by_one);
        CHECK_FALSE(reader.next());
        CHECK(reader.failed());
    }
}
