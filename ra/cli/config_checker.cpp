// SPDX-License-Identifier: Apache-2.0
#include "cli/config_checker.hpp"

namespace scepra::cli {

namespace {
std::string section_of(const std::string& key) { return key.substr(0, key.rfind('.')); }
std::string name_of(const std::string& key) { return key.substr(key.rfind('.') + 1); }
}  // namespace

std::string Checker::text(const std::string& key) const { return m_vm[key].as<std::string>(); }

int Checker::number(const std::string& key, int min, int max) {
    const int v = m_vm[key].as<int>();
    if (v < min || v > max) {
        problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", not " +
                         std::to_string(v));
    }
    return v;
}

bool Checker::flag(const std::string& key) { return number(key, 0, 1) == 1; }

std::filesystem::path Checker::path(const std::string& key, bool must_exist) {
    std::filesystem::path p = text(key);
    if (p.empty()) {
        return p;
    }
    if (p.is_relative()) {
        p = m_file.parent_path() / p;
    }
    if (must_exist && m_files == FileCheck::require) {
        // Without the error_code, a name the file system refuses to look up
        // (a component over 255 bytes, a loop of links) would throw past the Checker.
        std::error_code error;
        if (!std::filesystem::exists(p, error)) {
            problem(key, "names " + p.string() +
                             (error ? ", which cannot be looked up: " + error.message()
                                    : ", which does not exist"));
        }
    }
    return p;
}

std::filesystem::path Checker::required_path(const std::string& key, bool must_exist) {
    if (text(key).empty()) {
        problem(key, "must be set");
        return {};
    }
    return path(key, must_exist);
}

std::string Checker::choice(const std::string& key, const std::vector<std::string>& allowed) {
    const std::string value = text(key);
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i) {
        if (allowed[i] == value) {
            return value;
        }
        list += i == 0 ? "" : (i + 1 == allowed.size() ? " or " : ", ");
        list += allowed[i];
    }
    problem(key, "must be " + list + ", not '" + value + "'");
    return allowed.front();
}

int Checker::number_text(const std::string& key, const std::string& value, int min, int max) {
    int v = min;
    try {
        size_t used = 0;
        v = std::stoi(value, &used);
        if (used != value.size()) {
            throw std::invalid_argument(value);
        }
    } catch (const std::exception&) {
        problem(key, "must be a number, not '" + value + "'");
        return min;
    }
    if (v < min || v > max) {
        problem(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
}

void Checker::problem(const std::string& key, const std::string& what) {
    m_problems.push_back(m_file.string() + ": [" + section_of(key) + "] " + name_of(key) + " " + what);
}

void Checker::throw_if_any() const {
    if (m_problems.empty()) {
        return;
    }
    std::string all;
    for (const auto& p : m_problems) {
        all += (all.empty() ? "" : "\n") + p;
    }
    throw ConfigError(all);
}

}  // namespace scepra::cli
