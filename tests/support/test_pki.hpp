// SPDX-License-Identifier: Apache-2.0
// Throwaway keys, certificates and CSRs for tests, minted in-process with
// plain OpenSSL calls (independent of the code under test).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "crypto/handles.hpp"

namespace scepra::test {

/// A fresh RSA key (bits) or, with ec = true, a P-256 key.
crypto::EvpPkeyPtr make_key(int bits = 2048, bool ec = false);

/// X.509v3 extension given as OpenSSL config text, e.g. {NID_key_usage, "critical,digitalSignature"}.
using Ext = std::pair<int, std::string>;

/// Certificate for key with subject (e.g. "CN=x,O=y"), signed by issuer (or
/// self-signed when issuer_cert is null), valid from now-1h for days.
crypto::X509Ptr make_cert(const std::string& subject, EVP_PKEY& key, X509* issuer_cert, EVP_PKEY* issuer_key,
                          const std::vector<Ext>& exts, int days = 365, long serial = 1);

/// PKCS#10 request signed with key; challenge and extensions are optional.
crypto::X509ReqPtr make_csr(EVP_PKEY& key, const std::string& subject, const std::string& challenge = "",
                            const std::vector<Ext>& exts = {});

/// A CA with separate RA signing and RA encryption certificates, NDES style.
struct TestPki {
    crypto::EvpPkeyPtr ca_key;
    crypto::X509Ptr ca_cert;
    crypto::EvpPkeyPtr ra_sign_key;
    crypto::X509Ptr ra_sign_cert;
    crypto::EvpPkeyPtr ra_enc_key;
    crypto::X509Ptr ra_enc_cert;
};

/// Builds a new TestPki (RSA-2048 everywhere).
TestPki make_test_pki();
/// One TestPki shared by the whole test process (key generation is slow).
const TestPki& shared_test_pki();
/// A pool of pre-generated RSA-2048 client keys: returns a new handle to key i % pool size.
crypto::EvpPkeyPtr pooled_client_key(size_t i);

/// Writes a file in a fresh temporary directory that removes itself.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

  private:
    std::string m_path;
};

}  // namespace scepra::test
