// SPDX-License-Identifier: Apache-2.0
// PEM/DER conversion and key/certificate files. Every function throws
// OpensslError (or std::runtime_error for file problems) on failure.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

/// DER of any OpenSSL object with a const i2d function, encoded into memory
/// this side owns (two passes: length, then bytes).
template <class T, class I2d>
Bytes der_of(const T& obj, I2d i2d);

Bytes cert_der(const X509& cert);
X509Ptr cert_from_der(ByteView der);
/// One DER certificate and nothing after it, as a remote CA's answer must
/// hold; throws OpensslError otherwise.
X509Ptr cert_from_exact_der(ByteView der);
/// Whether cert names issuer as its issuer and issuer's key verifies its signature.
bool signed_by(X509& issuer, X509& cert);
std::string cert_pem(const X509& cert);
/// All certificates in a PEM text (in order); throws if there is none.
std::vector<X509Ptr> certs_from_pem(std::string_view pem);

Bytes csr_der(const X509_REQ& csr);
/// DER of a CMS ContentInfo (SignedData, EnvelopedData).
Bytes cms_der(const CMS_ContentInfo& cms);
X509ReqPtr csr_from_der(ByteView der);

std::string key_pem(EVP_PKEY& key);
EvpPkeyPtr key_from_pem(std::string_view pem);

/// Reads a certificate file, PEM or DER.
X509Ptr load_cert_file(const std::filesystem::path& file);
/// Reads every certificate of a PEM bundle.
std::vector<X509Ptr> load_certs_file(const std::filesystem::path& file);
/// Reads an unencrypted PEM private key.
EvpPkeyPtr load_key_file(const std::filesystem::path& file);

/// Writes a PEM private key with mode 0600. Refuses to replace an existing file
/// unless overwrite is set.
void save_key_file(const std::filesystem::path& file, EVP_PKEY& key, bool overwrite = false);
/// Writes a PEM certificate (mode 0644).
void save_cert_file(const std::filesystem::path& file, const X509& cert, bool overwrite = false);
/// Writes text to a file with the given mode, atomically (temp file + rename).
void write_file(const std::filesystem::path& file, std::string_view content, unsigned mode, bool overwrite);
std::string read_file(const std::filesystem::path& file);

/// DER of a SubjectPublicKeyInfo, for comparing keys without decoding them.
Bytes spki_der(const X509_PUBKEY& key);
/// SHA-256 of a SubjectPublicKeyInfo's DER.
Bytes spki_hash(const X509_PUBKEY& key);
/// The text of an ASN.1 string as UTF-8, or nullopt when it cannot be converted.
std::optional<std::string> utf8_text(const ASN1_STRING& s);

/// RFC 2253 form, e.g. "CN=router1,O=Example".
std::string name_string(const X509_NAME& name);
/// The certificate serial as uppercase hex without leading zeros stripped beyond one byte.
std::string serial_hex(const X509& cert);
std::string serial_hex(const ASN1_INTEGER& serial);
/// The serial of a DER certificate, read without parsing the certificate (crypto/der.hpp).
std::string serial_hex_of_der(ByteView cert_der);

template <class T, class I2d>
Bytes der_of(const T& obj, I2d i2d) {
    const int len = i2d(&obj, nullptr);
    check(len > 0, "i2d");
    Bytes out(static_cast<size_t>(len));
    unsigned char* p = out.data();
    check(i2d(&obj, &p) == len, "i2d");
    return out;
}

}  // namespace scepra::crypto
