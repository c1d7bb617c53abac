// SPDX-License-Identifier: Apache-2.0
// Key generation from a textual spec such as "rsa:2048" or "ec:P-256".
#pragma once

#include <string>

#include "crypto/handles.hpp"

namespace scepra::crypto {

struct KeySpec {
    enum class Type { rsa, ec } type = Type::rsa;
    int rsa_bits = 2048;
    std::string curve = "P-256";

    /// Parses "rsa:2048", "rsa:3072", "rsa:4096", "ec:P-256", "ec:P-384".
    /// Throws std::invalid_argument naming the bad value.
    static KeySpec parse(const std::string& text);
    std::string to_string() const;
};

EvpPkeyPtr generate_key(const KeySpec& spec);

}  // namespace scepra::crypto
