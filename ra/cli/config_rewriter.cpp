// SPDX-License-Identifier: Apache-2.0
// Line-based INI editing: only the lines of the keys being set change.
#include "cli/config_rewriter.hpp"

#include <stdexcept>
#include <vector>

#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace {

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

/// The section a "[name]" line opens, or nothing for other lines.
bool section_header(const std::string& line, std::string& name) {
    const std::string t = trim(line);
    if (t.size() < 2 || t.front() != '[' || t.back() != ']') {
        return false;
    }
    name = trim(t.substr(1, t.size() - 2));
    return true;
}

/// The key of a "key = value" line (not a comment), or "".
std::string key_of(const std::string& line) {
    const std::string t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') {
        return {};
    }
    const auto eq = t.find('=');
    return eq == std::string::npos ? std::string() : trim(t.substr(0, eq));
}

void check_ini_text(const std::string& what, const std::string& text) {
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7F || c == '#') {
            throw std::invalid_argument(what + " '" + text +
                                        "' contains a character scep-ra.conf cannot hold");
        }
    }
}

}  // namespace

std::string set_ini_value(const std::string& text, const std::string& section, const std::string& key,
                          const std::string& value) {
    check_ini_text("section", section);
    check_ini_text("key", key);
    check_ini_text("value", value);
    if (key.find('=') != std::string::npos || key.empty() || section.empty()) {
        throw std::invalid_argument("cannot set key '" + key + "' in section '" + section + "'");
    }
    const std::string eol = text.find("\r\n") != std::string::npos ? "\r\n" : "\n";
    std::vector<std::string> lines;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        end = end == std::string::npos ? text.size() : end + 1;
        lines.push_back(text.substr(start, end - start));  // each line keeps its own ending
        start = end;
    }
    std::string current;                      // keys before the first header belong to no section
    size_t last_setting = std::string::npos;  // in the wanted section
    size_t header = std::string::npos;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::string name;
        if (section_header(lines[i], name)) {
            current = name;
            if (current == section) {
                header = i;
                last_setting = i;
            }
            continue;
        }
        if (current != section) {
            continue;
        }
        if (key_of(lines[i]) == key) {
            const std::string& line = lines[i];
            const std::string indent = line.substr(0, line.find_first_not_of(" \t"));
            const size_t ending = line.find_last_not_of("\r\n") + 1;
            lines[i] = indent + key + " = " + value + line.substr(ending);
            std::string out;
            for (const auto& l : lines) out += l;
            return out;
        }
        if (!key_of(lines[i]).empty()) {
            last_setting = i;
        }
    }
    std::string out;
    if (header == std::string::npos) {
        out = text;
        if (!out.empty() && out.back() != '\n') out += eol;
        out += eol + "[" + section + "]" + eol + key + " = " + value + eol;
        return out;
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        out += lines[i];
        if (i == last_setting) {
            if (out.back() != '\n') out += eol;
            out += key + " = " + value + eol;
        }
    }
    return out;
}

void replace_file_keeping_mode(const std::filesystem::path& file, const std::string& content) {
    const auto perms = std::filesystem::status(file).permissions();
    crypto::write_file(file, content, static_cast<unsigned>(perms & std::filesystem::perms::mask), true);
}

}  // namespace scepra::cli
