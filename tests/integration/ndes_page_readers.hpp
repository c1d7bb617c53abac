// SPDX-License-Identifier: Apache-2.0
// How MDM products and scripts read the NDES admin page, each reproduced from
// its public source as issue 13 describes it: the decoding they try and the
// pattern they match. Tests run them on the real server's bytes.
#pragma once

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

namespace scepra::test::readers {

/// Appends code point cp as UTF-8.
inline void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

/// UTF-16 bytes (any BOM is kept as U+FEFF) as UTF-8 text; unpaired
/// surrogates and an odd last byte become U+FFFD, as decoders replace them.
inline std::string utf16_text(std::string_view bytes, bool little_endian) {
    std::string out;
    auto unit = [&](size_t i) {
        const unsigned a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
        return little_endian ? (a | (b << 8)) : ((a << 8) | b);
    };
    size_t i = 0;
    for (; i + 1 < bytes.size(); i += 2) {
        const unsigned u = unit(i);
        if (u >= 0xD800 && u <= 0xDBFF && i + 3 < bytes.size()) {
            const unsigned low = unit(i + 2);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                put_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
                i += 2;
                continue;
            }
        }
        put_utf8(out, (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : u);
    }
    if (i < bytes.size()) {
        put_utf8(out, 0xFFFD);
    }
    return out;
}

inline bool starts_with(std::string_view bytes, std::string_view prefix) {
    return bytes.substr(0, prefix.size()) == prefix;
}

/// ISO-8859-1 (and windows-1252 for what matters here): each byte a code point.
inline std::string latin1_text(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) put_utf8(out, c);
    return out;
}

/// US-ASCII: bytes above 0x7F become U+FFFD.
inline std::string ascii_text(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) put_utf8(out, c < 0x80 ? c : 0xFFFD);
    return out;
}

// --- Fleet (ee/server/service/scep_proxy.go) --------------------------------

/// looksLikeUTF16LE: a BOM FF FE, or '<' 00 at the start, or at least 90% of
/// the odd bytes among the first 100 are zero.
inline bool fleet_looks_like_utf16le(std::string_view body) {
    if (body.size() < 4) return false;
    if (starts_with(body, "\xFF\xFE")) return true;
    if (body[0] == '<' && body[1] == '\0') return true;
    const size_t check = std::min<size_t>(body.size(), 100);
    size_t nulls = 0;
    for (size_t i = 1; i < check; i += 2) nulls += body[i] == '\0';
    const size_t checked = check / 2;
    return checked > 0 && nulls * 10 >= checked * 9;
}

/// decodeHTMLResponse: UTF-16LE first (BOM stripped), else the BOM or the
/// Content-Type charset (golang.org/x/net/html/charset), else windows-1252.
inline std::string fleet_decode(std::string_view body, const std::string& content_type) {
    if (fleet_looks_like_utf16le(body)) {
        return utf16_text(starts_with(body, "\xFF\xFE") ? body.substr(2) : body, true);
    }
    if (starts_with(body, "\xEF\xBB\xBF")) return std::string(body.substr(3));
    if (starts_with(body, "\xFE\xFF")) return utf16_text(body.substr(2), false);
    std::string type = content_type;
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type.find("charset=utf-8") != std::string::npos) return std::string(body);
    if (type.find("charset=utf-16") != std::string::npos) return utf16_text(body, true);
    return latin1_text(body);
}

struct FleetResult {
    enum class Kind { password, cache_full, insufficient_permissions, not_found } kind = Kind::not_found;
    std::string password;
};

/// GetNDESSCEPChallenge: the regex, else the two error sentences.
inline FleetResult fleet_read(std::string_view body, const std::string& content_type) {
    const std::string text = fleet_decode(body, content_type);
    static const std::regex challenge("The enrollment challenge password is: <B> (\\S*)", std::regex::icase);
    std::smatch m;
    if (std::regex_search(text, m, challenge)) return {FleetResult::Kind::password, m[1].str()};
    if (text.find("The password cache is full.") != std::string::npos)
        return {FleetResult::Kind::cache_full, {}};
    if (text.find("You do not have sufficient permission to enroll with SCEP.") != std::string::npos) {
        return {FleetResult::Kind::insufficient_permissions, {}};
    }
    return {};
}

// --- ManageEngine MDM -------------------------------------------------------

/// Java's "UTF-16" charset: the BOM decides (and is dropped); none = big-endian.
inline std::string java_utf16_text(std::string_view bytes) {
    if (starts_with(bytes, "\xFE\xFF")) return utf16_text(bytes.substr(2), false);
    if (starts_with(bytes, "\xFF\xFE")) return utf16_text(bytes.substr(2), true);
    return utf16_text(bytes, false);
}

/// Tries UTF-16, UTF-8, ASCII, UTF-16BE, UTF-16LE, ISO-8859-1 in turn and takes
/// the text between the password label and the one-time (or single-mode
/// multiple-use) sentence in the first decoding that has both.
inline std::optional<std::string> manageengine_read(std::string_view body) {
    const std::string decodings[] = {java_utf16_text(body),   std::string(body),      ascii_text(body),
                                     utf16_text(body, false), utf16_text(body, true), latin1_text(body)};
    const std::string start = "The enrollment challenge password is: <B> ";
    const std::string ends[] = {" </B> <P> This password can be used only once",
                                " </B> <P> This password can be used multiple times and will not expire."};
    for (const std::string& text : decodings) {
        const size_t at = text.find(start);
        if (at == std::string::npos) continue;
        const size_t from = at + start.size();
        for (const std::string& end : ends) {
            const size_t to = text.find(end, from);
            if (to != std::string::npos) return text.substr(from, to - from);
        }
    }
    return std::nullopt;
}

// --- Zentral ----------------------------------------------------------------

/// content.decode("utf-16") and its regex. Without a BOM the byte order is
/// not known (Python would guess the machine's), so this reader needs one.
inline std::optional<std::string> zentral_read(std::string_view body) {
    std::string text;
    if (starts_with(body, "\xFF\xFE")) {
        text = utf16_text(body.substr(2), true);
    } else if (starts_with(body, "\xFE\xFF")) {
        text = utf16_text(body.substr(2), false);
    } else {
        return std::nullopt;
    }
    static const std::regex challenge("challenge password is: <B> ([A-Z0-9]{16,32}) </B>");
    std::smatch m;
    if (!std::regex_search(text, m, challenge)) return std::nullopt;
    return m[1].str();
}

// --- PSNDESEnrollment (Functions/Get-NDESOTP.ps1) ---------------------------

/// [Text.Encoding]::Unicode.GetString (UTF-16LE, a BOM stays as U+FEFF), then
/// Select-String -Pattern "[A-F0-9]{PasswordLength*2}" (case-insensitive, as
/// Select-String is by default): the first match on the page.
inline std::optional<std::string> psndes_read(std::string_view body, int password_length = 8) {
    const std::string text = utf16_text(body, true);
    const std::regex run("[A-F0-9]{" + std::to_string(password_length * 2) + "}", std::regex::icase);
    std::smatch m;
    if (!std::regex_search(text, m, run)) return std::nullopt;
    return m[0].str();
}

/// The page as text, for assertions: UTF-16LE when it starts with the BOM or
/// '<' 00, else UTF-8.
inline std::string page_text(std::string_view body) {
    if (starts_with(body, "\xFF\xFE")) return utf16_text(body.substr(2), true);
    if (body.size() > 1 && body[0] == '<' && body[1] == '\0') return utf16_text(body, true);
    return std::string(body);
}

}  // namespace scepra::test::readers
