// SPDX-License-Identifier: Apache-2.0
// Minimal JSON output: string escaping and a flat object writer.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "common/utf8.hpp"

namespace scepra {

/// A JSON string literal: every control character escaped (C0, DEL and the C1
/// controls U+0080-U+009F, which a terminal also obeys: JSON allows the last
/// two raw, but these strings end up in terminals and log viewers), and each
/// byte that is not part of well-formed UTF-8 replaced by U+FFFD (JSON text is UTF-8).
inline std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (const std::size_t len = utf8_char_length(s, i); len != 1) {
            const auto second = len == 2 ? static_cast<unsigned char>(s[i + 1]) : 0u;
            if (static_cast<unsigned char>(c) == 0xc2 && second >= 0x80 && second <= 0x9f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", second);
                out += buf;
            } else {
                out += len == 0 ? std::string("\\ufffd") : s.substr(i, len);
            }
            i += len == 0 ? 0 : len - 1;
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

/// Builds {"k":v,...} one field at a time; optional fields that are empty become null.
class JsonObject {
  public:
    JsonObject& add(const std::string& key, const std::string& value) { return raw(key, json_string(value)); }
    JsonObject& add(const std::string& key, const char* value) { return raw(key, json_string(value)); }
    JsonObject& add(const std::string& key, std::int64_t value) { return raw(key, std::to_string(value)); }
    JsonObject& add(const std::string& key, int value) { return raw(key, std::to_string(value)); }
    JsonObject& add(const std::string& key, bool value) { return raw(key, value ? "true" : "false"); }
    template <class T>
    JsonObject& add(const std::string& key, const std::optional<T>& value) {
        return value ? add(key, *value) : raw(key, "null");
    }
    JsonObject& raw(const std::string& key, const std::string& json) {
        m_body += (m_body.empty() ? "" : ",") + json_string(key) + ":" + json;
        return *this;
    }
    std::string str() const { return "{" + m_body + "}"; }

  private:
    std::string m_body;
};

}  // namespace scepra
