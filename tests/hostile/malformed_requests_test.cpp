// SPDX-License-Identifier: Apache-2.0
// The malformed-request corpus (issue 9) through the real HTTP server: every
// hostile pkiMessage gets HTTP 400 or a signed CertRep FAILURE with the right
// failInfo, and the server keeps serving (GetCACert works after each one).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <variant>

#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "scep/degenerate.hpp"
#include "support/hostile_messages.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::FailInfo;
using scep::PkiStatus;
namespace hostile = scepra::test::hostile;

namespace {

constexpr const char* oid_signing_time = "1.2.840.113549.1.9.5";
constexpr const char* oid_challenge = "1.2.840.113549.1.9.7";

ServerFixture& server() {
    // signingTime is checked (10 minutes), so that a far-future signingTime reaches the badTime comparison.
    static ServerFixture s([](std::string& conf) {
        conf.replace(conf.find("max_clock_skew_minutes = 0"), 26, "max_clock_skew_minutes = 10");
        conf.replace(conf.find("PasswordMax = 5"), 15, "PasswordMax = 100");
    });
    return s;
}

Device& device() {
    static Device d(3, "hostile-device");
    return d;
}

struct Http400 {};
using Expected = std::variant<Http400, FailInfo>;

/// A PKCSReq (or other type) with a real envelope of message_data to the RA, signed by the device.
hostile::RawMessage request(const Bytes& message_data, const std::string& txid, int type = 19) {
    return {hostile::request_attributes(type, txid),
            hostile::envelope(message_data, {&server().ra_encryption_cert()})};
}

Bytes csr_der(const std::string& challenge) { return crypto::csr_der(*device().csr(challenge)); }

Bytes sign(const hostile::RawMessage& m) {
    return hostile::sign_raw(m, *device().self_signed, *device().key);
}

void check_still_serving() {
    auto res = server().client().Get(server().base_path() + "?operation=GetCACert");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(scep::parse_degenerate(as_bytes(res->body)).size() == 3);
}

/// Checks one reply: HTTP 400, or a CertRep FAILURE signed by the RA with this failInfo.
void check_reply(const Reply& reply, const Expected& expected) {
    if (std::holds_alternative<Http400>(expected)) {
        CHECK(reply.http_status == 400);
        CHECK(reply.body.size() < 300);  // says why, never echoes the request
        return;
    }
    REQUIRE(reply.http_status == 200);
    auto view = scep::read_cert_rep(as_bytes(reply.body), server().ra_signing_cert(), device().recipient());
    CHECK(view.status == PkiStatus::failure);
    CHECK(view.signature_valid);
    CHECK(view.signed_by_expected);
    REQUIRE(view.fail_info);
    CHECK(*view.fail_info == std::get<FailInfo>(expected));
}

void check_refused(const Bytes& message, const Expected& expected, bool get = false) {
    check_reply(send_pki(server(), message, get), expected);
    check_still_serving();
}

std::vector<hostile::Attribute> without(std::vector<hostile::Attribute> attrs, const char* oid) {
    attrs.erase(std::remove_if(attrs.begin(), attrs.end(), [&](const auto& a) { return a.oid == oid; }),
                attrs.end());
    return attrs;
}

}  // namespace

TEST_SUITE("http.malformed") {
    TEST_CASE(
        "an envelopedData without content as the pkcsPKIEnvelope is badMessageCheck, for every message "
        "type") {
        // The 13 bytes 30 0b 06 09 2a 86 48 86 f7 0d 01 07 03 used to crash the server (issue 9).
        for (int type : {19, 17, 20, 21, 22}) {
            CAPTURE(type);
            auto m = request({}, "MALFORMED-ENV-" + std::to_string(type), type);
            m.content = hostile::bare_content_info(NID_pkcs7_enveloped);
            check_refused(sign(m), FailInfo::bad_message_check);
            check_refused(sign(m), FailInfo::bad_message_check, true);  // by GET too
        }
    }

    TEST_CASE("a SignedData without content, or without a signer, is refused") {
        auto m = request({}, "MALFORMED-SD");
        m.content = hostile::bare_content_info(NID_pkcs7_signed);
        check_refused(sign(m), FailInfo::bad_message_check);
        check_refused(hostile::bare_content_info(NID_pkcs7_signed), Http400{});
        check_refused(hostile::bare_content_info(NID_pkcs7_enveloped), Http400{});
        check_refused(scep::make_degenerate({&server().ca_cert()}), Http400{});
        check_refused(scep::make_degenerate({}), Http400{});
    }

    TEST_CASE("an eContentType other than id-data is HTTP 400") {
        auto m = request(csr_der("wrong"), "MALFORMED-ECT");
        m.econtent_type = "1.2.840.113549.1.7.3";
        check_refused(sign(m), Http400{});
    }

    TEST_CASE("a senderNonce of other than 16 octets is HTTP 400") {
        for (size_t size : {0, 8}) {
            CAPTURE(size);
            auto m = request(csr_der("wrong"), "MALFORMED-NONCE");
            m.attributes = hostile::request_attributes(19, "MALFORMED-NONCE", Bytes(size, 0x33));
            check_refused(sign(m), Http400{});
        }
    }

    TEST_CASE("a bad transactionID is HTTP 400 and its text reaches neither the audit trail nor the log") {
        // Just under the 2 MiB body cap, so that it reaches the codec instead of HTTP 413.
        const std::string huge(2 * 1024 * 1024 - 16 * 1024, 'Q');
        const Bytes csr = csr_der("wrong");
        for (const std::string& txid : {std::string(), std::string(129, '7'), huge,
                                        std::string("TX\r\nX-Injected: 1"), std::string("TX\x01\x02")}) {
            CAPTURE(txid.size());
            check_refused(sign(request(csr, txid)), Http400{});
            const std::string detail =
                server().sql("SELECT detail FROM audit_events ORDER BY id DESC LIMIT 1");
            CHECK(detail.find("transactionID") != std::string::npos);
            CHECK(detail.size() < 200);
        }
        CHECK(server().sql("SELECT max(length(detail)) FROM audit_events").size() <
              4);  // under 1000 characters
        CHECK(server().log().find(std::string(200, 'Q')) == std::string::npos);
        CHECK(server().log().find("X-Injected") == std::string::npos);

        auto m = request(csr, "x");
        m.attributes = without(m.attributes, scep::oid::transaction_id);
        m.attributes.push_back({scep::oid::transaction_id, {hostile::octets(Bytes{'T', 'X'})}});
        check_refused(sign(m), Http400{});
    }

    TEST_CASE("a transactionID of 128 PrintableString characters is served") {
        const std::string txid = std::string(99, 'a') + "+/=:.,()?-' 0123456789ABCDEFG";
        REQUIRE(txid.size() == 128);
        check_refused(sign(request(csr_der("wrong"), txid)),
                      FailInfo::bad_request);  // a wrong password, not a bad message
        CHECK(server().sql("SELECT transaction_id FROM audit_events ORDER BY id DESC LIMIT 1") == txid);
    }

    TEST_CASE("a messageType that is not a number, or none, is HTTP 400") {
        const Bytes csr = csr_der("wrong");
        for (const hostile::AttrValue& value : {hostile::printable("PKCSReq"), hostile::printable(""),
                                                hostile::AttrValue{V_ASN1_INTEGER, Bytes{19}}}) {
            auto m = request(csr, "MALFORMED-TYPE");
            m.attributes = without(m.attributes, scep::oid::message_type);
            m.attributes.push_back({scep::oid::message_type, {value}});
            check_refused(sign(m), Http400{});
        }
        auto m = request(csr, "MALFORMED-TYPE");
        m.attributes = without(m.attributes, scep::oid::message_type);
        check_refused(sign(m), Http400{});
    }

    TEST_CASE("duplicate attributes and attributes with zero values are HTTP 400") {
        const Bytes csr = csr_der("wrong");
        for (const char* oid :
             {scep::oid::message_type, scep::oid::transaction_id, scep::oid::sender_nonce}) {
            CAPTURE(oid);
            auto twice = request(csr, "MALFORMED-DUP");
            twice.attributes.push_back(*std::find_if(twice.attributes.begin(), twice.attributes.end(),
                                                     [&](const auto& a) { return a.oid == oid; }));
            check_refused(sign(twice), Http400{});
            auto empty = request(csr, "MALFORMED-EMPTY");
            empty.attributes = without(empty.attributes, oid);
            empty.attributes.push_back({oid, {}});
            check_refused(sign(empty), Http400{});
        }
    }

    TEST_CASE("a signingTime in year 9999 or 1950 is badTime, not an overflow") {
        for (const auto& when : {std::pair{V_ASN1_GENERALIZEDTIME, "99991231235959Z"},
                                 std::pair{V_ASN1_GENERALIZEDTIME, "22630101000000Z"},
                                 std::pair{V_ASN1_UTCTIME, "500101000000Z"}}) {
            // Not a structured binding: CAPTURE's lambda cannot capture one under clang 14.
            const int type = when.first;
            const char* text = when.second;
            CAPTURE(text);
            auto m = request(csr_der("wrong"), "MALFORMED-TIME");
            m.attributes.push_back({oid_signing_time, {{type, Bytes(text, text + std::strlen(text))}}});
            check_refused(sign(m), FailInfo::bad_time);
        }
    }

    TEST_CASE("recipientInfos of other kinds: ours is found among them, and none of ours is badCertId") {
        const Bytes csr = csr_der(server().password());
        auto only_kekri = request(csr, "MALFORMED-KEKRI");
        only_kekri.content = hostile::envelope(csr, {}, true);
        check_refused(sign(only_kekri), FailInfo::bad_cert_id);

        auto beside_ours = request(csr, "KEKRI-BESIDE-OURS");
        beside_ours.content = hostile::envelope(csr, {&server().ra_encryption_cert()}, true);
        Reply reply = send_pki(server(), sign(beside_ours));
        REQUIRE(reply.http_status == 200);
        auto view =
            scep::read_cert_rep(as_bytes(reply.body), server().ra_signing_cert(), device().recipient());
        CHECK(view.status == PkiStatus::success);
        CHECK(view.certs.size() >= 1);
    }

    TEST_CASE("a CSR whose challengePassword has no value, two values or the wrong type is badRequest") {
        auto& key = *device().key;
        // A valid one-time password as the first of two values must not pass either.
        const hostile::AttrValue valid = hostile::printable(server().password());
        for (const std::vector<hostile::AttrValue>& values :
             {std::vector<hostile::AttrValue>{},
              std::vector<hostile::AttrValue>{valid, hostile::printable("b")},
              std::vector<hostile::AttrValue>{{V_ASN1_INTEGER, Bytes{1}}}}) {
            CAPTURE(values.size());
            const Bytes csr = hostile::csr_with_attributes(key, "hostile-device", {{oid_challenge, values}});
            check_refused(sign(request(csr, "MALFORMED-CHALLENGE-" + std::to_string(values.size()))),
                          FailInfo::bad_request);
        }
    }

    TEST_CASE("a CSR without a public key is badRequest; with an unknown key type, badMessageCheck") {
        check_refused(sign(request(hostile::csr_without_public_key(), "MALFORMED-NOKEY")),
                      FailInfo::bad_request);
        check_refused(
            sign(request(hostile::with_unknown_key_algorithm(csr_der("wrong")), "MALFORMED-UNKNOWNKEY")),
            FailInfo::bad_message_check);
    }

    TEST_CASE("every truncation of a real request is HTTP 400") {
        const Bytes full = sign(request(csr_der("wrong"), "MALFORMED-TRUNCATED"));
        for (size_t len = 0; len < full.size(); ++len) {  // bounded: one request per prefix
            CAPTURE(len);
            // An empty body is 400 too ("empty message").
            CHECK(
                send_pki(server(), Bytes(full.begin(), full.begin() + static_cast<long>(len))).http_status ==
                400);
        }
        check_still_serving();
    }

    TEST_CASE("random bit flips of a real request give HTTP 400 or a signed FAILURE") {
        const Bytes full = sign(request(csr_der("wrong"), "MALFORMED-FLIPPED"));
        std::mt19937 rng(9);  // fixed seed: the same flips on every run
        std::uniform_int_distribution<size_t> bit(0, full.size() * 8 - 1);
        int failures = 0;
        for (int round = 0; round < 200; ++round) {
            Bytes flipped = full;
            for (int n = 1 + round % 4; n > 0; --n) {
                const size_t b = bit(rng);
                flipped[b / 8] ^= static_cast<std::uint8_t>(1u << (b % 8));
            }
            const Reply reply = send_pki(server(), flipped);
            if (reply.http_status == 400) {
                continue;
            }
            CAPTURE(round);
            REQUIRE(reply.http_status == 200);
            auto view =
                scep::read_cert_rep(as_bytes(reply.body), server().ra_signing_cert(), device().recipient());
            CHECK(view.status == PkiStatus::failure);
            CHECK(view.signed_by_expected);
            CHECK(view.signature_valid);
            ++failures;
        }
        CHECK(failures > 0);  // some flips only break the signature or the envelope
        check_still_serving();
    }
}
