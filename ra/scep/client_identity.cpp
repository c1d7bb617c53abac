// SPDX-License-Identifier: Apache-2.0
// Mints client keys, self-signed signer certificates and CSRs with plain OpenSSL calls.
#include "scep/client_identity.hpp"

#include "crypto/openssl_error.hpp"

namespace scepra::scep {

using crypto::check;

namespace {

const EVP_MD* digest_by_name(const std::string& digest) {
    const EVP_MD* md = EVP_get_digestbyname(digest.c_str());
    check(md != nullptr, "unknown digest");
    return md;
}

}  // namespace

crypto::X509NamePtr client_name(const std::string& common_name, const std::string& organization) {
    crypto::X509NamePtr name(X509_NAME_new());
    check(name != nullptr, "X509_NAME_new");
    auto add = [&](const char* field, const std::string& value) {
        check(
            X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) == 1,
            "X509_NAME_add_entry_by_txt");
    };
    add("CN", common_name);
    if (!organization.empty()) add("O", organization);
    return name;
}

ClientIdentity make_client_identity(const crypto::KeySpec& spec, const X509_NAME& subject) {
    ClientIdentity id;
    id.key = crypto::generate_key(spec);
    id.cert.reset(X509_new());
    check(id.cert != nullptr, "X509_new");
    X509* cert = id.cert.get();
    check(X509_set_version(cert, X509_VERSION_3) == 1, "X509_set_version");
    crypto::BignumPtr serial(BN_new());
    check(serial && BN_rand(serial.get(), 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "BN_rand");
    check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr, "BN_to_ASN1_INTEGER");
    check(X509_set_subject_name(cert, &subject) == 1 && X509_set_issuer_name(cert, &subject) == 1,
          "X509 names");
    check(X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != nullptr, "notBefore");
    check(X509_gmtime_adj(X509_getm_notAfter(cert), 3650L * 86400) != nullptr, "notAfter");
    check(X509_set_pubkey(cert, id.key.get()) == 1, "X509_set_pubkey");
    check(X509_sign(cert, id.key.get(), EVP_sha256()) > 0, "X509_sign");
    return id;
}

crypto::X509ReqPtr make_client_csr(EVP_PKEY& key, const X509_NAME& subject, const std::string& challenge,
                                   const std::string& digest) {
    crypto::X509ReqPtr req(X509_REQ_new());
    check(req != nullptr, "X509_REQ_new");
    check(X509_REQ_set_version(req.get(), 0) == 1, "X509_REQ_set_version");
    check(X509_REQ_set_subject_name(req.get(), &subject) == 1, "X509_REQ_set_subject_name");
    check(X509_REQ_set_pubkey(req.get(), &key) == 1, "X509_REQ_set_pubkey");
    if (!challenge.empty()) {
        check(X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(challenge.c_str()), -1) == 1,
              "challengePassword");
    }
    check(X509_REQ_sign(req.get(), &key, digest_by_name(digest)) > 0, "X509_REQ_sign");
    return req;
}

}  // namespace scepra::scep
