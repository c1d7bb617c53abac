// SPDX-License-Identifier: Apache-2.0
// Helpers the parts of LocalCaBackend share.
#include "local/local_ca_internal.hpp"

#include <cctype>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::backend::local::detail {

using crypto::check;

std::string sealed_row(std::int64_t id) { return "local_ca_requests.csr_der:" + std::to_string(id); }

SubmitResult rejected(std::string reason) {
    SubmitResult result;
    result.disposition = Disposition::rejected;
    result.reason = std::move(reason);
    return result;
}

std::optional<std::string> canonical_serial(const std::string& text) {
    std::string hex;
    size_t start = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 2 : 0;
    for (size_t i = start; i < text.size(); ++i) {
        if (text[i] == ':') {
            continue;
        }
        if (!std::isxdigit(static_cast<unsigned char>(text[i]))) {
            return std::nullopt;
        }
        hex.push_back(text[i]);
    }
    if (hex.empty() || hex.size() > 64) {
        return std::nullopt;
    }
    BIGNUM* raw = nullptr;
    check(BN_hex2bn(&raw, hex.c_str()) > 0, "BN_hex2bn");
    crypto::BignumPtr bn(raw);
    crypto::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    check(serial != nullptr, "BN_to_ASN1_INTEGER");
    return crypto::serial_hex(*serial);
}

}  // namespace scepra::backend::local::detail
