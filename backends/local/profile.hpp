// SPDX-License-Identifier: Apache-2.0
// Named certificate profiles of the local CA, the equivalent of NDES certificate templates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/handles.hpp"

namespace scepra::backend::local {

/// What the local CA puts into a certificate issued under one template name
/// (SubmitRequest::template_name), and which requests it accepts.
struct CertificateProfile {
    std::string name;  ///< template name; matched case-insensitively, like Windows template names
    int validity_days = 365;
    /// OpenSSL keyUsage names, comma separated; empty = no keyUsage extension.
    /// keyEncipherment/dataEncipherment are dropped for non-RSA keys (RFC 5480, RFC 8410).
    std::string key_usage;
    /// OpenSSL extendedKeyUsage names or OIDs; empty = no EKU extension.
    std::string extended_key_usage;
    bool copy_san = true;  ///< copy the CSR's subjectAltName (the only extension ever copied)
    int min_rsa_bits = 2048;
    /// "RSA" (also matches RSA-PSS), "RSA-PSS", "EC", "ED25519", "ED448", any case; empty = RSA and EC.
    /// RSA keys need min_rsa_bits, EC keys one of P-256, P-384, P-521 whatever is listed; DSA is never
    /// allowed.
    std::vector<std::string> allowed_key_types = {"RSA", "EC"};
    /// Requests wait in the store until a CA officer approves or denies them.
    bool manual_approval = false;
};

/// Throws std::invalid_argument naming the profile and the setting when a
/// value is unusable (empty name, non-positive validity or RSA size, a keyUsage
/// or EKU OpenSSL does not parse, an unknown key type).
void check_profile(const CertificateProfile& profile);

/// Why the profile refuses this public key (type not allowed, RSA too short or
/// with a bad exponent, an EC curve other than P-256, P-384, P-521 or explicit
/// curve parameters), or nothing when it accepts it. The text is safe to show the client.
std::optional<std::string> key_rejection(const CertificateProfile& profile, EVP_PKEY& key);

/// Why a certificate signature digest name is unacceptable (unknown, or weaker
/// than SHA-224: MD5, SHA-1, ...), for a config error; nothing when it is fine.
std::optional<std::string> digest_refusal(const std::string& name);

/// True for RSA and RSA-PSS keys, the only ones that may encipher.
bool is_rsa(EVP_PKEY& key);

/// The profile's keyUsage for this subject key: RFC 5480 (EC) and RFC 8410
/// (EdDSA) forbid keyEncipherment and dataEncipherment for keys that cannot
/// encrypt, so those are only kept for RSA.
std::string key_usage_for(const std::string& configured, EVP_PKEY& key);

/// Case-insensitive ASCII comparison, for template names and key types.
bool iequals(const std::string& a, const std::string& b);

}  // namespace scepra::backend::local
