// SPDX-License-Identifier: Apache-2.0
// A bounded, line-numbered reader for `reg export` files and the NDES -> scep-ra mapping.
#include "cli/ndes_registry.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <optional>

#include "common/ascii.hpp"

namespace scepra::cli::ndes {

namespace {

constexpr std::string_view mscep_key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP";

/// Text from the file made safe to print: control characters (terminal escapes) become '?'.
std::string printable(std::string text) {
    for (char& c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
    }
    return text;
}

std::string line_error(int line, const std::string& what) {
    return "line " + std::to_string(line) + ": " + printable(what);
}

void append_utf8(std::string& out, std::uint32_t cp) {
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

/// UTF-16LE code units to UTF-8; an unpaired surrogate becomes U+FFFD.
std::string utf16le_to_utf8(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() / 2);
    auto unit = [&](size_t i) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i]) |
                                          (static_cast<unsigned char>(bytes[i + 1]) << 8));
    };
    for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
        std::uint32_t cp = unit(i);
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < bytes.size() && unit(i + 2) >= 0xDC00 &&
            unit(i + 2) <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
            i += 2;
        } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 0xFFFD;
        }
        append_utf8(out, cp);
    }
    return out;
}

/// The export as UTF-8 text, whatever encoding regedit used.
std::string decode_export(std::string_view bytes, std::vector<std::string>& errors) {
    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
        static_cast<unsigned char>(bytes[1]) == 0xFE) {
        bytes.remove_prefix(2);
    } else if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFE &&
               static_cast<unsigned char>(bytes[1]) == 0xFF) {
        errors.push_back(line_error(1, "UTF-16 big-endian; regedit writes UTF-16LE (or ASCII for REGEDIT4)"));
        return {};
    } else if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xEF\xBB\xBF") {
        return std::string(bytes.substr(3));
    } else if (bytes.size() < 2 || bytes[1] != '\0') {
        return std::string(bytes);  // ASCII / UTF-8 (REGEDIT4); NUL bytes are caught per line
    }
    // UTF-16LE, with or without the BOM (a BOM-less one is unambiguous: 'W'/'R' then NUL).
    std::string text = utf16le_to_utf8(bytes);
    if (bytes.size() % 2 != 0) {
        const auto lines = std::count(text.begin(), text.end(), '\n');
        errors.push_back(
            line_error(static_cast<int>(lines) + 1,
                       "the file ends in the middle of a UTF-16 character (odd byte count: truncated?)"));
    }
    return text;
}

std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

/// Reads a quoted regedit string starting at s[pos] == '"'; advances pos past the closing quote.
std::optional<std::string> quoted(const std::string& s, size_t& pos, std::string& why) {
    std::string out;
    for (size_t i = pos + 1; i < s.size(); ++i) {
        if (s[i] == '"') {
            pos = i + 1;
            return out;
        }
        if (s[i] == '\\') {
            if (i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == '"')) {
                out += s[++i];
                continue;
            }
            why = "unknown escape in a quoted string (regedit escapes only \\\\ and \\\")";
            return std::nullopt;
        }
        out += s[i];
    }
    why = "unterminated quoted string";
    return std::nullopt;
}

std::optional<std::vector<unsigned char>> hex_bytes(std::string_view list) {
    std::vector<unsigned char> out;
    size_t i = 0;
    auto skip_space = [&] {
        while (i < list.size() && (list[i] == ' ' || list[i] == '\t')) ++i;
    };
    skip_space();
    while (i < list.size()) {
        if (i + 1 >= list.size() || !std::isxdigit(static_cast<unsigned char>(list[i])) ||
            !std::isxdigit(static_cast<unsigned char>(list[i + 1]))) {
            return std::nullopt;
        }
        out.push_back(static_cast<unsigned char>(std::stoi(std::string(list.substr(i, 2)), nullptr, 16)));
        i += 2;
        skip_space();
        if (i < list.size()) {
            if (list[i] != ',') return std::nullopt;
            ++i;
            skip_space();
            if (i == list.size()) return std::nullopt;  // a trailing comma: the value was cut short
        }
    }
    return out;
}

/// Parses the right-hand side of `"Name"=...`. Returns an error text, or "" on success.
std::string parse_value(const std::string& rhs, bool regedit4, RegValue& v) {
    if (rhs.empty()) {
        return "no value after '='";
    }
    if (rhs == "-") {
        v.type_tag = "deleted";
        return {};
    }
    if (rhs.front() == '"') {
        size_t pos = 0;
        std::string why;
        auto text = quoted(rhs, pos, why);
        if (!text) return why;
        if (pos != rhs.size()) return "text after the closing quote";
        v.kind = RegValue::Kind::string;
        v.text = *text;
        return {};
    }
    if (rhs.rfind("dword:", 0) == 0) {
        const std::string digits = rhs.substr(6);
        if (digits.empty() || digits.size() > 8 || !std::all_of(digits.begin(), digits.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c));
            })) {
            return "a dword needs 1 to 8 hex digits, not '" + digits.substr(0, 16) + "'";
        }
        v.kind = RegValue::Kind::dword;
        v.dword = static_cast<std::uint32_t>(std::stoul(digits, nullptr, 16));
        return {};
    }
    if (rhs.rfind("hex", 0) == 0) {
        const auto colon = rhs.find(':');
        if (colon == std::string::npos) return "hex value without ':'";
        const std::string tag = rhs.substr(0, colon);
        std::string type = "3";  // plain hex: = REG_BINARY
        if (tag != "hex") {
            if (tag.size() < 6 || tag.compare(0, 4, "hex(") != 0 || tag.back() != ')')
                return "unknown value type '" + tag.substr(0, 16) + "'";
            type = tag.substr(4, tag.size() - 5);
            if (type.empty() || type.size() > 8 || !std::all_of(type.begin(), type.end(), [](char c) {
                    return std::isxdigit(static_cast<unsigned char>(c));
                })) {
                return "unknown value type '" + tag.substr(0, 16) + "'";
            }
        }
        auto bytes = hex_bytes(std::string_view(rhs).substr(colon + 1));
        if (!bytes) return "malformed hex bytes (expected e.g. 41,00,42,00)";
        v.type_tag = tag;
        if (equal_ignoring_ascii_case(type, "2") ||
            equal_ignoring_ascii_case(type, "1")) {  // REG_EXPAND_SZ / REG_SZ as bytes
            std::string raw(bytes->begin(), bytes->end());
            if (!regedit4 && raw.size() % 2 != 0) return "a UTF-16 string value with an odd byte count";
            std::string text = regedit4 ? raw : utf16le_to_utf8(raw);
            while (!text.empty() && text.back() == '\0') text.pop_back();
            if (text.find('\0') != std::string::npos) return "a string value with an embedded NUL";
            v.kind = RegValue::Kind::expand_string;
            v.text = text;
        } else if (equal_ignoring_ascii_case(type, "4") &&
                   bytes->size() == 4) {  // REG_DWORD written as hex(4)
            v.kind = RegValue::Kind::dword;
            v.dword = static_cast<std::uint32_t>((*bytes)[0] | ((*bytes)[1] << 8) | ((*bytes)[2] << 16)) |
                      (static_cast<std::uint32_t>((*bytes)[3]) << 24);
        }
        return {};
    }
    return "unrecognised value (expected \"text\", dword:, hex: or -)";
}

struct Section {
    enum class Where { none, mscep, elsewhere } where = Where::none;
    std::string subkey;
};

Section read_section(const std::string& line, int number, RegistryExport& out) {
    const std::string inner = line.substr(1, line.size() - 2);
    if (!inner.empty() && inner.front() == '-') {
        out.ignored.push_back(line_error(number, "deletes the key " + inner.substr(1) + "; ignored"));
        return {Section::Where::elsewhere, {}};
    }
    if (inner.size() >= mscep_key.size() &&
        equal_ignoring_ascii_case(std::string_view(inner).substr(0, mscep_key.size()), mscep_key)) {
        if (inner.size() == mscep_key.size()) {
            return {Section::Where::mscep, {}};
        }
        if (inner[mscep_key.size()] == '\\') {
            return {Section::Where::mscep, inner.substr(mscep_key.size() + 1)};
        }
    }
    out.ignored.push_back(line_error(number, "[" + inner + "] is not under the MSCEP key; ignored"));
    return {Section::Where::elsewhere, {}};
}

}  // namespace

RegistryExport parse_registry_export(std::string_view bytes) {
    RegistryExport out;
    if (bytes.size() > max_export_bytes) {
        out.errors.push_back("line 1: the export is larger than " + std::to_string(max_export_bytes) +
                             " bytes; NDES's key exports to a few KiB");
        return out;
    }
    const std::string text = decode_export(bytes, out.errors);
    if (text.empty() && !out.errors.empty()) {
        return out;
    }
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    size_t first = 0;
    while (first < lines.size() && trim(lines[first]).empty()) ++first;
    const std::string header = first < lines.size() ? trim(lines[first]) : std::string();
    const bool regedit4 = header == "REGEDIT4";
    if (header != "Windows Registry Editor Version 5.00" && !regedit4) {
        out.errors.push_back(
            line_error(static_cast<int>(first) + 1,
                       "not a registry export (expected 'Windows Registry Editor Version 5.00' "
                       "or 'REGEDIT4')"));
        return out;
    }
    Section section;
    for (size_t i = first + 1; i < lines.size(); ++i) {
        const int number = static_cast<int>(i) + 1;
        std::string line = trim(lines[i]);
        if (line.find('\0') != std::string::npos) {
            out.errors.push_back(line_error(number, "contains a NUL character"));
            continue;
        }
        if (line.empty() || line.front() == ';') {
            continue;
        }
        if (line.front() == '[') {
            if (line.back() != ']' || line.size() < 3) {
                out.errors.push_back(line_error(number, "a key line must be [KEY]"));
                section = {Section::Where::elsewhere, {}};
                continue;
            }
            section = read_section(line, number, out);
            continue;
        }
        if (line.front() != '"' && line.front() != '@') {
            out.errors.push_back(line_error(number, "expected \"Name\"=value, @=value or [KEY]"));
            continue;
        }
        if (section.where == Section::Where::none) {
            out.errors.push_back(line_error(number, "a value before any [KEY] line"));
            continue;
        }
        RegValue value;
        value.line = number;
        value.subkey = section.subkey;
        size_t pos = 0;
        std::string why;
        if (line.front() == '@') {
            value.name = "@";
            pos = 1;
        } else if (auto name = quoted(line, pos, why)) {
            value.name = *name;
        } else {
            out.errors.push_back(line_error(number, why));
            continue;
        }
        if (pos >= line.size() || line[pos] != '=') {
            out.errors.push_back(line_error(number, "expected '=' after the value name"));
            continue;
        }
        std::string rhs = trim(std::string_view(line).substr(pos + 1));
        // reg.exe wraps long hex values: a trailing backslash continues on the next line.
        bool cut = false;
        while (rhs.rfind("hex", 0) == 0 && !rhs.empty() && rhs.back() == '\\') {
            rhs.pop_back();
            if (++i >= lines.size()) {
                cut = true;
                break;
            }
            rhs += trim(lines[i]);
        }
        if (cut) {
            out.errors.push_back(line_error(number, "the value continues past the end of the file"));
            break;
        }
        if (std::string e = parse_value(rhs, regedit4, value); !e.empty()) {
            out.errors.push_back(line_error(number, e));
            continue;
        }
        if (section.where != Section::Where::mscep) {
            continue;  // the key was reported once
        }
        if (value.type_tag == "deleted") {
            out.ignored.push_back(line_error(number, "deletes the value " + value.name + "; ignored"));
            continue;
        }
        out.values.push_back(std::move(value));
    }
    return out;
}

namespace {

struct PasswordKey {
    const char* name;
    std::uint32_t min, max;  // the ranges cli::load_config accepts for [password]
};
constexpr std::array<PasswordKey, 5> password_keys{{{"EnforcePassword", 0, 1},
                                                    {"UseSinglePassword", 0, 1},
                                                    {"PasswordMax", 1, 1000000},
                                                    {"PasswordLength", 4, 64},
                                                    {"PasswordValidity", 1, 525600}}};
constexpr std::array<const char*, 3> template_keys{"SignatureTemplate", "EncryptionTemplate",
                                                   "GeneralPurposeTemplate"};

std::string location(const RegValue& v) {
    return printable("MSCEP" + (v.subkey.empty() ? std::string() : "\\" + v.subkey) + "\\" + v.name) +
           " (line " + std::to_string(v.line) + ")";
}

std::string describe(const RegValue& v) {
    switch (v.kind) {
        case RegValue::Kind::dword:
            return std::to_string(v.dword);
        case RegValue::Kind::string:
        case RegValue::Kind::expand_string:
            return "\"" + printable(v.text) + "\"";
        case RegValue::Kind::other:
            break;
    }
    return "(" + v.type_tag + " value)";  // binary content (e.g. EncryptedPassword) is never printed
}

/// Which NDES setting a value is: NDES's own export keeps most of them as a
/// same-named value in a same-named subkey (MSCEP\PasswordMax\PasswordMax);
/// scripts and articles also write them directly under MSCEP.
std::optional<std::string> setting_of(const RegValue& v, bool& in_subkey) {
    for (const std::string_view name : {"EnforcePassword", "UseSinglePassword", "PasswordMax",
                                        "PasswordLength", "PasswordValidity", "PasswordVDir"}) {
        if (equal_ignoring_ascii_case(v.name, name) &&
            (v.subkey.empty() || equal_ignoring_ascii_case(v.subkey, name))) {
            in_subkey = !v.subkey.empty();
            return std::string(name);
        }
    }
    for (const std::string_view name : template_keys) {
        if (v.subkey.empty() && equal_ignoring_ascii_case(v.name, name)) {
            in_subkey = false;
            return std::string(name);
        }
    }
    return std::nullopt;
}

bool is_text(const RegValue& v) {
    return v.kind == RegValue::Kind::string || v.kind == RegValue::Kind::expand_string;
}

/// A template name the INI file can hold as it is.
std::string template_name_problem(const std::string& name) {
    if (name.empty()) return "is empty";
    if (name.size() > 256) return "is longer than 256 characters";
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7F) return "contains a control character";
        if (c == '#' || c == ';' || c == '=')
            return "contains '#', ';' or '=', which scep-ra.conf cannot hold";
    }
    if (name.front() == ' ' || name.back() == ' ') return "starts or ends with a space";
    return {};
}

std::string normalised_vdir(std::string path) {
    std::replace(path.begin(), path.end(), '\\', '/');
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    while (!path.empty() && path.back() == '/') path.pop_back();
    return path;
}

}  // namespace

NdesMapping map_ndes_settings(const RegistryExport& reg) {
    NdesMapping out;
    // The value each setting takes: the last one in the file (as regedit applies them), a subkey
    // value ahead of one written directly under MSCEP.
    std::map<std::string, const RegValue*> chosen;
    std::map<std::string, bool> chosen_in_subkey;
    for (const RegValue& v : reg.values) {
        bool in_subkey = false;
        auto setting = setting_of(v, in_subkey);
        if (!setting) {
            out.not_mapped.push_back(location(v) + " = " + describe(v) + ": no scep-ra setting");
            continue;
        }
        auto it = chosen.find(*setting);
        if (it != chosen.end() && chosen_in_subkey[*setting] && !in_subkey) {
            out.not_mapped.push_back(location(v) + " = " + describe(v) + ": ignored, " +
                                     location(*it->second) + " is NDES's own layout and wins");
            continue;
        }
        if (it != chosen.end()) {
            out.not_mapped.push_back(location(*it->second) + " = " + describe(*it->second) + ": ignored, " +
                                     location(v) + " sets it again");
        }
        chosen[*setting] = &v;
        chosen_in_subkey[*setting] = in_subkey;
    }
    for (const PasswordKey& key : password_keys) {
        auto it = chosen.find(key.name);
        if (it == chosen.end()) continue;
        const RegValue& v = *it->second;
        if (v.kind != RegValue::Kind::dword) {
            out.refused.push_back("[password] " + std::string(key.name) + " from " + location(v) + ": " +
                                  describe(v) + " is not a DWORD; not set");
        } else if (v.dword < key.min || v.dword > key.max) {
            out.refused.push_back("[password] " + std::string(key.name) + " = " + std::to_string(v.dword) +
                                  " from " + location(v) + ": scep-ra accepts " + std::to_string(key.min) +
                                  " to " + std::to_string(key.max) + "; not set");
        } else {
            out.settings.push_back({"password", key.name, std::to_string(v.dword), v.line});
        }
    }
    for (const char* key : template_keys) {
        auto it = chosen.find(key);
        if (it == chosen.end()) continue;
        const RegValue& v = *it->second;
        const std::string problem = is_text(v) ? template_name_problem(v.text) : "is not a string";
        if (!problem.empty()) {
            out.refused.push_back("[templates] " + std::string(key) + " from " + location(v) + ": the name " +
                                  problem + "; not set");
        } else {
            out.settings.push_back({"templates", key, v.text, v.line});
        }
    }
    if (auto it = chosen.find("PasswordVDir"); it != chosen.end()) {
        const RegValue& v = *it->second;
        if (!is_text(v) || !equal_ignoring_ascii_case(normalised_vdir(v.text), default_password_vdir)) {
            out.not_mapped.push_back(location(v) + " = " + describe(v) +
                                     ": scep-ra serves the admin page at /certsrv/mscep_admin/ only; "
                                     "scrapers using the old path need changing");
        }
    }
    return out;
}

}  // namespace scepra::cli::ndes
