// SPDX-License-Identifier: Apache-2.0
// The codec on hostile input: every malformed pkiMessage, envelope, CSR and
// IssuerAndSerialNumber gives a DecodeError or a ScepFailure with the right
// failInfo, never a crash, and no error text carries the client's data.
#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <random>

#include "crypto/encoding.hpp"
#include "scep/csr.hpp"
#include "scep/degenerate.hpp"
#include "scep/envelope.hpp"
#include "scep/message_data.hpp"
#include "scep/signed_message.hpp"
#include "support/hostile_messages.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::scep;
namespace hostile = scepra::test::hostile;

namespace {

constexpr const char* oid_signing_time = "1.2.840.113549.1.9.5";
constexpr const char* oid_challenge = "1.2.840.113549.1.9.7";
constexpr const char* oid_unstructured_name = "1.2.840.113549.1.9.2";

/// A CSR with two challengePassword attributes: X509_REQ_add1_attr refuses
/// that, so the second starts as unstructuredName, whose OID differs in its last octet.
Bytes csr_with_two_challenges(EVP_PKEY& key) {
    const hostile::AttrValue secret = hostile::printable("S3CRET");
    Bytes der = hostile::csr_with_attributes(key, "d",
                                             {{oid_challenge, {secret}}, {oid_unstructured_name, {secret}}});
    const Bytes unstructured{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02};
    auto at = std::search(der.begin(), der.end(), unstructured.begin(), unstructured.end());
    REQUIRE(at != der.end());
    *(at + 10) = 0x07;
    return der;
}

struct Hostile {
    const test::TestPki& pki = test::shared_test_pki();
    crypto::EvpPkeyPtr key = test::pooled_client_key(0);
    crypto::X509Ptr cert = test::make_cert("CN=device-h,O=Example", *key, nullptr, nullptr,
                                           {{NID_subject_key_identifier, "hash"}});
    Bytes csr_der = crypto::csr_der(*test::make_csr(*key, "CN=device-h,O=Example", "S3CRET"));

    Bytes envelope() { return hostile::envelope(csr_der, {pki.ra_enc_cert.get()}); }
    hostile::RawMessage request(const std::string& txid = "TX-HOSTILE") {
        return {hostile::request_attributes(19, txid), envelope()};
    }
    Bytes sign(const hostile::RawMessage& m) { return hostile::sign_raw(m, *cert, *key); }
    std::vector<Recipient> ra() { return {{*pki.ra_enc_cert, *pki.ra_enc_key}}; }
};

/// The DecodeError text of parsing der; fails the test when it parses.
std::string decode_error(const Bytes& der) {
    try {
        parse_signed_message(der);
    } catch (const DecodeError& e) {
        return e.what();
    }
    FAIL("parsed a malformed pkiMessage");
    return {};
}

FailInfo envelope_failure(ByteView der, const std::vector<Recipient>& recipients) {
    try {
        open_envelope(der, recipients, {});
    } catch (const ScepFailure& e) {
        return e.info();
    }
    FAIL("opened a malformed envelope");
    return FailInfo::bad_request;
}

FailInfo csr_failure(ByteView der) {
    try {
        parse_csr(der);
    } catch (const ScepFailure& e) {
        return e.info();
    }
    FAIL("parsed a malformed CSR");
    return FailInfo::bad_alg;
}

hostile::Attribute replace(std::vector<hostile::Attribute>& attrs, const char* oid) {
    auto it = std::find_if(attrs.begin(), attrs.end(), [&](const auto& a) { return a.oid == oid; });
    REQUIRE(it != attrs.end());
    hostile::Attribute old = *it;
    attrs.erase(it);
    return old;
}

}  // namespace

TEST_SUITE("scep.hostile") {
    TEST_CASE_FIXTURE(Hostile, "a well-formed raw request parses (the builders make real messages)") {
        SignedMessage msg = parse_signed_message(sign(request()));
        CHECK(msg.signature_valid);
        CHECK(msg.attrs.transaction_id == "TX-HOSTILE");
        CHECK(open_envelope(msg.content, ra(), {}).content == csr_der);
    }

    TEST_CASE_FIXTURE(Hostile,
                      "an envelopedData ContentInfo without content is badMessageCheck, not a crash") {
        const Bytes bare = hostile::bare_content_info(NID_pkcs7_enveloped);
        CHECK(bare == Bytes{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03});
        CHECK(envelope_failure(bare, ra()) == FailInfo::bad_message_check);
        auto m = request();
        m.content = bare;
        SignedMessage msg = parse_signed_message(sign(m));
        CHECK(msg.signature_valid);
        CHECK(envelope_failure(msg.content, ra()) == FailInfo::bad_message_check);
        CHECK_THROWS_AS(parse_signed_message(bare), DecodeError);
    }

    TEST_CASE("a signedData ContentInfo without content is a DecodeError everywhere") {
        const Bytes bare = hostile::bare_content_info(NID_pkcs7_signed);
        CHECK_THROWS_AS(parse_degenerate(bare), DecodeError);
        CHECK_THROWS_AS(parse_degenerate_crls(bare), DecodeError);
        CHECK_THROWS_AS(degenerate_cert_ders(bare), DecodeError);
        CHECK_THROWS_AS(parse_signed_message(bare), DecodeError);
        CHECK(envelope_failure(bare, {{*test::shared_test_pki().ra_enc_cert,
                                       *test::shared_test_pki().ra_enc_key}}) == FailInfo::bad_message_check);
    }

    TEST_CASE_FIXTURE(Hostile, "the eContentType must be id-data") {
        auto m = request();
        m.econtent_type = "1.2.840.113549.1.7.3";  // envelopedData, as some clients wrongly put it
        CHECK(decode_error(sign(m)).find("eContentType") != std::string::npos);
    }

    TEST_CASE_FIXTURE(Hostile, "the senderNonce must be 16 octets") {
        for (size_t size : {0, 1, 8, 15, 17, 64}) {
            CAPTURE(size);
            auto m = request();
            m.attributes = hostile::request_attributes(19, "TX-N", Bytes(size, 1));
            CHECK(decode_error(sign(m)).find("senderNonce") != std::string::npos);
        }
    }

    TEST_CASE_FIXTURE(
        Hostile,
        "a transactionID outside 1..128 PrintableString characters is a DecodeError without its text") {
        const std::string huge(2 * 1024 * 1024, 'A');
        for (const std::string& txid : {std::string(), std::string(129, '7'), huge, std::string("TX\n1"),
                                        std::string("TX\x01"), std::string("TX_1"), std::string("TX\0001", 4),
                                        std::string("caf\xc3\xa9"), std::string(200, '\x7f')}) {
            CAPTURE(txid.size());
            const std::string why = decode_error(sign(request(txid)));
            CHECK(why.find("transactionID") != std::string::npos);
            CHECK(why.size() < 100);
            if (!txid.empty()) {
                CHECK(why.find(txid.substr(0, 4)) == std::string::npos);
            }
        }
    }

    TEST_CASE_FIXTURE(Hostile, "transactionIDs real clients send are accepted") {
        // certmonger and sscep: hex; micromdm scepclient: standard base64 of the key hash.
        for (const std::string& txid :
             {std::string("3A9F04C1D2E3F4051627384950A1B2C3D4E5F607"),
              std::string("q3Xz+9/yT0ab1cdEfGh2iJk3LmA="), std::string(128, 'f'), std::string("1"),
              std::string("host-01 (renewal) 2024/05/01 12:00:00, x=y?")}) {
            CAPTURE(txid);
            CHECK(parse_signed_message(sign(request(txid))).attrs.transaction_id == txid);
        }
        // Other string types with PrintableString characters.
        for (int type : {V_ASN1_UTF8STRING, V_ASN1_IA5STRING}) {
            auto m = request();
            replace(m.attributes, scep::oid::transaction_id);
            m.attributes.push_back({scep::oid::transaction_id, {{type, Bytes{'a', 'b', 'c'}}}});
            CHECK(parse_signed_message(sign(m)).attrs.transaction_id == "abc");
        }
    }

    TEST_CASE_FIXTURE(Hostile, "a transactionID that is not a string is a DecodeError") {
        for (int type : {V_ASN1_OCTET_STRING, V_ASN1_INTEGER, V_ASN1_BMPSTRING}) {
            CAPTURE(type);
            auto m = request();
            replace(m.attributes, scep::oid::transaction_id);
            m.attributes.push_back({scep::oid::transaction_id, {{type, Bytes{0x41, 0x00, 0x42, 0x00}}}});
            CHECK_THROWS_AS(parse_signed_message(sign(m)), DecodeError);
        }
    }

    TEST_CASE_FIXTURE(Hostile, "a messageType that is not a number, or absent, is a DecodeError") {
        for (const std::string& type : {std::string("abc"), std::string(""), std::string("-19"),
                                        std::string("19 "), std::string(1024 * 1024, '9')}) {
            auto m = request();
            replace(m.attributes, scep::oid::message_type);
            m.attributes.push_back({scep::oid::message_type, {hostile::printable(type)}});
            const std::string why = decode_error(sign(m));
            CHECK(why.size() < 100);
        }
        auto integer = request();
        replace(integer.attributes, scep::oid::message_type);
        integer.attributes.push_back({scep::oid::message_type, {{V_ASN1_INTEGER, Bytes{19}}}});
        CHECK_THROWS_AS(parse_signed_message(sign(integer)), DecodeError);
        auto absent = request();
        replace(absent.attributes, scep::oid::message_type);
        CHECK_THROWS_AS(parse_signed_message(sign(absent)), DecodeError);
    }

    TEST_CASE_FIXTURE(Hostile,
                      "duplicate attributes and attributes with zero or two values are DecodeErrors") {
        // (OpenSSL refuses to sign a duplicate signingTime, and CMS_verify to accept one.)
        for (const char* oid :
             {scep::oid::message_type, scep::oid::transaction_id, scep::oid::sender_nonce}) {
            CAPTURE(oid);
            auto base = request();
            const hostile::Attribute original = *std::find_if(base.attributes.begin(), base.attributes.end(),
                                                              [&](const auto& a) { return a.oid == oid; });
            SUBCASE("twice") {
                auto m = base;
                m.attributes.push_back(original);
                CHECK(decode_error(sign(m)).find("twice") != std::string::npos);
            }
            SUBCASE("no value") {
                auto m = base;
                replace(m.attributes, oid);
                m.attributes.push_back({oid, {}});
                CHECK(decode_error(sign(m)).find("one value") != std::string::npos);
            }
            SUBCASE("two values") {
                auto m = base;
                replace(m.attributes, oid);
                m.attributes.push_back({oid, {original.values[0], original.values[0]}});
                CHECK(decode_error(sign(m)).find("one value") != std::string::npos);
            }
        }
    }

    TEST_CASE_FIXTURE(Hostile, "a signingTime in any year 1950..9999 is read without overflow") {
        auto with_time = [&](int type, const std::string& text) {
            auto m = request();
            m.attributes.push_back({oid_signing_time, {{type, Bytes(text.begin(), text.end())}}});
            return parse_signed_message(sign(m)).signing_time;
        };
        auto y1950 = with_time(V_ASN1_UTCTIME, "500101000000Z");
        REQUIRE(y1950);
        CHECK(unix_seconds(*y1950) == -631152000);
        for (const char* late : {"22620412000000Z", "22630101000000Z", "99991231235959Z"}) {
            CAPTURE(late);
            auto t = with_time(V_ASN1_GENERALIZEDTIME, late);
            REQUIRE(t);
            CHECK(unix_seconds(*t) == 7258118400);  // 2200-01-01, the clamp
            CHECK(std::chrono::abs(std::chrono::system_clock::now() - *t) > std::chrono::hours(24));
        }
        CHECK_FALSE(with_time(V_ASN1_GENERALIZEDTIME, "99991399999999Z"));
    }

    TEST_CASE_FIXTURE(Hostile, "a signer identified by subjectKeyIdentifier is found and verified") {
        auto m = request();
        m.signer_by_key_id = true;
        SignedMessage msg = parse_signed_message(sign(m));
        CHECK(msg.signature_valid);
        CHECK(X509_cmp(msg.signer_cert.get(), cert.get()) == 0);
    }

    TEST_CASE_FIXTURE(Hostile, "recipientInfos of other kinds are skipped; ours is still found") {
        auto ec_key = test::make_key(0, true);
        auto ec_cert = test::make_cert("CN=ec-peer", *ec_key, nullptr, nullptr, {});
        SUBCASE("kekri beside ours") {
            CHECK(
                open_envelope(hostile::envelope(csr_der, {pki.ra_enc_cert.get()}, true), ra(), {}).content ==
                csr_der);
        }
        SUBCASE("kari beside ours") {
            CHECK(open_envelope(hostile::envelope(csr_der, {ec_cert.get(), pki.ra_enc_cert.get()}), ra(), {})
                      .content == csr_der);
        }
        SUBCASE("only kekri") {
            CHECK(envelope_failure(hostile::envelope(csr_der, {}, true), ra()) == FailInfo::bad_cert_id);
        }
        SUBCASE("only kari") {
            CHECK(envelope_failure(hostile::envelope(csr_der, {ec_cert.get()}), ra()) ==
                  FailInfo::bad_cert_id);
        }
    }

    TEST_CASE_FIXTURE(Hostile, "every truncation of an envelope is badMessageCheck") {
        const Bytes env = envelope();
        for (size_t len = 0; len < env.size(); ++len) {
            CAPTURE(len);
            CHECK(envelope_failure(ByteView(env).first(len), ra()) == FailInfo::bad_message_check);
        }
    }

    TEST_CASE_FIXTURE(Hostile, "every truncation of a pkiMessage is a DecodeError") {
        const Bytes der = sign(request());
        for (size_t len = 0; len < der.size(); ++len) {
            CAPTURE(len);
            CHECK_THROWS_AS(parse_signed_message(Bytes(der.begin(), der.begin() + static_cast<long>(len))),
                            DecodeError);
        }
    }

    TEST_CASE_FIXTURE(Hostile,
                      "random bit flips give DecodeError, ScepFailure or a parsed message, never a crash") {
        const Bytes der = sign(request());
        std::mt19937 rng(20240509);  // fixed seed: the same flips on every run
        std::uniform_int_distribution<size_t> position(0, der.size() * 8 - 1);
        int decoded = 0;
        for (int round = 0; round < 400; ++round) {
            Bytes flipped = der;
            for (int flips = 1 + round % 3; flips > 0; --flips) {
                const size_t bit = position(rng);
                flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            }
            try {
                SignedMessage msg = parse_signed_message(flipped);
                ++decoded;
                CHECK(msg.attrs.transaction_id.size() <= max_transaction_id_length);
                CHECK(msg.attrs.sender_nonce.size() == nonce_length);
                parse_csr(open_envelope(msg.content, ra(), {}).content);
            } catch (const DecodeError&) {
            } catch (const ScepFailure&) {
            }
        }
        CHECK(decoded > 0);  // some flips land where they only break the signature
    }

    TEST_CASE_FIXTURE(Hostile, "a challengePassword that is not one string of at most 16 KiB is badRequest") {
        const hostile::AttrValue secret = hostile::printable("S3CRET");
        SUBCASE("empty SET") {
            CHECK(csr_failure(hostile::csr_with_attributes(*key, "d", {{oid_challenge, {}}})) ==
                  FailInfo::bad_request);
        }
        SUBCASE("two values") {
            CHECK(csr_failure(hostile::csr_with_attributes(
                      *key, "d", {{oid_challenge, {secret, hostile::printable("other")}}})) ==
                  FailInfo::bad_request);
        }
        SUBCASE("the attribute twice") {
            CHECK(csr_failure(csr_with_two_challenges(*key)) == FailInfo::bad_request);
        }
        SUBCASE("not a string") {
            CHECK(csr_failure(hostile::csr_with_attributes(
                      *key, "d", {{oid_challenge, {{V_ASN1_INTEGER, Bytes{7}}}}})) == FailInfo::bad_request);
            CHECK(csr_failure(hostile::csr_with_attributes(
                      *key, "d", {{oid_challenge, {hostile::octets(Bytes{'x'})}}})) == FailInfo::bad_request);
        }
        SUBCASE("16385 bytes") {
            CHECK(csr_failure(hostile::csr_with_attributes(
                      *key, "d", {{oid_challenge, {hostile::printable(std::string(16385, 'p'))}}})) ==
                  FailInfo::bad_request);
        }
        SUBCASE("16384 bytes (an Intune challenge is several KB) is fine; the validator sets its own limit") {
            Csr csr = parse_csr(hostile::csr_with_attributes(
                *key, "d", {{oid_challenge, {hostile::printable(std::string(16384, 'p'))}}}));
            CHECK(csr.challenge_password() == std::string(16384, 'p'));
            CHECK(csr.signature_valid());
        }
        SUBCASE("no attribute at all is no password") {
            Csr csr = parse_csr(hostile::csr_with_attributes(*key, "d", {}));
            CHECK_FALSE(csr.challenge_password());
        }
    }

    TEST_CASE_FIXTURE(Hostile,
                      "a CSR without a public key, or with a key nobody knows, is refused without a crash") {
        CHECK(csr_failure(hostile::csr_without_public_key()) == FailInfo::bad_request);
        Csr unknown = parse_csr(hostile::with_unknown_key_algorithm(csr_der));
        CHECK_FALSE(unknown.signature_valid());
        for (size_t len = 0; len < csr_der.size(); ++len) {
            CAPTURE(len);
            CHECK(csr_failure(ByteView(csr_der).first(len)) == FailInfo::bad_request);
        }
    }

    TEST_CASE_FIXTURE(Hostile, "a malformed IssuerAndSerialNumber is badRequest") {
        const Bytes good = issuer_and_serial_der(*pki.ca_cert);
        CHECK(parse_issuer_and_serial(good).serial_hex == crypto::serial_hex(*pki.ca_cert));
        for (size_t len = 0; len < good.size(); ++len) {
            CAPTURE(len);
            CHECK_THROWS_AS(parse_issuer_and_serial(ByteView(good).first(len)), ScepFailure);
        }
        // A 65-octet serial number.
        crypto::X509Ptr big = test::make_cert("CN=big", *key, nullptr, nullptr, {});
        Bytes serial(65, 0x11);
        crypto::BignumPtr bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
        crypto::Asn1IntegerPtr value(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        X509_set_serialNumber(big.get(), value.get());
        CHECK_THROWS_AS(parse_issuer_and_serial(issuer_and_serial_der(*big)), ScepFailure);
        CHECK_THROWS_AS(parse_issuer_and_serial(hostile::bare_content_info(NID_pkcs7_signed)), ScepFailure);
    }
}
