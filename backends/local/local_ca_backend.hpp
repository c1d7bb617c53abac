// SPDX-License-Identifier: Apache-2.0
// The local CA backend: signs approved CSRs with an on-disk CA key and records them in SQLite.
#pragma once

#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "api/ca_backend.hpp"
#include "common/clock.hpp"
#include "crypto/handles.hpp"
#include "store/database.hpp"

namespace scepra::backend::local {

struct LocalCaConfig {
    std::filesystem::path cert_file;  ///< issuing CA certificate (PEM or DER)
    std::filesystem::path key_file;   ///< its unencrypted PEM private key
    std::filesystem::path chain_file; ///< optional: further CA certs up to the root, PEM
    int validity_days = 365;
    int backdate_seconds = 600;  ///< notBefore = now - this, for clients with lagging clocks
    /// OpenSSL keyUsage names, comma separated; empty = no keyUsage extension.
    /// keyEncipherment/dataEncipherment are dropped for non-RSA keys (RFC 5480, RFC 8410).
    std::string key_usage = "digitalSignature,keyEncipherment";
    /// OpenSSL extendedKeyUsage names or OIDs; empty = no EKU extension.
    std::string extended_key_usage = "clientAuth";
    bool copy_san = true;  ///< copy the CSR's requested subjectAltName
    std::string digest = "SHA256";
};

/// Thread safe: the CA certificate, key and chain are read-only after
/// construction and the Database serialises its own access.
class LocalCaBackend final : public CaBackend {
public:
    /// Loads the CA certificate, key and chain and checks them. Throws
    /// std::runtime_error naming the file when the certificate is not a CA,
    /// lacks a subjectKeyIdentifier or does not match the key, and
    /// std::invalid_argument for bad config values.
    LocalCaBackend(LocalCaConfig config, store::Database& db, const Clock& clock);

    std::string name() const override { return "local"; }
    /// Issues at once or rejects; never pending. Throws BackendUnavailable when
    /// the store fails or the CA cannot sign (expired, key error).
    SubmitResult submit(const SubmitRequest& request) override;
    SubmitResult poll(const std::string& backend_ref) override;
    std::vector<crypto::X509Ptr> ca_chain() const override;

    /// A certificate this CA issued, by issuer DN (RFC 2253, as
    /// crypto::name_string) and serial (hex, as crypto::serial_hex; any case).
    std::optional<crypto::X509Ptr> find_issued(const std::string& issuer_dn, const std::string& serial_hex) const;
    /// The issuer DN recorded for every certificate this CA issues.
    const std::string& issuer_dn() const { return m_issuer_dn; }

private:
    crypto::X509Ptr build_certificate(X509_REQ& csr, EVP_PKEY& public_key, const std::string& key_usage,
                                      X509_EXTENSION* san, std::time_t not_before, std::time_t not_after) const;
    bool store_certificate(X509& cert, const SubmitRequest& request, TimePoint now);

    LocalCaConfig m_config;
    store::Database& m_db;
    const Clock& m_clock;
    crypto::X509Ptr m_ca_cert;
    crypto::EvpPkeyPtr m_ca_key;
    crypto::EvpMdPtr m_digest;  ///< null for EdDSA CA keys
    std::vector<crypto::X509Ptr> m_chain;
    std::string m_issuer_dn;
};

}  // namespace scepra::backend::local
