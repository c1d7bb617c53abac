// SPDX-License-Identifier: Apache-2.0
// The AD CS CA renews its certificate with a new key under the same name
// while `scep-ra serve` runs: the real binary in front of the REAL AD CS
// bridge and the fake CA RPC server, reloaded with `scep-ra reload` (SIGHUP).
// GetCACert serves the new chain; devices holding certificates of the old key
// still renew and get certificates of the new key, also after a restart; a
// certificate of an unrelated key under the same issuer name does not. With
// [renewal] revocation = crl each certificate is checked against the CRL of
// the CA key that signed it (AD CS publishes one per key, CA(1).crl after the
// first re-key): one revoked under the old key is refused after the re-key.
#include <doctest/doctest.h>
#include <openssl/err.h>

#include <filesystem>
#include <string>

#include "remote_ca/adcs_instance.hpp"
#include "remote_ca/remote_instance.hpp"
#include "scep/client.hpp"
#include "unit/adcs/adcs_test_support.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

/// An instance made by `init --backend adcs` in front of bridge, its RA
/// certificates enrolled there by `ra enroll`; devices need no password.
std::string adcs_instance(const TempDir& dir, const BridgeProcess& bridge) {
    const std::string conf = init_adcs_instance(dir, bridge,
                                                {{"ra_signing_template", "SCEPDevice"},
                                                 {"ra_encryption_template", "SCEPDevice"},
                                                 {"SignatureTemplate", "SCEPDevice"},
                                                 {"EncryptionTemplate", "SCEPDevice"},
                                                 {"GeneralPurposeTemplate", "SCEPDevice"},
                                                 {"revocation", "crl"},
                                                 {"EnforcePassword", "0"}});
    std::string out;
    INFO(out);
    REQUIRE(scep_ra(dir, "ra enroll --config " + conf, &out) == 0);
    return conf;
}

/// One PKIOperation to the server, signed by signer/key; the CertRep read.
scep::CertRepView send(const Server& server, scep::MessageType type, const std::string& txid,
                       const Bytes& csr_der, X509& signer, EVP_PKEY& key) {
    auto ca_certs = server.ca_certs();  // RA signing, RA encryption, CA chain
    REQUIRE(ca_certs.size() == 4);
    const Bytes request =
        scep::build_pki_request({type, txid, {}}, csr_der, *ca_certs[1], {"AES-128-CBC", false},
                                {signer, key, "SHA256"}, std::chrono::system_clock::now());
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(60);
    auto res = client.Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                           std::string(reinterpret_cast<const char*>(request.data()), request.size()),
                           "application/x-pki-message");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    auto view = scep::read_cert_rep(as_bytes(res->body), *ca_certs[0], {signer, key});
    CHECK(view.signature_valid);
    return view;
}

/// A device's certificate from a PKCSReq signed by its self-signed certificate.
crypto::X509Ptr enrol(const Server& server, EVP_PKEY& key, const std::string& subject,
                      const std::string& txid) {
    auto self_signed = make_cert(subject, key, nullptr, nullptr, {});
    auto view = send(server, scep::MessageType::pkcs_req, txid, crypto::csr_der(*make_csr(key, subject)),
                     *self_signed, key);
    REQUIRE(view.status == scep::PkiStatus::success);
    REQUIRE(!view.certs.empty());
    return std::move(view.certs[0]);
}

/// A RenewalReq for new_key, signed by the certificate held; the CertRep.
scep::CertRepView renew(const Server& server, X509& held, EVP_PKEY& held_key, const std::string& txid,
                        EVP_PKEY& new_key, const std::string& subject) {
    return send(server, scep::MessageType::renewal_req, txid, crypto::csr_der(*make_csr(new_key, subject)),
                held, held_key);
}

bool signed_by(X509& cert, X509& ca) {
    const bool ok = X509_verify(&cert, X509_get0_pubkey(&ca)) == 1;
    ERR_clear_error();
    return ok;
}

crypto::X509Ptr issuing_ca(const BridgeProcess& bridge) {
    auto chain = crypto::load_certs_file(bridge.file("ca-chain.pem"));
    REQUIRE(chain.size() == 2);
    return std::move(chain[0]);
}

}  // namespace

TEST_CASE(
    "adcs: after the CA re-keys under the same name, reload serves the new chain and certificates of the old "
    "key still renew (also after a restart) unless the old key's CRL lists them; the bridge down at reload "
    "keeps the chain in use") {
    SKIP_WITHOUT_BRIDGE();
    BridgeProcess::Options options;
    options.crl_distribution_point = true;  // one CRL per CA key, at the certificates' distribution point
    BridgeProcess bridge(options);
    TempDir dir;
    const std::string conf = adcs_instance(dir, bridge);
    std::string out;
    const auto old_ca = issuing_ca(bridge);
    auto first_key = pooled_client_key(2), second_key = pooled_client_key(3);
    const std::string first_subject = "CN=rekey-1,O=Test";
    crypto::X509Ptr first, second, revoked;
    auto revoked_key = pooled_client_key(1);  // RSA: the CertRep is encrypted to it
    crypto::X509Ptr forged;
    crypto::X509Ptr new_ca;
    {
        Server server(dir, conf);
        INFO(server.log());
        CHECK(X509_cmp(server.ca_certs()[2].get(), old_ca.get()) == 0);
        first = enrol(server, *first_key, first_subject, "TX-REKEY-1");
        second = enrol(server, *second_key, "CN=rekey-2,O=Test", "TX-REKEY-2");
        revoked = enrol(server, *revoked_key, "CN=rekey-revoked,O=Test", "TX-REKEY-3");
        bridge.control({{"revoke", crypto::serial_hex(*revoked)}});  // on the old key's CRL
        REQUIRE(signed_by(*first, *old_ca));
        // Same issuer name, serial and key as the first, signed by an unrelated key.
        forged.reset(X509_dup(first.get()));
        REQUIRE(X509_sign(forged.get(), pooled_client_key(4).get(), EVP_sha256()) > 0);

        bridge.control({{"rekey", true}});
        new_ca = issuing_ca(bridge);
        REQUIRE(X509_cmp(new_ca.get(), old_ca.get()) != 0);
        REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
        REQUIRE(server.logged("CA chain refreshed from the adcs backend"));
        CHECK(server.logged("re-keyed under the same name"));
        CHECK(X509_cmp(server.ca_certs()[2].get(), new_ca.get()) == 0);

        auto renewed_key = pooled_client_key(5);  // RSA: it signs (and receives) the next renewal
        auto renewed = renew(server, *first, *first_key, "TX-REKEY-RENEW-1", *renewed_key, first_subject);
        REQUIRE(renewed.status == scep::PkiStatus::success);
        REQUIRE(!renewed.certs.empty());
        CHECK(signed_by(*renewed.certs[0], *new_ca));
        CHECK_FALSE(signed_by(*renewed.certs[0], *old_ca));
        // A certificate the new key issued after the reload renews too.
        auto again = renew(server, *renewed.certs[0], *renewed_key, "TX-REKEY-RENEW-NEW", *make_key(0, true),
                           first_subject);
        CHECK(again.status == scep::PkiStatus::success);
        auto refused =
            renew(server, *forged, *first_key, "TX-REKEY-FORGED", *make_key(0, true), first_subject);
        CHECK(refused.status == scep::PkiStatus::failure);
        REQUIRE(refused.fail_info);
        CHECK(*refused.fail_info == scep::FailInfo::bad_cert_id);
        // Revoked under the old key: the old key's CRL (not the new key's, which does not list it) says so.
        auto revoked_renewal = renew(server, *revoked, *revoked_key, "TX-REKEY-REVOKED", *make_key(0, true),
                                     "CN=rekey-revoked,O=Test");
        CHECK(revoked_renewal.status == scep::PkiStatus::failure);
        CHECK(contains(revoked_renewal.fail_info_text.value_or(""), "has been revoked"));

        bridge.control({{"bridge_down", true}});
        REQUIRE(scep_ra(dir, "reload --config " + conf, &out) == 0);
        CHECK(server.logged("CA chain not refreshed, the chain in use is kept"));
        CHECK(X509_cmp(server.ca_certs()[2].get(), new_ca.get()) == 0);
        bridge.control({{"bridge_up", true}});
    }
    const std::string database = dir.file("instance/scep-ra.db");
    CHECK(std::filesystem::exists(database + ".replaced-cas.pem"));
    // The audit trail says which CA certificate was kept.
    REQUIRE(scep_ra(dir, "audit --config " + conf, &out) == 0);
    CHECK(contains(out, "CA re-key"));
    CHECK(contains(out, crypto::serial_hex(*old_ca)));

    Server restarted(dir, conf);
    INFO(restarted.log());
    auto after_restart =
        renew(restarted, *second, *second_key, "TX-REKEY-RENEW-2", *make_key(0, true), "CN=rekey-2,O=Test");
    REQUIRE(after_restart.status == scep::PkiStatus::success);
    CHECK(signed_by(*after_restart.certs[0], *new_ca));
}
