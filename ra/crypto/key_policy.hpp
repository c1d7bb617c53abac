// SPDX-License-Identifier: Apache-2.0
// Which subject keys a certificate template accepts: the RA checks this
// before the challenge ([profile.NAME], core::TemplatePolicy), and the local
// CA checks it again when it signs.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <vector>

namespace scepra::crypto {

struct KeyPolicy {
    int min_rsa_bits = 2048;
    /// "RSA" (also matches RSA-PSS), "RSA-PSS", "EC", "ED25519", "ED448", any
    /// case; empty = RSA and EC. RSA keys need min_rsa_bits and an odd
    /// exponent >= 3, EC keys a named P-256, P-384 or P-521 curve whatever is
    /// listed; DSA is never allowed.
    std::vector<std::string> allowed_key_types;
};

/// Why the policy refuses this public key, or nothing when it accepts it.
/// `label` names the template in the text ("certificate template 'X'"); the
/// text is safe to show the client.
std::optional<std::string> key_policy_refusal(const KeyPolicy& policy, EVP_PKEY& key,
                                              const std::string& label);

/// True for RSA and RSA-PSS keys, the only ones that may encipher.
bool is_rsa_key(EVP_PKEY& key);

/// Whether allowed_key_types may name this type (any case).
bool known_key_type(const std::string& type);

}  // namespace scepra::crypto
