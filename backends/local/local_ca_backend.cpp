// SPDX-License-Identifier: Apache-2.0
// The local CA backend: signs approved CSRs with an on-disk CA key and records them in SQLite.
#include "local/local_ca_backend.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "crypto/asn1_time.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/serial.hpp"
#include "store/challenge_store.hpp"

namespace scepra::backend::local {

namespace {

/// What a sealed CSR of the approval queue is bound to (crypto::CsrSeal).
std::string sealed_row(std::int64_t id) { return "local_ca_requests.csr_der:" + std::to_string(id); }

using crypto::check;

constexpr int default_min_rsa_bits = 2048;
// 127 random bits make a collision practically impossible; the retry only
// guards the UNIQUE(issuer, serial) invariant.
constexpr int max_serial_attempts = 5;
constexpr std::time_t seconds_per_day = 86400;

SubmitResult rejected(std::string reason) {
    SubmitResult result;
    result.disposition = Disposition::rejected;
    result.reason = std::move(reason);
    return result;
}

/// Throws std::invalid_argument unless OpenSSL accepts value for the extension nid.
void validate_extension_text(int nid, const std::string& value, const char* setting) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, nullptr, nullptr, nullptr, X509V3_CTX_TEST);
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr) {
        ERR_clear_error();
        throw std::invalid_argument(std::string("bad ") + setting + " '" + value + "'");
    }
}

/// Copies the request's SubjectPublicKeyInfo into the certificate field by
/// field. X509_set_pubkey would encode the key and decode it again through
/// OpenSSL 3.0's provider decoders, which costs a third of an RSA signature.
/// The certificate object is then left without a decoded key, so callers use
/// it only as DER. False (nothing copied) for parameters of an unusual type.
bool copy_public_key(X509_REQ& csr, X509& cert) {
    const unsigned char* bits = nullptr;
    int bits_len = 0;
    X509_ALGOR* algorithm = nullptr;
    if (X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, &algorithm, X509_REQ_get_X509_PUBKEY(&csr)) != 1 ||
        bits == nullptr || bits_len <= 0) {
        return false;
    }
    const ASN1_OBJECT* oid = nullptr;
    int param_type = V_ASN1_UNDEF;
    const void* param = nullptr;
    X509_ALGOR_get0(&oid, &param_type, &param, algorithm);
    // RSA has a NULL parameter, EC a curve OID, RSA-PSS a SEQUENCE, EdDSA none.
    crypto::Asn1ObjectPtr param_oid;
    std::unique_ptr<ASN1_STRING, crypto::CDeleter<&ASN1_STRING_free>> param_sequence;
    void* param_copy = nullptr;
    if (param_type == V_ASN1_OBJECT) {
        param_oid.reset(OBJ_dup(static_cast<const ASN1_OBJECT*>(param)));
        param_copy = param_oid.get();
    } else if (param_type == V_ASN1_SEQUENCE) {
        param_sequence.reset(ASN1_STRING_dup(static_cast<const ASN1_STRING*>(param)));
        param_copy = param_sequence.get();
    } else if (param_type != V_ASN1_NULL && param_type != V_ASN1_UNDEF) {
        return false;
    }
    crypto::Asn1ObjectPtr oid_copy(OBJ_dup(oid));
    struct OpensslFree {
        void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
    };
    std::unique_ptr<unsigned char, OpensslFree> bits_copy(
        static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(bits_len))));
    if (!oid_copy || !bits_copy || (param != nullptr && param_copy == nullptr) ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(&cert), oid_copy.get(), param_type, param_copy, bits_copy.get(),
                               bits_len) != 1) {
        ERR_clear_error();
        return false;  // set0 takes nothing when it fails
    }
    // The certificate owns them now.
    oid_copy.release();
    param_oid.release();
    param_sequence.release();
    bits_copy.release();
    return true;
}

TimePoint time_point(const ASN1_TIME& time) { return std::chrono::system_clock::from_time_t(to_time_t(time)); }

/// The serial as crypto::serial_hex spells it (uppercase, whole bytes), from
/// hex in any case with an optional 0x prefix and colons; nothing if not hex.
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

/// SHA-256 of the DER SubjectPublicKeyInfo (as the RA's requests.key_hash).
Bytes public_key_hash(const X509_PUBKEY& key) {
    unsigned char* der = nullptr;
    const int len = i2d_X509_PUBKEY(&key, &der);
    check(len > 0, "i2d_X509_PUBKEY");
    Bytes hash = crypto::sha256(ByteView(der, static_cast<size_t>(len)));
    OPENSSL_free(der);
    return hash;
}

Bytes crl_to_der(X509_CRL& crl) {
    unsigned char* out = nullptr;
    int len = i2d_X509_CRL(&crl, &out);
    check(len > 0, "i2d_X509_CRL");
    Bytes der(out, out + len);
    OPENSSL_free(out);
    return der;
}

}  // namespace

/// A request that passed every check of its profile, ready to sign.
struct LocalCaBackend::Prepared {
    crypto::X509ReqPtr owned;                 ///< set when prepare() parsed the request itself
    X509_REQ* csr = nullptr;                  ///< the request: owned, or the caller's verified one
    EVP_PKEY* public_key = nullptr;           ///< owned by csr
    crypto::X509ExtensionStackPtr requested;  ///< owns san
    X509_EXTENSION* san = nullptr;            ///< to copy, or null
    std::string key_usage;                    ///< the profile's, fitted to the key type
    std::string subject;
    std::string rejection;  ///< when not empty: refuse the request with this reason
};

LocalCaBackend::LocalCaBackend(LocalCaConfig config, store::Database& db, const Clock& clock)
    : m_config(std::move(config)),
      m_db(db),
      m_clock(clock),
      m_store(std::string()),
      m_seal(store::ChallengeStore::load_or_create_key(m_config.csr_key_file.empty()
                                                           ? m_config.key_file.parent_path() / "csr-seal.key"
                                                           : m_config.csr_key_file)) {
    if (m_config.validity_days <= 0) {
        throw std::invalid_argument("local CA validity_days must be positive");
    }
    if (m_config.backdate_seconds < 0) {
        throw std::invalid_argument("local CA backdate_seconds must not be negative");
    }
    if (m_config.crl_validity_hours <= 0) {
        throw std::invalid_argument("local CA crl_validity_hours must be positive");
    }
    const std::string cert_file = m_config.cert_file.string();
    const std::string key_file = m_config.key_file.string();
    try {
        m_ca_cert = crypto::load_cert_file(m_config.cert_file);
    } catch (const crypto::OpensslError& e) {
        throw std::runtime_error("cannot load CA certificate " + cert_file + ": " + e.what());
    }
    m_ca_key = crypto::load_key_file(m_config.key_file);

    if (X509_check_ca(m_ca_cert.get()) != 1) {
        throw std::runtime_error(cert_file + " is not a CA certificate (needs basicConstraints CA:TRUE)");
    }
    // authorityKeyIdentifier=keyid:always copies the CA's SKI into every certificate and CRL.
    if (X509_get0_subject_key_id(m_ca_cert.get()) == nullptr) {
        throw std::runtime_error(cert_file + " has no subjectKeyIdentifier");
    }
    if (X509_check_private_key(m_ca_cert.get(), m_ca_key.get()) != 1) {
        ERR_clear_error();
        throw std::runtime_error("CA key " + key_file + " does not match the CA certificate " + cert_file);
    }
    m_digest = signing_digest(*m_ca_key, m_config.digest);
    if (!m_config.key_usage.empty()) {
        validate_extension_text(NID_key_usage, "critical," + m_config.key_usage, "key_usage");
    }
    if (!m_config.extended_key_usage.empty()) {
        validate_extension_text(NID_ext_key_usage, m_config.extended_key_usage, "extended_key_usage");
    }
    if (!m_config.crl_distribution_point.empty()) {
        validate_extension_text(NID_crl_distribution_points, "URI:" + m_config.crl_distribution_point,
                                "crl_distribution_point");
    }
    for (size_t i = 0; i < m_config.profiles.size(); ++i) {
        check_profile(m_config.profiles[i]);
        for (size_t j = 0; j < i; ++j) {
            if (iequals(m_config.profiles[i].name, m_config.profiles[j].name)) {
                throw std::invalid_argument("certificate template '" + m_config.profiles[i].name +
                                            "' is defined twice");
            }
        }
    }
    m_default_profile.validity_days = m_config.validity_days;
    m_default_profile.key_usage = m_config.key_usage;
    m_default_profile.extended_key_usage = m_config.extended_key_usage;
    m_default_profile.copy_san = m_config.copy_san;
    m_default_profile.min_rsa_bits = default_min_rsa_bits;
    m_default_profile.allowed_key_types = {"RSA", "EC"};

    if (!m_config.chain_file.empty()) {
        for (auto& cert : crypto::load_certs_file(m_config.chain_file)) {
            if (X509_cmp(cert.get(), m_ca_cert.get()) != 0) {  // the chain file may repeat the CA itself
                m_chain.push_back(std::move(cert));
            }
        }
    }
    for (const auto& cert : ca_chain()) {
        m_chain_der.push_back(crypto::cert_der(*cert));
    }
    m_issuer_dn = crypto::name_string(*X509_get_subject_name(m_ca_cert.get()));
    m_store = LocalCaStore(m_issuer_dn);
    seal_plaintext_requests();
}

void LocalCaBackend::seal_plaintext_requests() {
    m_db.write([&](store::Database& db) {
        for (const auto& [id, csr_der] : m_store.plaintext_requests(db)) {
            m_store.set_request_csr(db, id, m_seal.seal(csr_der, sealed_row(id)));
        }
    });
}

std::optional<std::string> LocalCaBackend::key_refusal(const std::string& template_name, EVP_PKEY& subject_key) const {
    const CertificateProfile* profile = find_profile(template_name);
    if (profile == nullptr) {
        return "unknown certificate template '" + template_name + "'";
    }
    return key_rejection(*profile, subject_key);
}

const CertificateProfile* LocalCaBackend::find_profile(const std::string& template_name) const {
    if (template_name.empty()) {
        return &m_default_profile;
    }
    for (const auto& profile : m_config.profiles) {
        if (iequals(profile.name, template_name)) {
            return &profile;
        }
    }
    return nullptr;
}

LocalCaBackend::Prepared LocalCaBackend::prepare(const Bytes& csr_der, const CertificateProfile& profile,
                                                 X509_REQ* verified_csr) const {
    ERR_clear_error();
    Prepared p;
    p.csr = verified_csr;
    if (p.csr == nullptr) {
        try {
            p.owned = crypto::csr_from_der(csr_der);
        } catch (const crypto::OpensslError&) {
            p.rejection = "the request is not a valid PKCS#10 certificate request";
            return p;
        }
        p.csr = p.owned.get();
    }
    p.public_key = X509_REQ_get0_pubkey(p.csr);
    if (p.public_key == nullptr) {
        ERR_clear_error();
        p.rejection = "the request's public key cannot be decoded";
        return p;
    }
    // Proof of possession of the private key (already checked by the caller
    // that hands over a verified request).
    if (verified_csr == nullptr && X509_REQ_verify(p.csr, p.public_key) != 1) {
        ERR_clear_error();
        p.rejection = "the request's signature does not verify with its public key";
        return p;
    }
    if (auto why = key_rejection(profile, *p.public_key)) {
        p.rejection = *why;
        return p;
    }
    if (X509_NAME_entry_count(X509_REQ_get_subject_name(p.csr)) == 0) {
        p.rejection = "the request has an empty subject";
        return p;
    }
    p.subject = crypto::name_string(*X509_REQ_get_subject_name(p.csr));
    p.key_usage = key_usage_for(profile.key_usage, *p.public_key);
    if (p.key_usage.empty() && !profile.key_usage.empty()) {
        p.rejection = "the configured key usage '" + profile.key_usage + "' does not allow a " +
                      EVP_PKEY_get0_type_name(p.public_key) + " key";
        return p;
    }

    // Only subjectAltName is taken from the requester; every other extension
    // (basicConstraints, keyUsage, EKU, SKI, AKI, CDP, AIA, nameConstraints)
    // comes from the CA's configuration, and attributes such as
    // challengePassword are never copied.
    p.requested.reset(X509_REQ_get_extensions(p.csr));
    if (p.requested == nullptr) {
        ERR_clear_error();
        p.rejection = "the request's extensions cannot be decoded";
        return p;
    }
    if (profile.copy_san) {
        int index = X509v3_get_ext_by_NID(p.requested.get(), NID_subject_alt_name, -1);
        if (index >= 0) {
            if (X509v3_get_ext_by_NID(p.requested.get(), NID_subject_alt_name, index) >= 0) {
                p.rejection = "the request contains subjectAltName more than once";
                return p;
            }
            p.san = X509v3_get_ext(p.requested.get(), index);
            crypto::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(p.san)));
            if (names == nullptr || sk_GENERAL_NAME_num(names.get()) == 0) {
                ERR_clear_error();
                p.rejection = "the request's subjectAltName is malformed or empty";
                return p;
            }
        }
    }
    return p;
}

void LocalCaBackend::check_ca_current(TimePoint now) const {
    if (to_time_t(*X509_get0_notAfter(m_ca_cert.get())) <= unix_seconds(now)) {
        throw BackendUnavailable("the local CA certificate " + m_config.cert_file.string() + " has expired");
    }
}

SubmitResult LocalCaBackend::submit(const SubmitRequest& request) {
    const CertificateProfile* profile = find_profile(request.template_name);
    if (profile == nullptr) {
        return rejected("unknown certificate template '" + request.template_name + "'");
    }
    Prepared prepared = prepare(request.csr_der, *profile, request.verified_csr);
    if (!prepared.rejection.empty()) {
        return rejected(prepared.rejection);
    }
    if (!profile->manual_approval) {
        return issue(prepared, *profile, request.transaction_id, std::nullopt);
    }

    // Refuse now rather than queue work for an officer that can never be issued.
    check_ca_current(m_clock.now());
    std::int64_t id = 0;
    try {
        id = m_db.write([&](store::Database& db) {
            // Sealed under its row id, which exists only once the row does.
            const std::int64_t row = m_store.insert_request(
                db, {request.transaction_id, profile->name, prepared.subject, request.requester,
                     sql_time(m_clock.now()), Bytes()});
            m_store.set_request_csr(db, row, m_seal.seal(request.csr_der, sealed_row(row)));
            return row;
        });
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot record the pending request: ") + e.what());
    }
    SubmitResult result;
    result.disposition = Disposition::pending;
    result.backend_ref = std::to_string(id);
    return result;
}

SubmitResult LocalCaBackend::issued(Bytes cert_der) const {
    SubmitResult result;
    result.disposition = Disposition::issued;
    result.certificate_der = std::move(cert_der);
    result.chain_der = m_chain_der;
    return result;
}

SubmitResult LocalCaBackend::issue(const Prepared& request, const CertificateProfile& profile,
                                   const std::string& transaction_id, std::optional<std::int64_t> request_id) {
    const TimePoint now = m_clock.now();
    check_ca_current(now);
    const std::time_t now_seconds = unix_seconds(now);
    const std::time_t not_before = now_seconds - m_config.backdate_seconds;
    // A certificate must not outlive its issuer.
    const std::time_t not_after =
        std::min(now_seconds + static_cast<std::time_t>(profile.validity_days) * seconds_per_day,
                 to_time_t(*X509_get0_notAfter(m_ca_cert.get())));

    enum class Outcome { stored, serial_taken, issued_before, not_approved };
    for (int attempt = 0; attempt < max_serial_attempts; ++attempt) {
        crypto::X509Ptr cert;
        try {
            cert = build_certificate(request, profile, not_before, not_after);
        } catch (const crypto::OpensslError& e) {
            throw BackendUnavailable(std::string("the local CA cannot sign: ") + e.what());
        }
        const LocalCaStore::NewCertificate record{crypto::serial_hex(*cert),
                                                  request.subject,
                                                  sql_time(time_point(*X509_get0_notBefore(cert.get()))),
                                                  sql_time(time_point(*X509_get0_notAfter(cert.get()))),
                                                  transaction_id,
                                                  profile.name,
                                                  sql_time(now),
                                                  crypto::cert_der(*cert)};
        std::optional<Bytes> earlier;
        Outcome outcome = Outcome::stored;
        try {
            outcome = m_db.write([&](store::Database& db) {
                if (request_id) {
                    // Re-read under the write lock: a concurrent poll may have issued it meanwhile.
                    auto row = m_store.request(db, *request_id);
                    if (row && row->info.status == "issued" && row->cert_id) {
                        earlier = m_store.certificate_der_by_id(db, *row->cert_id);
                        return Outcome::issued_before;
                    }
                    if (!row || row->info.status != "approved") {
                        return Outcome::not_approved;
                    }
                }
                if (m_store.serial_exists(db, record.serial)) {
                    return Outcome::serial_taken;
                }
                std::int64_t cert_id = m_store.insert_certificate(db, record);
                if (request_id) {
                    m_store.set_request_issued(db, *request_id, cert_id, record.serial);
                }
                return Outcome::stored;
            });
        } catch (const store::DbError& e) {
            throw BackendUnavailable(std::string("cannot record the issued certificate: ") + e.what());
        }
        switch (outcome) {
            case Outcome::stored:
                return issued(record.der);
            case Outcome::issued_before:
                if (!earlier) {
                    throw BackendUnavailable("request " + std::to_string(*request_id) +
                                             " is marked issued but its certificate is missing");
                }
                return issued(std::move(*earlier));
            case Outcome::not_approved:
                return rejected("unknown request");
            case Outcome::serial_taken:
                break;
        }
    }
    throw BackendUnavailable("no unused serial number after " + std::to_string(max_serial_attempts) + " attempts");
}

crypto::X509Ptr LocalCaBackend::build_certificate(const Prepared& request, const CertificateProfile& profile,
                                                  std::time_t not_before, std::time_t not_after) const {
    crypto::X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
    auto serial = random_serial();
    check(X509_set_serialNumber(cert.get(), serial.get()) == 1, "X509_set_serialNumber");
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(m_ca_cert.get())) == 1, "X509_set_issuer_name");
    check(X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(request.csr)) == 1,
          "X509_set_subject_name");
    // Times come from the injected clock, never from the system clock.
    check(ASN1_TIME_adj(X509_getm_notBefore(cert.get()), not_before, 0, 0) != nullptr, "ASN1_TIME_adj notBefore");
    check(ASN1_TIME_adj(X509_getm_notAfter(cert.get()), not_after, 0, 0) != nullptr, "ASN1_TIME_adj notAfter");
    if (!copy_public_key(*request.csr, *cert)) {
        check(X509_set_pubkey(cert.get(), request.public_key) == 1, "X509_set_pubkey");
    }

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, m_ca_cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(*cert, ctx, NID_basic_constraints, "critical,CA:FALSE");
    if (!request.key_usage.empty()) {
        add_extension(*cert, ctx, NID_key_usage, "critical," + request.key_usage);
    }
    if (!profile.extended_key_usage.empty()) {
        add_extension(*cert, ctx, NID_ext_key_usage, profile.extended_key_usage);
    }
    add_extension(*cert, ctx, NID_subject_key_identifier, "hash");
    add_extension(*cert, ctx, NID_authority_key_identifier, "keyid:always");
    if (!m_config.crl_distribution_point.empty()) {
        add_extension(*cert, ctx, NID_crl_distribution_points, "URI:" + m_config.crl_distribution_point);
    }
    if (request.san != nullptr) {
        check(X509_add_ext(cert.get(), request.san, -1) == 1, "X509_add_ext subjectAltName");
    }
    check(X509_sign(cert.get(), m_ca_key.get(), m_digest.get()) > 0, "X509_sign");
    return cert;
}

Health LocalCaBackend::health() const {
    const std::string subject = crypto::name_string(*X509_get_subject_name(m_ca_cert.get()));
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(m_ca_cert.get()));
    if (!not_after || *not_after <= m_clock.now()) {
        return {false, "local CA " + subject + ": its certificate has expired (scep-ra ra rollover --new-ca)"};
    }
    try {
        m_db.read([](store::Database& db) { db.prepare("SELECT 1").step(); });
    } catch (const std::exception& e) {
        return {false, "local CA " + subject + ": its database cannot be read: " + e.what()};
    }
    const auto days = std::chrono::duration_cast<std::chrono::hours>(*not_after - m_clock.now()).count() / 24;
    return {true, "local CA " + subject + ", certificate valid for " + std::to_string(days) + " more days"};
}

RevokeOutcome LocalCaBackend::revoke(const std::string& serial_hex, int crl_reason) {
    revoke(serial_hex, crl_reason, m_clock.now());
    return RevokeOutcome::revoked;
}

SubmitResult LocalCaBackend::poll(const PollRequest& request) {
    const std::string& backend_ref = request.backend_ref;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(backend_ref.data(), backend_ref.data() + backend_ref.size(), id);
    if (ec != std::errc() || end != backend_ref.data() + backend_ref.size() || id <= 0) {
        return rejected("unknown request");
    }
    std::optional<LocalCaStore::RequestRow> row;
    try {
        row = m_db.read([&](store::Database& db) { return m_store.request(db, id); });
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot read the pending request: ") + e.what());
    }
    if (!row) {
        return rejected("unknown request");
    }
    const PendingRequest& info = row->info;
    if (info.status == "pending") {
        SubmitResult result;
        result.disposition = Disposition::pending;
        result.backend_ref = backend_ref;
        return result;
    }
    if (info.status == "denied") {
        return rejected(info.reason.empty() ? "the request was denied by a CA officer" : info.reason);
    }
    if (info.status == "issued" && row->cert_id) {
        std::optional<Bytes> der;
        try {
            der = m_db.read([&](store::Database& db) { return m_store.certificate_der_by_id(db, *row->cert_id); });
        } catch (const store::DbError& e) {
            throw BackendUnavailable(std::string("cannot read the issued certificate: ") + e.what());
        }
        if (!der) {
            throw BackendUnavailable("request " + backend_ref + " is marked issued but its certificate is missing");
        }
        return issued(std::move(*der));
    }
    // Approved: sign now, with the profile as configured today.
    const CertificateProfile* profile = find_profile(info.template_name);
    if (profile == nullptr) {
        return rejected("certificate template '" + info.template_name + "' no longer exists");
    }
    Bytes csr_der;
    try {
        csr_der = m_seal.open(row->csr_der, sealed_row(id));
    } catch (const std::runtime_error& e) {
        throw BackendUnavailable("cannot read request " + backend_ref + ": " + e.what());
    }
    Prepared prepared = prepare(csr_der, *profile);
    if (!prepared.rejection.empty()) {
        return rejected(prepared.rejection);
    }
    return issue(prepared, *profile, info.transaction_id, id);
}

std::vector<PendingRequest> LocalCaBackend::list_requests(std::optional<std::string> status) const {
    if (status && *status != "pending" && *status != "approved" && *status != "denied" && *status != "issued") {
        throw std::invalid_argument("unknown request status '" + *status +
                                    "' (expected pending, approved, denied or issued)");
    }
    return m_db.read([&](store::Database& db) { return m_store.requests(db, status); });
}

void LocalCaBackend::approve(std::int64_t id, const std::string& officer) { decide(id, "approved", officer, ""); }

void LocalCaBackend::deny(std::int64_t id, const std::string& officer, const std::string& reason) {
    decide(id, "denied", officer, reason);
}

void LocalCaBackend::decide(std::int64_t id, const std::string& status, const std::string& officer,
                            const std::string& reason) {
    if (officer.empty()) {
        throw std::invalid_argument("the CA officer deciding a request must be named");
    }
    m_db.write([&](store::Database& db) {
        if (m_store.decide(db, id, status, officer, reason, sql_time(m_clock.now()))) {
            return;
        }
        auto row = m_store.request(db, id);
        if (!row) {
            throw std::invalid_argument("unknown request " + std::to_string(id));
        }
        throw std::invalid_argument("request " + std::to_string(id) + " is not pending (it is " + row->info.status +
                                    ")");
    });
}

void LocalCaBackend::revoke(const std::string& serial_hex, int reason_code, TimePoint when) {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        throw std::invalid_argument("bad serial number '" + serial_hex + "' (expected hex)");
    }
    const auto reason = crl_reason_name(reason_code);
    if (!reason || reason_code == crl_reason_remove_from_crl) {
        throw std::invalid_argument("revocation reason " + std::to_string(reason_code) +
                                    " is not allowed (RFC 5280 CRLReason 0-6, 9, 10)");
    }
    if (when > m_clock.now()) {
        throw std::invalid_argument("the revocation time " + sql_time(when) + " is in the future");
    }
    m_db.write([&](store::Database& db) {
        auto state = m_store.certificate_state(db, *serial);
        if (!state) {
            throw std::invalid_argument("no certificate with serial " + *serial + " was issued by " + m_issuer_dn);
        }
        if (state->revoked_at) {
            throw std::invalid_argument("the certificate with serial " + *serial + " was already revoked at " +
                                        *state->revoked_at);
        }
        m_store.set_revoked(db, *serial, sql_time(when), *reason);
        m_store.mark_crl_stale(db);
    });
}

Bytes LocalCaBackend::crl_der() {
    std::lock_guard lock(m_crl_mutex);
    const TimePoint now = m_clock.now();
    // Re-signing at half-life leaves relying parties a full half period to
    // fetch the next CRL before the one they hold expires.
    auto usable = [&](const LocalCaStore::CrlRow& row) {
        if (row.stale) {
            return false;
        }
        const TimePoint this_update = parse_sql_time(row.this_update);
        const TimePoint next_update = parse_sql_time(row.next_update);
        return now >= this_update && now < this_update + (next_update - this_update) / 2;
    };
    try {
        auto current = m_db.read([&](store::Database& db) { return m_store.crl(db, false); });
        if (current && usable(*current) && current->number == m_crl_number && !m_crl_der.empty()) {
            return m_crl_der;
        }
        // Under the write lock, so two processes never sign two CRLs with one number.
        LocalCaStore::CrlRow row = m_db.write([&](store::Database& db) {
            auto stored = m_store.crl(db, true);
            if (stored && usable(*stored)) {
                return *stored;
            }
            LocalCaStore::CrlRow fresh;
            fresh.number = stored ? stored->number + 1 : 1;
            const TimePoint next = now + std::chrono::hours(m_config.crl_validity_hours);
            fresh.this_update = sql_time(now);
            fresh.next_update = sql_time(next);
            auto crl = build_crl(*m_ca_cert, *m_ca_key, m_digest.get(), m_store.revoked_unexpired(db, sql_time(now)),
                                 now, next, fresh.number);
            fresh.der = crl_to_der(*crl);
            m_store.save_crl(db, fresh);
            return fresh;
        });
        m_crl_der = std::move(row.der);
        m_crl_number = row.number;
        return m_crl_der;
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot read or record the CRL: ") + e.what());
    } catch (const crypto::OpensslError& e) {
        throw BackendUnavailable(std::string("the local CA cannot sign its CRL: ") + e.what());
    }
}

crypto::X509CrlPtr LocalCaBackend::current_crl() {
    const Bytes der = crl_der();
    const unsigned char* p = der.data();
    crypto::X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
    check(crl != nullptr, "d2i_X509_CRL");
    return crl;
}

std::optional<CertStatus> LocalCaBackend::status_of(const std::string& serial_hex) const {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        return std::nullopt;
    }
    auto state = m_db.read([&](store::Database& db) { return m_store.certificate_state(db, *serial); });
    if (!state) {
        return std::nullopt;
    }
    CertStatus status;
    status.certificate = crypto::cert_from_der(state->der);
    if (state->revoked_at) {
        status.state = CertStatus::State::revoked;
        status.revoked_at = parse_sql_time(*state->revoked_at);
        status.reason_code = crl_reason_code(state->revocation_reason.value_or("")).value_or(crl_reason_unspecified);
    } else if (to_time_t(*X509_get0_notAfter(status.certificate.get())) <= unix_seconds(m_clock.now())) {
        status.state = CertStatus::State::expired;
    }
    return status;
}

std::vector<crypto::X509Ptr> LocalCaBackend::ca_chain() const {
    std::vector<crypto::X509Ptr> chain;
    chain.reserve(m_chain.size() + 1);
    chain.push_back(crypto::up_ref(*m_ca_cert));
    for (const auto& cert : m_chain) {
        chain.push_back(crypto::up_ref(*cert));
    }
    return chain;
}

std::optional<crypto::X509Ptr> LocalCaBackend::find_issued(const std::string& issuer_dn,
                                                           const std::string& serial_hex) const {
    const auto serial = canonical_serial(serial_hex);
    if (!serial) {
        return std::nullopt;
    }
    // Looked up under the issuer asked for, which may be a CA this database served before.
    std::optional<Bytes> der =
        m_db.read([&](store::Database& db) { return LocalCaStore(issuer_dn).certificate_der(db, *serial); });
    if (!der) {
        return std::nullopt;
    }
    return crypto::cert_from_der(*der);
}

std::vector<crypto::X509Ptr> LocalCaBackend::find_valid_by_subject(const std::string& subject_dn) const {
    const std::string now = sql_time(m_clock.now());
    auto ders = m_db.read([&](store::Database& db) { return m_store.valid_by_subject(db, subject_dn, now); });
    std::vector<crypto::X509Ptr> certs;
    certs.reserve(ders.size());
    for (const auto& der : ders) {
        certs.push_back(crypto::cert_from_der(der));
    }
    return certs;
}

std::optional<IssuedCertificate> LocalCaBackend::find_certificate(const std::string& issuer_dn,
                                                                  const std::string& serial_hex) {
    if (issuer_dn != m_issuer_dn) {
        return std::nullopt;
    }
    auto status = status_of(serial_hex);
    if (!status) {
        return std::nullopt;
    }
    IssuedCertificate out;
    out.certificate = std::move(status->certificate);
    out.state = status->state == CertStatus::State::revoked   ? CertState::revoked
                : status->state == CertStatus::State::expired ? CertState::expired
                                                              : CertState::valid;
    return out;
}

std::optional<SubmitResult> LocalCaBackend::find_by_transaction(const TransactionQuery& query) {
    const std::string& transaction_id = query.transaction_id;
    const Bytes& key_hash = query.key_hash;
    std::vector<Bytes> certificates;
    std::vector<std::pair<std::int64_t, Bytes>> requests;
    try {
        m_db.read([&](store::Database& db) {
            certificates = m_store.certificates_of_transaction(db, transaction_id);
            requests = m_store.requests_of_transaction(db, transaction_id);
        });
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot look up the transaction: ") + e.what());
    }
    // A transactionID is the client's choice: only the same key makes it the same request.
    for (auto& der : certificates) {
        auto cert = crypto::cert_from_der(der);
        if (public_key_hash(*X509_get_X509_PUBKEY(cert.get())) == key_hash) {
            return issued(std::move(der));
        }
    }
    for (const auto& [id, stored] : requests) {
        if (stored.empty()) {
            continue;  // decided, CSR deleted: issued ones were found above
        }
        crypto::X509ReqPtr csr;
        try {
            csr = crypto::csr_from_der(m_seal.open(stored, sealed_row(id)));
        } catch (const std::exception&) {
            ERR_clear_error();
            continue;
        }
        if (public_key_hash(*X509_REQ_get_X509_PUBKEY(csr.get())) == key_hash) {
            return poll(PollRequest{std::to_string(id), transaction_id, query.template_name, {}});
        }
    }
    return std::nullopt;
}

bool LocalCaBackend::subject_has_valid_certificate(const std::string& subject_dn) {
    return !find_valid_by_subject(subject_dn).empty();
}

}  // namespace scepra::backend::local
