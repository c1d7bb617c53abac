// SPDX-License-Identifier: Apache-2.0
// Challenge password modes and one-time password bindings.
#include "core/challenge_verifier.hpp"

#include <openssl/x509v3.h>

#include <cctype>
#include <vector>

namespace scepra::core {

namespace {

constexpr const char* not_valid = "the challenge password is not valid";

std::vector<std::string> request_names(X509_REQ& csr) {
    std::vector<std::string> names;
    const X509_NAME* subject = X509_REQ_get_subject_name(&csr);
    for (int pos = -1; (pos = X509_NAME_get_index_by_NID(subject, NID_commonName, pos)) >= 0;) {
        unsigned char* utf8 = nullptr;
        int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, pos)));
        if (len >= 0) {
            names.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
            OPENSSL_free(utf8);
        }
    }
    crypto::X509ExtensionStackPtr exts(X509_REQ_get_extensions(&csr));
    if (exts) {
        crypto::GeneralNamesPtr sans(
            static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts.get(), NID_subject_alt_name, nullptr, nullptr)));
        for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
            const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
            if (gn->type == GEN_DNS || gn->type == GEN_EMAIL) {
                const ASN1_IA5STRING* s = gn->d.ia5;
                names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                   static_cast<size_t>(ASN1_STRING_length(s)));
            }
        }
    }
    return names;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    auto same = [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    };
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

std::optional<std::string> binding_mismatch(const store::ChallengeBinding& binding, const ChallengeRequest& request) {
    if (binding.template_name && *binding.template_name != request.template_name) {
        return "the challenge password is bound to another certificate template";
    }
    if (binding.expected_subject) {
        for (const auto& name : request_names(*request.csr.req)) {
            if (glob_match(*binding.expected_subject, name)) {
                return std::nullopt;
            }
        }
        return "the challenge password is bound to another subject";
    }
    return std::nullopt;
}

PasswordModes::PasswordModes(PasswordSettings settings, store::ChallengeStore& one_time,
                             store::SinglePasswordStore& single)
    : m_settings(std::move(settings)), m_one_time(one_time), m_single(single) {}

void PasswordModes::apply(const PasswordSettings& settings) {
    std::lock_guard lock(m_mutex);
    m_settings = settings;
}

PasswordSettings PasswordModes::settings() const {
    std::lock_guard lock(m_mutex);
    return m_settings;
}

ChallengeVerdict PasswordModes::verify(const ChallengeRequest& request) {
    const PasswordSettings now = settings();
    if (!now.enforce_password) {
        return {.accepted = true, .reason = {}, .challenge_id = {}, .note = "unauthenticated: EnforcePassword is 0"};
    }
    const auto& password = request.csr.challenge_password;
    if (!password || password->empty()) {
        return {.accepted = false, .reason = "a challenge password is required", .challenge_id = {}, .note = {}};
    }
    if (now.use_single_password) {
        if (m_single.verify(*password)) {
            return {.accepted = true, .reason = {}, .challenge_id = {}, .note = "single password"};
        }
        return {.accepted = false, .reason = not_valid, .challenge_id = {}, .note = {}};
    }
    return verify_one_time(request, *password);
}

ChallengeVerdict PasswordModes::verify_one_time(const ChallengeRequest& request, const std::string& password) {
    store::ChallengeOutcome outcome =
        m_one_time.consume(password, request.transaction_id,
                           [&](const store::ChallengeBinding& binding) { return binding_mismatch(binding, request); },
                           request.claim);
    ChallengeVerdict verdict;
    // The texts say which check failed without telling anything about other passwords.
    switch (outcome.result) {
        case store::ChallengeCheck::accepted:
            verdict.accepted = true;
            // Only a used password is linked from the audit trail: unused
            // ones may be purged once expired.
            verdict.challenge_id = outcome.id;
            break;
        case store::ChallengeCheck::unknown: verdict.reason = not_valid; break;
        case store::ChallengeCheck::already_used: verdict.reason = "the challenge password was already used"; break;
        case store::ChallengeCheck::expired: verdict.reason = "the challenge password has expired"; break;
        case store::ChallengeCheck::revoked: verdict.reason = "the challenge password was revoked"; break;
        case store::ChallengeCheck::binding_mismatch: verdict.reason = outcome.mismatch; break;
    }
    return verdict;
}

}  // namespace scepra::core
