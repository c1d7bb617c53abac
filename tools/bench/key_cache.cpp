// SPDX-License-Identifier: Apache-2.0
// Reads and writes the identity cache as a PEM bundle: key, certificate, key, certificate, ...
#include "bench/key_cache.hpp"

#include <openssl/err.h>

#include <stdexcept>
#include <string>

#include "crypto/encoding.hpp"

namespace scepra::bench {

namespace {

bool matches(EVP_PKEY& key, const crypto::KeySpec& spec) {
    if (spec.type == crypto::KeySpec::Type::rsa) {
        return EVP_PKEY_get_base_id(&key) == EVP_PKEY_RSA && EVP_PKEY_get_bits(&key) == spec.rsa_bits;
    }
    return EVP_PKEY_get_base_id(&key) == EVP_PKEY_EC;
}

}  // namespace

std::vector<Identity> load_identities(const std::filesystem::path& file, const crypto::KeySpec& spec) {
    std::vector<Identity> out;
    if (!std::filesystem::exists(file)) return out;
    const std::string text = crypto::read_file(file);
    const std::string begin = "-----BEGIN ";
    const std::string end_marker = "-----END ";
    // The PEM blocks in order; they alternate key, certificate.
    std::vector<std::string> blocks;
    for (size_t pos = text.find(begin); pos != std::string::npos; pos = text.find(begin, pos)) {
        size_t end = text.find(end_marker, pos);
        size_t eol = end == std::string::npos ? std::string::npos : text.find('\n', end);
        if (eol == std::string::npos)
            throw std::runtime_error("cache " + file.string() + ": truncated PEM block");
        blocks.push_back(text.substr(pos, eol + 1 - pos));
        pos = eol + 1;
    }
    if (blocks.size() % 2 != 0)
        throw std::runtime_error("cache " + file.string() + ": key without its certificate");
    for (size_t i = 0; i < blocks.size(); i += 2) {
        Identity id;
        try {
            id.key = crypto::key_from_pem(blocks[i]);
            id.cert = std::move(crypto::certs_from_pem(blocks[i + 1]).front());
        } catch (const std::exception& e) {
            throw std::runtime_error("cache " + file.string() + ": entry " + std::to_string(i / 2 + 1) +
                                     ": " + e.what());
        }
        if (X509_check_private_key(id.cert.get(), id.key.get()) != 1) {
            ERR_clear_error();
            throw std::runtime_error("cache " + file.string() + ": certificate does not match its key");
        }
        if (matches(*id.key, spec)) out.push_back(std::move(id));
    }
    return out;
}

void save_identities(const std::filesystem::path& file, const std::vector<Identity>& identities) {
    std::string text;
    for (const auto& id : identities) {
        text += crypto::key_pem(*id.key);
        text += crypto::cert_pem(*id.cert);
    }
    crypto::write_file(file, text, 0600, true);
}

}  // namespace scepra::bench
