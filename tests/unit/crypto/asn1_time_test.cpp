// SPDX-License-Identifier: Apache-2.0
// ASN1_TIME -> TimePoint for any year a certificate or signingTime may carry.
#include "crypto/asn1_time.hpp"

#include <doctest/doctest.h>

#include "crypto/handles.hpp"

using namespace scepra;

namespace {
std::optional<TimePoint> convert(const char* text) {
    crypto::Asn1TimePtr t(ASN1_TIME_new());
    REQUIRE(t);
    if (ASN1_TIME_set_string(t.get(), text) != 1) {
        // ASN1_TIME_set_string checks the syntax; store an invalid one by hand.
        ASN1_STRING_set(t.get(), text, -1);
        t->type = V_ASN1_GENERALIZEDTIME;
    }
    return crypto::to_time_point(*t);
}

TimePoint at(std::int64_t unix_seconds) { return TimePoint(std::chrono::seconds(unix_seconds)); }
}  // namespace

TEST_SUITE("crypto.asn1_time") {
    TEST_CASE("times inside the representable range convert exactly") {
        CHECK(convert("700101000000Z") == at(0));
        CHECK(convert("500101000000Z") == at(-631152000));    // UTCTime 50 is 1950
        CHECK(convert("20380119031408Z") == at(2147483648));  // past 32-bit time_t
        CHECK(convert("21991231235959Z") == at(7258118399));
    }

    TEST_CASE("times past 2200 or before 1900 are clamped, not overflowed") {
        // TimePoint counts nanoseconds in 64 bits: 2262 and later do not fit.
        CHECK(convert("22630101000000Z") == at(7258118400));
        CHECK(convert("99991231235959Z") == at(7258118400));
        CHECK(convert("16000101000000Z") == at(-2208988800));
        auto year_zero = convert("00000101000000Z");
        CHECK((!year_zero || *year_zero == at(-2208988800)));
    }

    TEST_CASE("an invalid time is nothing") {
        CHECK_FALSE(convert("not a time"));
        CHECK_FALSE(convert("99991399999999Z"));
    }
}
