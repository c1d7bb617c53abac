// SPDX-License-Identifier: Apache-2.0
#include "crypto/asn1_time.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "crypto/handles.hpp"

namespace scepra::crypto {

namespace {
// 1900-01-01 and 2200-01-01 in seconds since the epoch.
constexpr std::int64_t earliest = -2208988800;
constexpr std::int64_t latest = 7258118400;
}  // namespace

std::optional<TimePoint> to_time_point(const ASN1_TIME& time) {
    if (ASN1_TIME_check(&time) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    // ASN1_TIME_diff works in days and seconds, so no time_t or tm field can
    // overflow for any year 0000..9999.
    Asn1TimePtr epoch(ASN1_TIME_set(nullptr, 0));
    int days = 0;
    int seconds = 0;
    if (!epoch || ASN1_TIME_diff(&days, &seconds, epoch.get(), &time) != 1) {
        ERR_clear_error();
        return std::nullopt;
    }
    const std::int64_t since_epoch = std::clamp(std::int64_t{days} * 86400 + seconds, earliest, latest);
    return TimePoint(std::chrono::seconds(since_epoch));
}

}  // namespace scepra::crypto
