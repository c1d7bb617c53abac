// SPDX-License-Identifier: Apache-2.0
// ASN1_TIME -> TimePoint without overflow. TimePoint counts nanoseconds in 64
// bits (years 1677..2262), while a certificate or signingTime may say 9999.
#pragma once

#include <openssl/asn1.h>

#include <optional>

#include "common/clock.hpp"

namespace scepra::crypto {

/// The time, clamped to [1900-01-01, 2200-01-01] so that it and a few
/// centuries of arithmetic on it stay representable; nothing when the
/// ASN1_TIME is not a valid UTCTime/GeneralizedTime.
std::optional<TimePoint> to_time_point(const ASN1_TIME& time);

}  // namespace scepra::crypto
