// SPDX-License-Identifier: Apache-2.0
// What the parts of LocalCaBackend (one .cpp per job) share: not part of the backend's interface.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "local/local_ca_backend.hpp"

namespace scepra::backend::local {

/// A request that passed every check of its profile, ready to sign.
struct LocalCaBackend::Prepared {
    crypto::X509ReqPtr owned;                 ///< set when prepare() parsed the request itself
    X509_REQ* csr = nullptr;                  ///< the request: owned, or the caller's verified one
    EVP_PKEY* public_key = nullptr;           ///< owned by csr
    crypto::X509ExtensionStackPtr requested;  ///< the request's extensions, as decoded
    crypto::GeneralNamesPtr san;              ///< the names to certify, decoded; null for none
    std::string key_usage;                    ///< the profile's, fitted to the key type
    std::string subject;
    std::string rejection;  ///< when not empty: refuse the request with this reason
};

namespace detail {

/// What a sealed CSR of the approval queue is bound to (crypto::CsrSeal).
std::string sealed_row(std::int64_t id);

SubmitResult rejected(std::string reason);

/// The serial as crypto::serial_hex spells it (uppercase, whole bytes), from
/// hex in any case with an optional 0x prefix and colons; nothing if not hex.
std::optional<std::string> canonical_serial(const std::string& text);

}  // namespace detail

}  // namespace scepra::backend::local
