// SPDX-License-Identifier: Apache-2.0
// The PKCS#10 inside a PKCSReq/RenewalReq (RFC 8894 §3.3.1), decoded once:
// policy code reads it through these accessors, never through OpenSSL.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/alt_names.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// The subject public key as policy and logs describe it.
struct PublicKeyInfo {
    std::string type;   ///< OpenSSL's name: "RSA", "RSA-PSS", "EC", "ED25519", ...; empty when unreadable
    int bits = 0;       ///< modulus or curve size; 0 when unknown
    std::string curve;  ///< EC only: the group name ("prime256v1"); empty otherwise
};

/// One attribute of the CertificationRequestInfo: its OID (dotted) and how
/// many values its SET holds.
struct RequestAttribute {
    std::string oid;
    int values = 0;
};

/// An immutable, cheaply copyable decoded request (copies share the decoding).
class Csr {
  public:
    /// Parses a DER PKCS#10. Throws ScepFailure(badRequest) when it is not one.
    static Csr parse(ByteView der);

    /// The request exactly as the client sent it.
    const Bytes& der() const;
    /// RFC 2253.
    const std::string& subject() const;
    /// Every commonName of the subject as UTF-8, in order; nullopt for one
    /// that cannot be converted.
    const std::vector<std::optional<std::string>>& common_names() const;
    /// Every PKCS#9 emailAddress of the subject, as common_names() gives CNs.
    const std::vector<std::optional<std::string>>& subject_emails() const;
    /// PKCS#9 challengePassword, as UTF-8.
    const std::optional<std::string>& challenge_password() const;
    /// The self-signature verifies with the request's key (proof of possession).
    bool signature_valid() const;
    /// The subjectAltName of the extensionRequest (error set when undecodable).
    const crypto::AltNames& alt_names() const;
    /// Every attribute, in order (challengePassword and extensionRequest among them).
    const std::vector<RequestAttribute>& attributes() const;
    /// The OID (dotted) of each extension OpenSSL reads from the request (the first
    /// extensionRequest, else the first Microsoft msExtReq), in order.
    const std::vector<std::string>& extension_oids() const;
    /// The keyUsage bits of the extensionRequest as KU_* flags, or nullopt without a keyUsage.
    std::optional<unsigned> requested_key_usage() const;
    const PublicKeyInfo& key_info() const;
    /// The subject key, or null when it cannot be decoded.
    EVP_PKEY* public_key() const;
    /// SHA-256 of the SubjectPublicKeyInfo (crypto::spki_hash).
    const Bytes& key_hash() const;
    /// SHA-256 of the CertificationRequestInfo: what the signature covers, so
    /// the same request signed again hashes the same.
    const Bytes& request_info_hash() const;
    /// The subject is the same name as cert's subject (X509_NAME_cmp).
    bool has_subject_of(const X509& cert) const;
    /// The request's key is cert's key.
    bool has_key_of(const X509& cert) const;

    /// The decoded OpenSSL request, for code that hands it on (a backend
    /// signing it). Read-only by contract; valid as long as any copy lives.
    X509_REQ& req() const;

  private:
    struct Decoded;
    explicit Csr(std::shared_ptr<const Decoded> decoded);
    std::shared_ptr<const Decoded> m_decoded;
};

/// Csr::parse.
Csr parse_csr(ByteView der);

}  // namespace scepra::scep
