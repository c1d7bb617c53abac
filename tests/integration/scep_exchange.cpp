// SPDX-License-Identifier: Apache-2.0
#include "integration/scep_exchange.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "crypto/encoding.hpp"
#include "store/request_store.hpp"

namespace scepra::test {

using scep::FailInfo;
using scep::MessageType;
using scep::PkiStatus;

Identity self_signed(Device& device) { return {*device.self_signed, *device.key}; }

scep::CertRepView send_scep(ServerFixture& server, MessageType type, const std::string& txid,
                            const Bytes& message_data, Identity as) {
    Bytes req =
        scep::build_pki_request({type, txid, {}}, message_data, server.ra_encryption_cert(),
                                {"AES-128-CBC", false}, {as.cert, as.key, "SHA256"}, server.clock().now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), {as.cert, as.key});
    CHECK(view.signature_valid);
    CHECK(view.transaction_id == txid);
    return view;
}

scep::CertRepView pkcs_req(ServerFixture& server, Device& device, const X509_REQ& csr,
                           const std::string& txid) {
    return send_scep(server, MessageType::pkcs_req, txid, crypto::csr_der(csr), self_signed(device));
}

scep::CertRepView cert_poll(ServerFixture& server, Device& device, X509& issuer, const std::string& txid) {
    auto csr = device.csr("");
    Bytes data =
        scep::issuer_and_subject_der(*X509_get_subject_name(&issuer), *X509_REQ_get_subject_name(csr.get()));
    return send_scep(server, MessageType::cert_poll, txid, data, self_signed(device));
}

Bytes pkcs_req_message(ServerFixture& server, Device& device, const std::string& challenge,
                       const std::string& txid) {
    auto csr = device.csr(challenge);
    return scep::build_pki_request({MessageType::pkcs_req, txid, {}}, crypto::csr_der(*csr),
                                   server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                   std::chrono::system_clock::now());
}

void check_failure(const scep::CertRepView& view, FailInfo info, const std::string& text_part) {
    CHECK(view.status == PkiStatus::failure);
    REQUIRE(view.fail_info);
    CHECK(*view.fail_info == info);
    CHECK(view.certs.empty());
    const std::string text = view.fail_info_text.value_or("");
    CAPTURE(text);
    CHECK(text.find(text_part) != std::string::npos);
}

void check_refused(const scep::CertRepView& view, const std::string& text_part) {
    CHECK(view.status == PkiStatus::failure);
    CHECK(view.fail_info == FailInfo::bad_request);
    CHECK(view.certs.empty());
    const std::string text = view.fail_info_text.value_or("");
    CAPTURE(text);
    CHECK(text.find(text_part) != std::string::npos);
}

void check_pending(const scep::CertRepView& view) {
    CHECK(view.status == PkiStatus::pending);
    CHECK(!view.fail_info);
    CHECK(view.certs.empty());
}

std::string ca_caps(ServerFixture& server) {
    auto res = server.client().Get(server.base_path() + "?operation=GetCACaps");
    REQUIRE(res);
    return res->body;
}

std::int64_t only_pending_request(ServerFixture& server) {
    auto held = server.instance().requests().list_awaiting_approval(10);
    REQUIRE(held.size() == 1);
    return held.front().id;
}

void many_passwords(std::string& conf) { set_key(conf, "PasswordMax", "100"); }

void manual_approval(std::string& conf) {
    for (const char* t : {"SignatureTemplate", "EncryptionTemplate", "GeneralPurposeTemplate"}) {
        set_key(conf, t, "Manual");
    }
    conf += "\n[profile.Manual]\nmanual_approval = 1\n";
}

}  // namespace scepra::test
