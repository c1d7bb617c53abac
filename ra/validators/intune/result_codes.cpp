// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/result_codes.hpp"

#include <utility>

namespace scepra::validators::intune {

namespace {

const std::vector<std::pair<std::string_view, std::string_view>>& meanings() {
    static const std::vector<std::pair<std::string_view, std::string_view>> table{
        {"Success", "the request is valid"},
        {"CertificateRequestDecodingFailed", "Intune cannot decode the certificate request"},
        {"ChallengePasswordMissing", "the request carries no Intune challenge"},
        {"ChallengeDeserializationError", "the challenge is not one Intune issued"},
        {"ChallengeDecryptionError", "the challenge cannot be decrypted by this tenant's Intune"},
        {"ChallengeDecodingError", "the challenge cannot be decoded"},
        {"ChallengeInvalidTimestamp", "the challenge's timestamp is invalid"},
        {"ChallengeExpired", "the challenge has expired; the device must get a new one from Intune"},
        {"SubjectNameMissing", "the request has no subject name, which the SCEP profile requires"},
        {"SubjectNameMismatch", "the subject name differs from the one the SCEP profile set"},
        {"SubjectAltNameMissing",
         "the request has no subject alternative name, which the SCEP profile requires"},
        {"SubjectAltNameMismatch", "the subject alternative names differ from those the SCEP profile set"},
        {"KeyUsageMismatch", "the key usage differs from the SCEP profile's"},
        {"KeyLengthMismatch", "the key size differs from the SCEP profile's"},
        {"EnhancedKeyUsageMissing", "the request has no extended key usage, which the SCEP profile requires"},
        {"EnhancedKeyUsageMismatch", "the extended key usage differs from the SCEP profile's"},
        {"AadKeyIdentifierListMissing", "the challenge names no Entra ID key identifiers"},
        {"RegisteredKeyMismatch", "the request's key is not the one the device registered"},
        {"SigningCertThumbprintMismatch",
         "the request is signed by another certificate than the challenge names"},
        {"ScepProfileNoLongerTargetedToTheClient",
         "the SCEP profile is no longer assigned to this device or user"},
        {"SignatureValidationFailed", "the challenge's signature does not verify"},
        {"BadCertificateRequestIdInChallenge", "the challenge names another certificate request"},
        {"BadDeviceIdInChallenge", "the challenge names another device"},
        {"BadUserIdInChallenge", "the challenge names another user"},
    };
    return table;
}

}  // namespace

const std::vector<std::string_view>& known_codes() {
    static const std::vector<std::string_view> codes = [] {
        std::vector<std::string_view> out;
        for (const auto& [code, meaning] : meanings()) {
            out.push_back(code);
        }
        return out;
    }();
    return codes;
}

std::string_view code_meaning(std::string_view code) {
    for (const auto& [known, meaning] : meanings()) {
        if (known == code) {
            return meaning;
        }
    }
    return "a refusal code this RA does not know";
}

}  // namespace scepra::validators::intune
