// SPDX-License-Identifier: Apache-2.0
// Reading the PKCS#10 a client sent: subject, challengePassword, self-signature.
#include "scep/csr.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "crypto/encoding.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

namespace {
/// PKCS#9 caps a challengePassword at 255 characters (ub-challenge-password),
/// but Intune's challenges are signed, encrypted blobs of several KB: the
/// parser takes up to 16 KiB and each validator sets its own limit.
constexpr std::size_t max_challenge_bytes = 16 * 1024;

std::optional<std::string> challenge_of(X509_REQ* req) {
    int pos = X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, -1);
    if (pos < 0) {
        return std::nullopt;
    }
    if (X509_REQ_get_attr_by_NID(req, NID_pkcs9_challengePassword, pos) >= 0) {
        throw ScepFailure(FailInfo::bad_request, "the challengePassword attribute occurs more than once");
    }
    // PKCS#9: SINGLE VALUE. An empty SET or two values is not a password.
    X509_ATTRIBUTE* attr = X509_REQ_get_attr(req, pos);
    if (attr == nullptr || X509_ATTRIBUTE_count(attr) != 1) {
        throw ScepFailure(FailInfo::bad_request, "the challengePassword attribute must have exactly one value");
    }
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
    if (value == nullptr) {
        throw ScepFailure(FailInfo::bad_request, "the challengePassword cannot be read");
    }
    switch (value->type) {
        case V_ASN1_PRINTABLESTRING:
        case V_ASN1_UTF8STRING:
        case V_ASN1_IA5STRING:
        case V_ASN1_T61STRING:
        case V_ASN1_BMPSTRING:
        case V_ASN1_UNIVERSALSTRING: {
            unsigned char* utf8 = nullptr;
            int len = ASN1_STRING_to_UTF8(&utf8, value->value.asn1_string);
            if (len < 0) {
                ERR_clear_error();
                throw ScepFailure(FailInfo::bad_request, "the challengePassword cannot be read");
            }
            std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
            OPENSSL_free(utf8);
            if (out.size() > max_challenge_bytes) {
                throw ScepFailure(FailInfo::bad_request, "the challengePassword is longer than 16384 bytes");
            }
            return out;
        }
        default:
            throw ScepFailure(FailInfo::bad_request, "the challengePassword is not a string");
    }
}
}  // namespace

Csr parse_csr(ByteView der) {
    Csr csr;
    try {
        csr.req = crypto::csr_from_der(der);
    } catch (const std::exception&) {
        ERR_clear_error();
        throw ScepFailure(FailInfo::bad_request, "the messageData is not a PKCS#10 certificate request");
    }
    csr.der.assign(der.begin(), der.end());
    csr.subject = crypto::name_string(*X509_REQ_get_subject_name(csr.req.get()));
    csr.challenge_password = challenge_of(csr.req.get());
    EVP_PKEY* key = X509_REQ_get0_pubkey(csr.req.get());
    csr.signature_valid = key != nullptr && X509_REQ_verify(csr.req.get(), key) == 1;
    ERR_clear_error();
    return csr;
}

}  // namespace scepra::scep
