// SPDX-License-Identifier: Apache-2.0
// Challenge password modes and one-time password bindings.
#include "core/challenge_verifier.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/alt_names.hpp"

namespace scepra::core {

namespace {

constexpr const char* not_valid = "the challenge password is not valid";
constexpr std::ptrdiff_t max_password_characters = 255;

constexpr const char* other_subject = "the challenge password is bound to another subject";

/// The name as text when the binding may judge it: no NUL or other control
/// character that could hide part of it from the glob (or from a C string).
std::optional<std::string> checkable(const std::optional<std::string>& name) {
    if (!name || name->empty()) {
        return std::nullopt;
    }
    const std::string& text = *name;
    if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        return std::nullopt;
    }
    return text;
}

/// Why the name does not match the subject glob, or nullopt. A wildcard is
/// refused whatever the glob: '?' would match a literal '*', and a certificate
/// for host*.example.com is valid for every host... name (X509_check_host).
std::optional<std::string> name_mismatch(const std::string& glob, const std::optional<std::string>& name) {
    const std::optional<std::string> text = checkable(name);
    if (!text) {
        return other_subject;
    }
    if (text->find('*') != std::string::npos) {
        return std::string(other_subject) + " (a wildcard name is not allowed)";
    }
    if (!glob_match(glob, *text)) {
        return other_subject;
    }
    return std::nullopt;
}

/// Why the request's names do not all match the subject glob, or nullopt.
/// Every CN, every subject emailAddress (a mail client or X509_check_email
/// reads it when there is no email subjectAltName) and every subjectAltName
/// entry must match; other subject attributes (O, OU, ...) are the template's business.
std::optional<std::string> subject_mismatch(const std::string& glob, const scep::Csr& csr) {
    int checked = 0;
    for (const auto* names : {&csr.common_names(), &csr.subject_emails()}) {
        for (const auto& name : *names) {
            if (auto why = name_mismatch(glob, name)) {
                return why;
            }
            ++checked;
        }
    }
    const crypto::AltNames& sans = csr.alt_names();
    if (!sans.error.empty()) {
        return std::string(other_subject) + " (" + sans.error + ")";
    }
    for (int i = 0; i < sans.count(); ++i) {
        const std::optional<std::string> text = crypto::dns_or_email(sans.at(i));
        if (!text) {
            return std::string(other_subject) + " (it names DNS and email names only, not " +
                   crypto::describe_alt_name(sans.at(i)) + ")";
        }
        if (auto why = name_mismatch(glob, text)) {
            return why;
        }
        ++checked;
    }
    if (checked == 0) {
        return std::string(other_subject) + " (the request has no common name or subjectAltName)";
    }
    return std::nullopt;
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

std::optional<std::string> binding_mismatch(const store::ChallengeBinding& binding,
                                            const ChallengeRequest& request) {
    if (binding.template_name && *binding.template_name != request.template_name) {
        return "the challenge password is bound to another certificate template";
    }
    if (binding.expected_subject) {
        return subject_mismatch(*binding.expected_subject, request.csr);
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
        return {.accepted = true,
                .reason = {},
                .challenge_id = {},
                .note = "unauthenticated: EnforcePassword is 0"};
    }
    const auto& password = request.csr.challenge_password();
    if (!password || password->empty()) {
        return {
            .accepted = false, .reason = "a challenge password is required", .challenge_id = {}, .note = {}};
    }
    // PKCS#9 ub-challenge-password: the parser lets longer ones through for Intune's challenges.
    const auto characters = std::count_if(password->begin(), password->end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xc0) != 0x80;  // not a UTF-8 continuation byte
    });
    if (characters > max_password_characters) {
        return {.accepted = false,
                .reason = "the challengePassword is longer than 255 characters",
                .challenge_id = {},
                .note = {}};
    }
    if (now.use_single_password) {
        switch (m_single.check(*password)) {
            case store::SinglePasswordCheck::accepted:
                return {.accepted = true, .reason = {}, .challenge_id = {}, .note = "single password"};
            case store::SinglePasswordCheck::busy:
                return {.accepted = false,
                        .reason = "busy, try again later",
                        .challenge_id = {},
                        .note = {},
                        .retry_later = true};
            case store::SinglePasswordCheck::refused:
                break;
        }
        return {.accepted = false, .reason = not_valid, .challenge_id = {}, .note = {}};
    }
    return verify_one_time(request, *password);
}

ChallengeVerdict PasswordModes::verify_one_time(const ChallengeRequest& request,
                                                const std::string& password) {
    store::ChallengeOutcome outcome = m_one_time.consume(
        password, request.transaction_id,
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
        case store::ChallengeCheck::unknown:
            verdict.reason = not_valid;
            break;
        case store::ChallengeCheck::already_used:
            verdict.reason = "the challenge password was already used";
            break;
        case store::ChallengeCheck::expired:
            verdict.reason = "the challenge password has expired";
            break;
        case store::ChallengeCheck::revoked:
            verdict.reason = "the challenge password was revoked";
            break;
        case store::ChallengeCheck::binding_mismatch:
            verdict.reason = outcome.mismatch;
            break;
    }
    return verdict;
}

}  // namespace scepra::core
