// SPDX-License-Identifier: Apache-2.0
// Creates the local CA root and the RA certificates for `scep-ra init`.
#include "local/ca_setup.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "crypto/openssl_error.hpp"
#include "local/serial.hpp"

namespace scepra::backend::local {

namespace {

using crypto::check;

// Starting a little in the past keeps the new certificates valid for clients
// whose clocks lag the RA's.
constexpr long clock_skew_seconds = 600;
// Certificate Request Agent, what NDES's EnrollmentAgentOffline template sets.
constexpr const char* certificate_request_agent_oid = "1.3.6.1.4.1.311.20.2.1";

struct Rdn {
    std::string type;
    std::string value;
};

std::vector<Rdn> split_subject(const std::string& text) {
    auto bad = [&](const std::string& why) {
        return std::invalid_argument("bad subject '" + text + "': " + why);
    };
    const bool slash_form = !text.empty() && text.front() == '/';
    const char separator = slash_form ? '/' : ',';

    if (text.find_first_not_of(" /") == std::string::npos) {
        throw bad("no attributes");
    }

    std::vector<Rdn> rdns;
    Rdn current;
    bool in_value = false;
    size_t kept = 0;  // value length up to the last escaped character, which trimming must keep
    auto finish = [&] {
        auto first = current.type.find_first_not_of(' ');
        auto last = current.type.find_last_not_of(' ');
        current.type = first == std::string::npos ? "" : current.type.substr(first, last - first + 1);
        while (current.value.size() > kept && current.value.back() == ' ') {
            current.value.pop_back();
        }
        if (!in_value) {
            throw bad("'" + current.type + "' has no '='");
        }
        if (current.type.empty()) {
            throw bad("missing attribute type");
        }
        if (current.value.empty()) {
            throw bad("empty value for " + current.type);
        }
        rdns.push_back(std::move(current));
        current = Rdn{};
        in_value = false;
        kept = 0;
    };

    for (size_t i = slash_form ? 1 : 0; i < text.size(); ++i) {
        char c = text[i];
        std::string& field = in_value ? current.value : current.type;
        if (c == '\\') {
            if (++i == text.size()) {
                throw bad("dangling backslash");
            }
            field.push_back(text[i]);
            kept = current.value.size();
        } else if (c == separator) {
            finish();
        } else if (c == '+') {
            throw bad("multi-valued RDNs are not supported (escape '+' as '\\+')");
        } else if (c == '=' && !in_value) {
            in_value = true;
        } else if (c == ' ' && in_value && current.value.empty()) {
            // leading space of a value
        } else {
            field.push_back(c);
        }
    }
    finish();  // also rejects an empty last component such as "CN=x,"
    if (!slash_form) {
        // RFC 4514 writes the most specific RDN first; DER stores the root first.
        std::reverse(rdns.begin(), rdns.end());
    }
    return rdns;
}

void sign(X509& cert, EVP_PKEY& key, const std::string& digest) {
    auto md = signing_digest(key, digest);
    check(X509_sign(&cert, &key, md.get()) > 0, "X509_sign");
}

void set_validity(X509& cert, std::time_t not_before, std::time_t not_after) {
    check(ASN1_TIME_adj(X509_getm_notBefore(&cert), not_before, 0, 0) != nullptr, "ASN1_TIME_adj notBefore");
    check(ASN1_TIME_adj(X509_getm_notAfter(&cert), not_after, 0, 0) != nullptr, "ASN1_TIME_adj notAfter");
}

/// A v3 certificate with a random serial, the given names and public key.
crypto::X509Ptr new_certificate(const X509_NAME& subject, const X509_NAME& issuer, EVP_PKEY& public_key) {
    crypto::X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
    auto serial = random_serial();
    check(X509_set_serialNumber(cert.get(), serial.get()) == 1, "X509_set_serialNumber");
    check(X509_set_subject_name(cert.get(), &subject) == 1, "X509_set_subject_name");
    check(X509_set_issuer_name(cert.get(), &issuer) == 1, "X509_set_issuer_name");
    check(X509_set_pubkey(cert.get(), &public_key) == 1, "X509_set_pubkey");
    return cert;
}

void require_positive_validity(int validity_days) {
    if (validity_days <= 0) {
        throw std::invalid_argument("validity must be at least one day, not " +
                                    std::to_string(validity_days));
    }
}

}  // namespace

crypto::X509NamePtr parse_subject(const std::string& text) {
    crypto::X509NamePtr name(X509_NAME_new());
    check(name != nullptr, "X509_NAME_new");
    for (const auto& rdn : split_subject(text)) {
        if (X509_NAME_add_entry_by_txt(name.get(), rdn.type.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(rdn.value.data()),
                                       static_cast<int>(rdn.value.size()), -1, 0) != 1) {
            ERR_clear_error();
            throw std::invalid_argument("bad subject '" + text + "': unknown attribute or invalid value in " +
                                        rdn.type + "=" + rdn.value);
        }
    }
    return name;
}

crypto::X509Ptr create_root_ca(EVP_PKEY& key, const std::string& subject, int validity_days,
                               const Clock& clock) {
    require_positive_validity(validity_days);
    auto name = parse_subject(subject);
    auto cert = new_certificate(*name, *name, key);
    const std::time_t now = unix_seconds(clock.now());
    set_validity(*cert, now - clock_skew_seconds, now + validity_days * seconds_per_day);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(*cert, ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(*cert, ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    add_extension(*cert, ctx, NID_subject_key_identifier, "hash");
    sign(*cert, key, "SHA256");
    return cert;
}

crypto::X509Ptr issue_ra_certificate(X509& ca_cert, EVP_PKEY& ca_key, EVP_PKEY& ra_key,
                                     const std::string& subject, RaRole role, int validity_days,
                                     const Clock& clock) {
    require_positive_validity(validity_days);
    if (X509_check_private_key(&ca_cert, &ca_key) != 1) {
        ERR_clear_error();
        throw std::invalid_argument("the CA key does not match the CA certificate");
    }
    if (X509_check_ca(&ca_cert) != 1) {
        throw std::invalid_argument("the issuing certificate is not a CA (basicConstraints CA:TRUE)");
    }
    auto name = parse_subject(subject);
    auto cert = new_certificate(*name, *X509_get_subject_name(&ca_cert), ra_key);

    const std::time_t now = unix_seconds(clock.now());
    const std::time_t not_before = now - clock_skew_seconds;
    // A certificate must not outlive its issuer.
    const std::time_t not_after =
        std::min(now + validity_days * seconds_per_day, to_time_t(*X509_get0_notAfter(&ca_cert)));
    if (not_after <= now) {
        throw std::runtime_error("the CA certificate has expired");
    }
    set_validity(*cert, not_before, not_after);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, &ca_cert, cert.get(), nullptr, nullptr, 0);
    add_extension(*cert, ctx, NID_basic_constraints, "critical,CA:FALSE");
    if (role == RaRole::signing) {
        add_extension(*cert, ctx, NID_key_usage, "critical,digitalSignature");
        add_extension(*cert, ctx, NID_ext_key_usage, certificate_request_agent_oid);
    } else {
        add_extension(*cert, ctx, NID_key_usage, "critical,keyEncipherment");
    }
    add_extension(*cert, ctx, NID_subject_key_identifier, "hash");
    add_extension(*cert, ctx, NID_authority_key_identifier, "keyid:always");
    sign(*cert, ca_key, "SHA256");
    return cert;
}

void add_extension(X509& cert, X509V3_CTX& ctx, int nid, const std::string& value) {
    crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (ext == nullptr) {
        throw crypto::OpensslError(std::string("cannot build extension ") + OBJ_nid2sn(nid) + "=" + value);
    }
    check(X509_add_ext(&cert, ext.get(), -1) == 1, "X509_add_ext");
}

crypto::EvpMdPtr signing_digest(EVP_PKEY& key, const std::string& name) {
    // EdDSA signs the message itself; OpenSSL requires a null digest for it.
    if (EVP_PKEY_is_a(&key, "ED25519") == 1 || EVP_PKEY_is_a(&key, "ED448") == 1) {
        return nullptr;
    }
    crypto::EvpMdPtr md(EVP_MD_fetch(nullptr, name.c_str(), nullptr));
    if (md == nullptr) {
        ERR_clear_error();
        throw std::invalid_argument("unknown digest '" + name + "'");
    }
    return md;
}

std::time_t to_time_t(const ASN1_TIME& time) {
    std::tm tm{};
    check(ASN1_TIME_to_tm(&time, &tm) == 1, "ASN1_TIME_to_tm");
    return timegm(&tm);
}

}  // namespace scepra::backend::local
