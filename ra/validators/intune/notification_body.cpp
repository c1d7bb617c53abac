// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/notification_body.hpp"

#include <cstdio>
#include <ctime>

#include "common/json.hpp"
#include "crypto/asn1_time.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/base64.hpp"
#include "validators/intune/bounded_json.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::size_t max_error_description = 255;  // the library's documented limit

std::string upper_hex(ByteView data) {
    static const char* digits = "0123456789ABCDEF";
    std::string out;
    for (auto b : data) {
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

/// ISO 8601 in UTC with milliseconds, as the library asks: 2027-01-31T12:00:00.000Z
std::string utc_iso8601(TimePoint t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &parts);
    return text;
}

}  // namespace

std::string validate_request_body(const std::string& transaction_id, ByteView csr_der,
                                  const std::string& caller_info) {
    return JsonObject()
        .raw("request", JsonObject()
                            .add("transactionId", transaction_id)
                            .add("certificateRequest", backend::http::base64_encode(csr_der))
                            .add("callerInfo", caller_info)
                            .str())
        .str();
}

std::string success_notification_body(const core::EnrolmentOutcome& issued, const std::string& caller_info) {
    const crypto::X509Ptr cert = crypto::cert_from_der(issued.certificate_der);
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(cert.get()));
    const std::string issuer = crypto::name_string(*X509_get_issuer_name(cert.get()));
    return JsonObject()
        .raw("notification",
             JsonObject()
                 .add("transactionId", issued.transaction_id)
                 .add("certificateRequest", backend::http::base64_encode(issued.csr_der))
                 .add("certificateThumbprint", upper_hex(crypto::sha1(issued.certificate_der)))
                 .add("certificateSerialNumber", crypto::serial_hex(*cert))
                 .add("certificateExpirationDateUtc", not_after ? utc_iso8601(*not_after) : "")
                 .add("issuingCertificateAuthority", issuer)
                 .add("callerInfo", caller_info)
                 .add("caConfiguration", caller_info)
                 .add("certificateAuthority", issuer)
                 .str())
        .str();
}

std::string failure_notification_body(const core::EnrolmentOutcome& rejected,
                                      const std::string& caller_info) {
    const std::string description =
        rejected.reason.empty() ? std::string("refused") : printable(rejected.reason, max_error_description);
    return JsonObject()
        .raw("notification", JsonObject()
                                 .add("transactionId", rejected.transaction_id)
                                 .add("certificateRequest", backend::http::base64_encode(rejected.csr_der))
                                 .raw("hResult", std::to_string(enroll_denied_hresult))
                                 .add("errorDescription", description)
                                 .add("callerInfo", caller_info)
                                 .str())
        .str();
}

}  // namespace scepra::validators::intune
