// SPDX-License-Identifier: Apache-2.0
// IssuerAndSerialNumber and IssuerAndSubject encodings.
#include "scep/message_data.hpp"

#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

namespace {
constexpr int max_serial_octets = 64;

using crypto::IssuerAndSerialPtr;

Bytes name_der(const X509_NAME& name) { return crypto::der_of(name, i2d_X509_NAME); }

/// DER length octets.
void put_length(Bytes& out, size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
        return;
    }
    Bytes digits;
    for (size_t l = len; l > 0; l >>= 8) {
        digits.insert(digits.begin(), static_cast<std::uint8_t>(l & 0xff));
    }
    out.push_back(static_cast<std::uint8_t>(0x80 | digits.size()));
    out.insert(out.end(), digits.begin(), digits.end());
}
}  // namespace

IssuerAndSerial parse_issuer_and_serial(ByteView der) {
    const unsigned char* p = der.data();
    IssuerAndSerialPtr ias(d2i_PKCS7_ISSUER_AND_SERIAL(nullptr, &p, static_cast<long>(der.size())));
    if (!ias || ias->issuer == nullptr || ias->serial == nullptr) {
        ERR_clear_error();
        throw ScepFailure(FailInfo::bad_request, "the messageData is not an IssuerAndSerialNumber");
    }
    // RFC 5280 §4.1.2.2: at most 20 octets; leave room for non-conforming CAs, not for megabytes.
    if (ASN1_STRING_length(ias->serial) > max_serial_octets) {
        throw ScepFailure(FailInfo::bad_request, "the serial number is longer than " +
                                                     std::to_string(max_serial_octets) + " octets");
    }
    return {crypto::name_string(*ias->issuer), crypto::serial_hex(*ias->serial)};
}

Bytes issuer_and_serial_der(const X509& cert) {
    IssuerAndSerialPtr ias(PKCS7_ISSUER_AND_SERIAL_new());
    crypto::check(ias != nullptr, "PKCS7_ISSUER_AND_SERIAL_new");
    crypto::check(X509_NAME_set(&ias->issuer, X509_get_issuer_name(&cert)) == 1, "X509_NAME_set");
    crypto::check(ASN1_STRING_copy(ias->serial, X509_get0_serialNumber(&cert)) == 1, "ASN1_STRING_copy");
    return crypto::der_of(*ias, i2d_PKCS7_ISSUER_AND_SERIAL);
}

Bytes issuer_and_subject_der(const X509_NAME& issuer, const X509_NAME& subject) {
    Bytes body = name_der(issuer);
    Bytes s = name_der(subject);
    body.insert(body.end(), s.begin(), s.end());
    Bytes out{0x30};
    put_length(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

}  // namespace scepra::scep
