// SPDX-License-Identifier: Apache-2.0
#include "support/test_pki.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace scepra::test {

using namespace scepra::crypto;

namespace {
void require(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

X509NamePtr parse_name(const std::string& subject) {
    X509NamePtr name(X509_NAME_new());
    size_t pos = 0;
    while (pos < subject.size()) {
        size_t comma = subject.find(',', pos);
        std::string part = subject.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        size_t eq = part.find('=');
        require(eq != std::string::npos, "bad subject");
        require(X509_NAME_add_entry_by_txt(name.get(), part.substr(0, eq).c_str(), MBSTRING_UTF8,
                                           reinterpret_cast<const unsigned char*>(part.c_str() + eq + 1), -1,
                                           -1, 0) == 1,
                "X509_NAME_add_entry_by_txt");
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    return name;
}
}  // namespace

EvpPkeyPtr make_key(int bits, bool ec) {
    EVP_PKEY* key = ec ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
    require(key != nullptr, "keygen");
    return EvpPkeyPtr(key);
}

X509Ptr make_cert(const std::string& subject, EVP_PKEY& key, X509* issuer_cert, EVP_PKEY* issuer_key,
                  const std::vector<Ext>& exts, int days, long serial) {
    X509Ptr cert(X509_new());
    require(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    auto name = parse_name(subject);
    X509_set_subject_name(cert.get(), name.get());
    X509_set_issuer_name(cert.get(), issuer_cert ? X509_get_subject_name(issuer_cert) : name.get());
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days);
    X509_set_pubkey(cert.get(), &key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const auto& [nid, value] : exts) {
        X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
        require(ext != nullptr, "X509V3_EXT_conf_nid");
        X509_add_ext(cert.get(), ext.get(), -1);
    }
    require(X509_sign(cert.get(), issuer_key ? issuer_key : &key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

X509ReqPtr make_csr(EVP_PKEY& key, const std::string& subject, const std::string& challenge,
                    const std::vector<Ext>& exts) {
    X509ReqPtr req(X509_REQ_new());
    X509_REQ_set_version(req.get(), 0);
    auto name = parse_name(subject);
    X509_REQ_set_subject_name(req.get(), name.get());
    X509_REQ_set_pubkey(req.get(), &key);
    if (!challenge.empty()) {
        // OpenSSL's string table caps MBSTRING challenges at PKCS#9's 255
        // characters; longer ones (Intune's) go in as a UTF8String directly.
        const int type = challenge.size() <= 255 ? MBSTRING_UTF8 : V_ASN1_UTF8STRING;
        require(X509_REQ_add1_attr_by_NID(req.get(), NID_pkcs9_challengePassword, type,
                                          reinterpret_cast<const unsigned char*>(challenge.c_str()),
                                          static_cast<int>(challenge.size())) == 1,
                "challengePassword");
    }
    if (!exts.empty()) {
        X509ExtensionStackPtr stack(sk_X509_EXTENSION_new_null());
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
        for (const auto& [nid, value] : exts) {
            X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
            require(ext != nullptr, "X509V3_EXT_conf_nid");
            sk_X509_EXTENSION_push(stack.get(), ext);
        }
        X509_REQ_add_extensions(req.get(), stack.get());
    }
    require(X509_REQ_sign(req.get(), &key, EVP_sha256()) > 0, "X509_REQ_sign");
    return req;
}

namespace {
/// An RSA-2048 key of the build folder's test-keys/ (tests/CMakeLists.txt makes them once per build
/// folder with `openssl genpkey`: ctest runs every test case in a process of its own, and nine fresh
/// keys in each were most of a short case's time) or, without that folder (the fuzz support library,
/// a test binary run from elsewhere), a fresh one.
EvpPkeyPtr prepared_key(const std::string& name) {
#ifdef SCEPRA_TEST_KEYS_DIR
    const std::string path = std::string(SCEPRA_TEST_KEYS_DIR) + "/" + name + ".pem";
    if (BioPtr file{BIO_new_file(path.c_str(), "r")}) {
        EvpPkeyPtr key{PEM_read_bio_PrivateKey(file.get(), nullptr, nullptr, nullptr)};
        require(key != nullptr && EVP_PKEY_get_bits(key.get()) == 2048, "unreadable prepared test key");
        return key;
    }
#else
    (void)name;
#endif
    return make_key();
}

TestPki make_test_pki_with(EvpPkeyPtr ca_key, EvpPkeyPtr ra_sign_key, EvpPkeyPtr ra_enc_key) {
    TestPki pki;
    pki.ca_key = std::move(ca_key);
    pki.ca_cert = make_cert("CN=Test Root CA,O=scep-ra tests", *pki.ca_key, nullptr, nullptr,
                            {{NID_basic_constraints, "critical,CA:TRUE"},
                             {NID_key_usage, "critical,keyCertSign,cRLSign"},
                             {NID_subject_key_identifier, "hash"}},
                            3650, 1);
    pki.ra_sign_key = std::move(ra_sign_key);
    pki.ra_sign_cert =
        make_cert("CN=Test RA Signing,O=scep-ra tests", *pki.ra_sign_key, pki.ca_cert.get(), pki.ca_key.get(),
                  {{NID_basic_constraints, "critical,CA:FALSE"},
                   {NID_key_usage, "critical,digitalSignature"},
                   {NID_subject_key_identifier, "hash"},
                   {NID_authority_key_identifier, "keyid:always"}},
                  365, 2);
    pki.ra_enc_key = std::move(ra_enc_key);
    pki.ra_enc_cert = make_cert("CN=Test RA Encryption,O=scep-ra tests", *pki.ra_enc_key, pki.ca_cert.get(),
                                pki.ca_key.get(),
                                {{NID_basic_constraints, "critical,CA:FALSE"},
                                 {NID_key_usage, "critical,keyEncipherment"},
                                 {NID_subject_key_identifier, "hash"},
                                 {NID_authority_key_identifier, "keyid:always"}},
                                365, 3);
    return pki;
}
}  // namespace

TestPki make_test_pki() { return make_test_pki_with(make_key(), make_key(), make_key()); }

const TestPki& shared_test_pki() {
    static const TestPki pki =
        make_test_pki_with(prepared_key("ca"), prepared_key("ra-signing"), prepared_key("ra-encryption"));
    return pki;
}

EvpPkeyPtr pooled_client_key(size_t i) {
    static std::mutex mutex;
    static std::vector<EvpPkeyPtr> pool;
    std::lock_guard lock(mutex);
    constexpr size_t pool_size = 6;
    while (pool.size() < pool_size) {
        pool.push_back(prepared_key("client-" + std::to_string(pool.size())));
    }
    return up_ref(*pool[i % pool_size]);
}

TempDir::TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "scepra-test-XXXXXX").string();
    require(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    m_path = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

}  // namespace scepra::test
