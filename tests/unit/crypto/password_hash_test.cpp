// SPDX-License-Identifier: Apache-2.0
// scrypt password hashing: encoding, verification, fresh salts, malformed and tampered encodings.
#include "crypto/password_hash.hpp"

#include <doctest/doctest.h>

#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

using namespace scepra::crypto;

namespace {

constexpr ScryptParams kFast{1024, 8, 1};

// Known answers computed outside this project (Python hashlib.scrypt) with the
// salt 00 01 .. 0f and a 32-byte output.
const std::string kPassword = "correct horse battery";
const std::string kSaltHex = "000102030405060708090a0b0c0d0e0f";
const std::string kKnown1024 =
    "$scrypt$1024$8$1$" + kSaltHex + "$84a1962f6d96b5d19f21bc443c0674e814b66d6c982ae6482afca97c09583969";
const std::string kKnown2048r4p2 =
    "$scrypt$2048$4$2$" + kSaltHex + "$4bb58a7c4ff53cb138e110738d8685ad306b127441ec83054b7cb37382a48919";
const std::string kKnownEmpty =
    "$scrypt$1024$8$1$" + kSaltHex + "$697c55f92742afed687d7ff23bdb2c6485e4d2c959ecfc20d2faebbade8cb99c";

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    for (;;) {
        const auto sep = s.find('$', start);
        out.push_back(s.substr(start, sep - start));
        if (sep == std::string::npos) {
            return out;
        }
        start = sep + 1;
    }
}

std::string replace_first(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

// Flips the last hex digit of s (0 <-> 1, anything else -> 0).
std::string flip_last_digit(std::string s) {
    s.back() = s.back() == '0' ? '1' : '0';
    return s;
}

}  // namespace

TEST_SUITE("crypto.password_hash") {
    TEST_CASE("a hash has the documented format and verifies its password") {
        SUBCASE("ok/default parameters: N=2^15, r=8, p=1, 16-byte salt, 32-byte output") {
            const std::string encoded = hash_password(kPassword);
            CHECK(std::regex_match(encoded,
                                   std::regex(R"(\$scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64})")));
            CHECK(verify_password(kPassword, encoded));
            CHECK_FALSE(verify_password(kPassword + "x", encoded));
        }
        SUBCASE("ok/given parameters are encoded") {
            const std::string encoded = hash_password(kPassword, ScryptParams{2048, 4, 2});
            CHECK(
                std::regex_match(encoded, std::regex(R"(\$scrypt\$2048\$4\$2\$[0-9a-f]{32}\$[0-9a-f]{64})")));
            CHECK(verify_password(kPassword, encoded));
        }
        SUBCASE("ok/empty and non-ASCII passwords") {
            for (const std::string& pw :
                 {std::string(""), std::string("pässwörd-ünïcode"), std::string("nul\0inside", 10)}) {
                CAPTURE(pw);
                const std::string encoded = hash_password(pw, kFast);
                CHECK(verify_password(pw, encoded));
            }
        }
    }

    TEST_CASE("verification matches an independent scrypt implementation") {
        SUBCASE("ok/known answers verify") {
            CHECK(verify_password(kPassword, kKnown1024));
            CHECK(verify_password(kPassword, kKnown2048r4p2));
            CHECK(verify_password("", kKnownEmpty));
        }
        SUBCASE("fail/swapping r and p gives another hash") {
            CHECK_FALSE(verify_password(kPassword, replace_first(kKnown2048r4p2, "$4$2$", "$2$4$")));
        }
    }

    TEST_CASE("wrong passwords are refused") {
        const std::string encoded = hash_password(kPassword, kFast);
        REQUIRE(verify_password(kPassword, encoded));
        for (const std::string& wrong :
             {std::string(""), std::string("correct horse batter"), std::string("correct horse battery "),
              std::string("Correct horse battery"), std::string("correct\0horse battery", 21)}) {
            CAPTURE(wrong);
            CHECK_FALSE(verify_password(wrong, encoded));
        }
        CHECK_FALSE(verify_password("x", kKnownEmpty));
    }

    TEST_CASE("the same password gets a fresh salt and hash every time") {
        const std::string a = hash_password(kPassword, kFast);
        const std::string b = hash_password(kPassword, kFast);
        CHECK(a != b);
        const auto fa = split(a);
        const auto fb = split(b);
        REQUIRE(fa.size() == 7);
        REQUIRE(fb.size() == 7);
        CHECK(fa[5] != fb[5]);
        CHECK(fa[6] != fb[6]);
        CHECK(verify_password(kPassword, a));
        CHECK(verify_password(kPassword, b));
    }

    TEST_CASE("tampered or malformed encodings are refused without throwing") {
        REQUIRE(verify_password(kPassword, kKnown1024));
        const std::string hash_hex = split(kKnown1024)[6];
        std::string bad;
        SUBCASE("fail/a changed hash digit") { bad = flip_last_digit(kKnown1024); }
        SUBCASE("fail/a changed salt digit") { bad = replace_first(kKnown1024, "0e0f$", "0e0e$"); }
        SUBCASE("fail/a changed N") { bad = replace_first(kKnown1024, "$1024$", "$2048$"); }
        SUBCASE("fail/a changed r") { bad = replace_first(kKnown1024, "$8$1$", "$4$1$"); }
        SUBCASE("fail/a changed p") { bad = replace_first(kKnown1024, "$8$1$", "$8$2$"); }
        SUBCASE("fail/empty") { bad = ""; }
        SUBCASE("fail/prefix only") { bad = "$scrypt$"; }
        SUBCASE("fail/another scheme") { bad = replace_first(kKnown1024, "$scrypt$", "$argon2$"); }
        SUBCASE("fail/scheme in capitals") { bad = replace_first(kKnown1024, "$scrypt$", "$SCRYPT$"); }
        SUBCASE("fail/no leading $") { bad = kKnown1024.substr(1); }
        SUBCASE("fail/uppercase hex") { bad = replace_first(kKnown1024, hash_hex, std::string(64, 'A')); }
        SUBCASE("fail/non-hex digit") { bad = replace_first(kKnown1024, "0e0f$", "0e0g$"); }
        SUBCASE("fail/hash one byte short") { bad = kKnown1024.substr(0, kKnown1024.size() - 2); }
        SUBCASE("fail/hash one byte long") { bad = kKnown1024 + "00"; }
        SUBCASE("fail/odd hex length") { bad = kKnown1024 + "0"; }
        SUBCASE("fail/salt one byte short") { bad = replace_first(kKnown1024, "0e0f$", "0e$"); }
        SUBCASE("fail/missing hash field") { bad = kKnown1024.substr(0, kKnown1024.rfind('$')); }
        SUBCASE("fail/trailing $") { bad = kKnown1024 + "$"; }
        SUBCASE("fail/extra field") { bad = kKnown1024 + "$00"; }
        SUBCASE("fail/empty N") { bad = replace_first(kKnown1024, "$1024$", "$$"); }
        SUBCASE("fail/leading zero") { bad = replace_first(kKnown1024, "$1024$", "$01024$"); }
        SUBCASE("fail/plus sign") { bad = replace_first(kKnown1024, "$1024$", "$+1024$"); }
        SUBCASE("fail/minus sign") { bad = replace_first(kKnown1024, "$1024$", "$-1024$"); }
        SUBCASE("fail/space") { bad = replace_first(kKnown1024, "$1024$", "$ 1024$"); }
        SUBCASE("fail/N not a power of two") { bad = replace_first(kKnown1024, "$1024$", "$1000$"); }
        SUBCASE("fail/N above 2^20") { bad = replace_first(kKnown1024, "$1024$", "$2097152$"); }
        SUBCASE("fail/N below 2^10") { bad = replace_first(kKnown1024, "$1024$", "$512$"); }
        SUBCASE("fail/N overflowing 64 bits") {
            bad = replace_first(kKnown1024, "$1024$", "$18446744073709551616$");
        }
        SUBCASE("fail/r zero") { bad = replace_first(kKnown1024, "$8$1$", "$0$1$"); }
        SUBCASE("fail/r too large") { bad = replace_first(kKnown1024, "$8$1$", "$33$1$"); }
        SUBCASE("fail/r overflowing 32 bits") { bad = replace_first(kKnown1024, "$8$1$", "$4294967304$1$"); }
        SUBCASE("fail/p zero") { bad = replace_first(kKnown1024, "$8$1$", "$8$0$"); }
        SUBCASE("fail/p too large") { bad = replace_first(kKnown1024, "$8$1$", "$8$17$"); }
        SUBCASE("fail/more than 1 GiB of memory") {
            bad = replace_first(kKnown1024, "$1024$8$", "$1048576$16$");
        }
        SUBCASE("fail/NUL inside") { bad = replace_first(kKnown1024, "$1024$", std::string("$1024\0$", 7)); }
        CAPTURE(bad);
        bool result = true;
        CHECK_NOTHROW(result = verify_password(kPassword, bad));
        CHECK_FALSE(result);
    }

    TEST_CASE("hashing refuses parameters outside the allowed range") {
        SUBCASE("ok/bounds that are allowed") {
            CHECK(params_allowed(ScryptParams{}));
            CHECK(params_allowed(kFast));
            CHECK(params_allowed(ScryptParams{1 << 20, 8, 2}));
            CHECK(params_allowed(ScryptParams{1 << 15, 32, 16}));
        }
        SUBCASE("fail/out of range") {
            ScryptParams bad;
            SUBCASE("N not a power of two") { bad.n = 1000; }
            SUBCASE("N above 2^20") { bad.n = 1 << 21; }
            SUBCASE("N below 2^10") { bad.n = 512; }
            SUBCASE("N zero") { bad.n = 0; }
            SUBCASE("r zero") { bad.r = 0; }
            SUBCASE("r above 32") { bad.r = 33; }
            SUBCASE("p zero") { bad.p = 0; }
            SUBCASE("p above 16") { bad.p = 17; }
            SUBCASE("memory above 1 GiB") {
                bad.n = 1 << 20;
                bad.r = 16;
            }
            SUBCASE("work above 2^24") {
                bad.n = 1 << 20;
                bad.r = 8;
                bad.p = 4;
            }
            CAPTURE(bad.n);
            CAPTURE(bad.r);
            CAPTURE(bad.p);
            CHECK_FALSE(params_allowed(bad));
            CHECK_THROWS_AS(hash_password(kPassword, bad), std::invalid_argument);
        }
    }

    TEST_CASE("password length counts characters, not bytes") {
        CHECK(password_length("") == 0);
        CHECK(password_length("12345678") == 8);
        CHECK(password_length("pässwörd") == 8);
        CHECK(password_length("\xe2\x82\xac\xe2\x82\xac") == 2);  // two euro signs, 6 bytes
    }
}
