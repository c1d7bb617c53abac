// SPDX-License-Identifier: Apache-2.0
// A recursive-descent reader with no recursion: the grammar is one level deep.
#include "http/flat_json.hpp"

namespace scepra::http {

namespace {

class Reader {
  public:
    Reader(std::string_view text, const FlatJsonLimits& limits) : m_text(text), m_limits(limits) {}

    std::optional<FlatJsonObject> object() {
        FlatJsonObject members;
        skip_space();
        if (!take('{')) {
            return fail("expected a JSON object");
        }
        skip_space();
        if (take('}')) {
            return finish(std::move(members));
        }
        for (;;) {
            skip_space();
            std::string key;
            if (!string(key)) {
                return fail(m_error.empty() ? "expected a member name in quotes" : m_error);
            }
            skip_space();
            if (!take(':')) {
                return fail("expected ':' after \"" + key + "\"");
            }
            skip_space();
            JsonScalar value;
            if (peek() == '"') {
                if (!string(value.text)) {
                    return fail(m_error);
                }
            } else if (!number(value.text)) {
                return fail("the value of \"" + key + "\" must be a string or a number");
            } else {
                value.is_number = true;
            }
            if (members.size() == m_limits.max_members) {
                return fail("more than " + std::to_string(m_limits.max_members) + " members");
            }
            if (!members.emplace(key, std::move(value)).second) {
                return fail("\"" + key + "\" appears twice");
            }
            skip_space();
            if (take('}')) {
                return finish(std::move(members));
            }
            if (!take(',')) {
                return fail("expected ',' or '}'");
            }
        }
    }

    const std::string& error() const { return m_error; }

  private:
    std::optional<FlatJsonObject> finish(FlatJsonObject members) {
        skip_space();
        if (m_pos != m_text.size()) {
            return fail("text after the object");
        }
        return members;
    }

    std::nullopt_t fail(const std::string& why) {
        m_error = why;
        return std::nullopt;
    }

    int peek() const { return m_pos < m_text.size() ? static_cast<unsigned char>(m_text[m_pos]) : -1; }
    bool take(char c) {
        if (peek() == static_cast<unsigned char>(c)) {
            ++m_pos;
            return true;
        }
        return false;
    }
    void skip_space() {
        while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') {
            ++m_pos;
        }
    }

    bool number(std::string& out) {
        const size_t start = m_pos;
        take('-');
        if (!take('0') && !digits()) {
            return false;
        }
        if (take('.') && !digits()) {
            return false;
        }
        if (take('e') || take('E')) {
            if (!take('+')) {
                take('-');
            }
            if (!digits()) {
                return false;
            }
        }
        out = std::string(m_text.substr(start, m_pos - start));
        return out.size() <= 32;
    }
    bool digits() {
        const size_t start = m_pos;
        while (peek() >= '0' && peek() <= '9') {
            ++m_pos;
        }
        return m_pos > start;
    }

    bool string(std::string& out) {
        if (!take('"')) {
            return false;
        }
        for (;;) {
            if (out.size() > m_limits.max_string_bytes) {
                m_error = "a string longer than " + std::to_string(m_limits.max_string_bytes) + " bytes";
                return false;
            }
            const int c = peek();
            if (c < 0) {
                m_error = "unterminated string";
                return false;
            }
            ++m_pos;
            if (c == '"') {
                return true;
            }
            if (c < 0x20) {
                m_error = "a control character in a string";
                return false;
            }
            if (c == '\\') {
                if (!escape(out)) {
                    return false;
                }
            } else if (c < 0x80) {
                out.push_back(static_cast<char>(c));
            } else if (!utf8_sequence(c, out)) {
                m_error = "invalid UTF-8";
                return false;
            }
        }
    }

    bool escape(std::string& out) {
        const int c = peek();
        ++m_pos;
        switch (c) {
            case '"':
                out += '"';
                return true;
            case '\\':
                out += '\\';
                return true;
            case '/':
                out += '/';
                return true;
            case 'b':
                out += '\b';
                return true;
            case 'f':
                out += '\f';
                return true;
            case 'n':
                out += '\n';
                return true;
            case 'r':
                out += '\r';
                return true;
            case 't':
                out += '\t';
                return true;
            case 'u':
                break;
            default:
                m_error = "an unknown escape in a string";
                return false;
        }
        auto code = hex4();
        if (code && *code >= 0xD800 && *code <= 0xDBFF) {
            auto low = take('\\') && take('u') ? hex4() : std::nullopt;
            code = low && *low >= 0xDC00 && *low <= 0xDFFF
                       ? std::optional<unsigned>(0x10000 + ((*code - 0xD800) << 10) + (*low - 0xDC00))
                       : std::nullopt;
        } else if (code && *code >= 0xDC00 && *code <= 0xDFFF) {
            code.reset();
        }
        if (!code || *code == 0) {
            m_error = "an invalid \\u escape";
            return false;
        }
        append_utf8(*code, out);
        return true;
    }

    std::optional<unsigned> hex4() {
        if (m_pos + 4 > m_text.size()) {
            return std::nullopt;
        }
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = m_text[m_pos++];
            value <<= 4;
            if (c >= '0' && c <= '9')
                value |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                value |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                value |= static_cast<unsigned>(c - 'A' + 10);
            else
                return std::nullopt;
        }
        return value;
    }

    static void append_utf8(unsigned code, std::string& out) {
        if (code < 0x80) {
            out += static_cast<char>(code);
        } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (code >> 18));
            out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
        }
    }

    /// One well-formed UTF-8 sequence whose lead byte `lead` was just read
    /// (no overlong forms, no surrogates, nothing above U+10FFFF).
    bool utf8_sequence(int lead, std::string& out) {
        int continuation = 0;
        unsigned code = 0, minimum = 0;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1, code = static_cast<unsigned>(lead & 0x1F), minimum = 0x80;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuation = 2, code = static_cast<unsigned>(lead & 0x0F), minimum = 0x800;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuation = 3, code = static_cast<unsigned>(lead & 0x07), minimum = 0x10000;
        } else {
            return false;
        }
        for (int i = 0; i < continuation; ++i) {
            const int c = peek();
            if (c < 0x80 || c > 0xBF) {
                return false;
            }
            ++m_pos;
            code = (code << 6) | static_cast<unsigned>(c & 0x3F);
        }
        if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        append_utf8(code, out);
        return true;
    }

    std::string_view m_text;
    const FlatJsonLimits& m_limits;
    size_t m_pos = 0;
    std::string m_error;
};

}  // namespace

std::optional<FlatJsonObject> parse_flat_json_object(std::string_view text, std::string& error,
                                                     const FlatJsonLimits& limits) {
    if (text.size() > limits.max_bytes) {
        error = "the JSON body is larger than " + std::to_string(limits.max_bytes) + " bytes";
        return std::nullopt;
    }
    Reader reader(text, limits);
    auto object = reader.object();
    if (!object) {
        error = reader.error();
    }
    return object;
}

}  // namespace scepra::http
