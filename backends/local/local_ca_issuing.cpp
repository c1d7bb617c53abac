// SPDX-License-Identifier: Apache-2.0
// The local CA signing a request: the profile's checks, then a certificate
// with a fresh serial, recorded in the database.
#include <openssl/err.h>

#include <chrono>
#include <stdexcept>
#include <utility>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_internal.hpp"
#include "local/serial.hpp"

namespace scepra::backend::local {

namespace {

using crypto::check;
using detail::rejected;
using detail::sealed_row;

// 127 random bits make a collision practically impossible; the retry only
// guards the UNIQUE(issuer, serial) invariant.
constexpr int max_serial_attempts = 5;

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
    crypto::OpensslBytesPtr bits_copy(
        static_cast<unsigned char*>(OPENSSL_memdup(bits, static_cast<size_t>(bits_len))));
    if (!oid_copy || !bits_copy || (param != nullptr && param_copy == nullptr) ||
        X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(&cert), oid_copy.get(), param_type, param_copy,
                               bits_copy.get(), bits_len) != 1) {
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

TimePoint time_point(const ASN1_TIME& time) {
    return std::chrono::system_clock::from_time_t(to_time_t(time));
}

}  // namespace

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
            p.san.reset(
                static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509v3_get_ext(p.requested.get(), index))));
            if (p.san == nullptr || sk_GENERAL_NAME_num(p.san.get()) == 0) {
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
        return issue(prepared, *profile, request.transaction_id, std::nullopt, request.record_issued);
    }

    // Refuse now rather than queue work for an officer that can never be issued.
    check_ca_current(m_clock.now());
    std::int64_t id = 0;
    try {
        id = m_db.write([&](store::Database& db) {
            // Sealed under its row id, which exists only once the row does.
            const std::int64_t row =
                m_store.insert_request(db, {request.transaction_id, profile->name, prepared.subject,
                                            request.requester, sql_time(m_clock.now()), Bytes()});
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

SubmitResult LocalCaBackend::issue(
    const Prepared& request, const CertificateProfile& profile, const std::string& transaction_id,
    std::optional<std::int64_t> request_id,
    const std::function<bool(store::Database&, const SubmitResult&)>& record_issued) {
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
        SubmitResult result = issued(record.der);
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
                // The RA's outcome in the same commit: one fsync instead of two.
                if (record_issued) {
                    result.recorded_by_ra = record_issued(db, result);
                }
                return Outcome::stored;
            });
        } catch (const store::DbError& e) {
            throw BackendUnavailable(std::string("cannot record the issued certificate: ") + e.what());
        }
        switch (outcome) {
            case Outcome::stored:
                return result;
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
    throw BackendUnavailable("no unused serial number after " + std::to_string(max_serial_attempts) +
                             " attempts");
}

crypto::X509Ptr LocalCaBackend::build_certificate(const Prepared& request, const CertificateProfile& profile,
                                                  std::time_t not_before, std::time_t not_after) const {
    crypto::X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
    auto serial = random_serial();
    check(X509_set_serialNumber(cert.get(), serial.get()) == 1, "X509_set_serialNumber");
    check(X509_set_issuer_name(cert.get(), X509_get_subject_name(m_ca_cert.get())) == 1,
          "X509_set_issuer_name");
    check(X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(request.csr)) == 1,
          "X509_set_subject_name");
    // Times come from the injected clock, never from the system clock.
    check(ASN1_TIME_adj(X509_getm_notBefore(cert.get()), not_before, 0, 0) != nullptr,
          "ASN1_TIME_adj notBefore");
    check(ASN1_TIME_adj(X509_getm_notAfter(cert.get()), not_after, 0, 0) != nullptr,
          "ASN1_TIME_adj notAfter");
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
        // Encoded anew from the decoded names, never the requester's bytes (which
        // OpenSSL reads leniently: BER, bytes after the names); critical exactly
        // when the subject is empty (RFC 5280, 4.2.1.6).
        const int critical = X509_NAME_entry_count(X509_get_subject_name(cert.get())) == 0 ? 1 : 0;
        check(X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, request.san.get(), critical,
                                X509V3_ADD_DEFAULT) == 1,
              "X509_add1_ext_i2d subjectAltName");
    }
    check(X509_sign(cert.get(), m_ca_key.get(), m_digest.get()) > 0, "X509_sign");
    return cert;
}

}  // namespace scepra::backend::local
