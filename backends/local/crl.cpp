// SPDX-License-Identifier: Apache-2.0
// CRL reasons and the full v2 CRL the local CA signs.
#include "local/crl.hpp"

#include <openssl/x509v3.h>

#include <array>
#include <charconv>
#include <memory>
#include <utility>

#include "api/ca_backend.hpp"
#include "crypto/openssl_error.hpp"
#include "local/profile.hpp"

namespace scepra::backend::local {

namespace {

using crypto::check;

using AsnEnumeratedPtr = std::unique_ptr<ASN1_ENUMERATED, crypto::CDeleter<&ASN1_ENUMERATED_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, crypto::CDeleter<&X509_REVOKED_free>>;
using AuthorityKeyIdPtr = std::unique_ptr<AUTHORITY_KEYID, crypto::CDeleter<&AUTHORITY_KEYID_free>>;

crypto::Asn1TimePtr asn1_time(TimePoint t) {
    crypto::Asn1TimePtr out(ASN1_TIME_set(nullptr, static_cast<std::time_t>(unix_seconds(t))));
    check(out != nullptr, "ASN1_TIME_set");
    return out;
}

}  // namespace

std::optional<std::string> crl_reason_name(int code) {
    const auto name = backend::crl_reason_name(code);
    return name ? std::optional<std::string>(*name) : std::nullopt;
}

std::optional<int> crl_reason_code(std::string_view name) { return backend::crl_reason_code(name); }

crypto::X509CrlPtr build_crl(X509& ca_cert, EVP_PKEY& ca_key, const EVP_MD* digest,
                             const std::vector<RevokedEntry>& entries, TimePoint this_update,
                             TimePoint next_update, std::int64_t crl_number) {
    crypto::X509CrlPtr crl(X509_CRL_new());
    check(crl != nullptr, "X509_CRL_new");
    check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1, "X509_CRL_set_version");
    check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(&ca_cert)) == 1,
          "X509_CRL_set_issuer_name");
    check(X509_CRL_set1_lastUpdate(crl.get(), asn1_time(this_update).get()) == 1, "X509_CRL_set1_lastUpdate");
    check(X509_CRL_set1_nextUpdate(crl.get(), asn1_time(next_update).get()) == 1, "X509_CRL_set1_nextUpdate");

    for (const auto& entry : entries) {
        RevokedPtr revoked(X509_REVOKED_new());
        check(revoked != nullptr, "X509_REVOKED_new");
        BIGNUM* raw = nullptr;
        check(BN_hex2bn(&raw, entry.serial_hex.c_str()) > 0, "BN_hex2bn");
        crypto::BignumPtr bn(raw);
        crypto::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
        check(serial != nullptr, "BN_to_ASN1_INTEGER");
        check(X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) == 1,
              "X509_REVOKED_set_serialNumber");
        check(X509_REVOKED_set_revocationDate(revoked.get(), asn1_time(entry.revoked_at).get()) == 1,
              "X509_REVOKED_set_revocationDate");
        if (entry.reason_code != crl_reason_unspecified) {
            AsnEnumeratedPtr reason(ASN1_ENUMERATED_new());
            check(reason != nullptr && ASN1_ENUMERATED_set(reason.get(), entry.reason_code) == 1,
                  "ASN1_ENUMERATED_set");
            check(X509_REVOKED_add1_ext_i2d(revoked.get(), NID_crl_reason, reason.get(), 0, 0) == 1,
                  "X509_REVOKED_add1_ext_i2d reasonCode");
        }
        check(X509_CRL_add0_revoked(crl.get(), revoked.get()) == 1, "X509_CRL_add0_revoked");
        revoked.release();  // owned by the CRL now
    }

    // Built by hand rather than from "keyid:always" text: the CRL has no
    // subject certificate for the X509V3_CTX, and only the CA's SKI is wanted.
    const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(&ca_cert);
    check(ski != nullptr, "CA certificate without subjectKeyIdentifier");
    AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
    check(akid != nullptr, "AUTHORITY_KEYID_new");
    akid->keyid = ASN1_OCTET_STRING_dup(ski);
    check(akid->keyid != nullptr, "ASN1_OCTET_STRING_dup");
    check(X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0, 0) == 1,
          "X509_CRL_add1_ext_i2d authorityKeyIdentifier");
    crypto::Asn1IntegerPtr number(ASN1_INTEGER_new());
    check(number != nullptr && ASN1_INTEGER_set_int64(number.get(), crl_number) == 1,
          "ASN1_INTEGER_set_int64");
    check(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) == 1,
          "X509_CRL_add1_ext_i2d cRLNumber");

    check(X509_CRL_sort(crl.get()) == 1, "X509_CRL_sort");
    check(X509_CRL_sign(crl.get(), &ca_key, digest) > 0, "X509_CRL_sign");
    return crl;
}

}  // namespace scepra::backend::local
