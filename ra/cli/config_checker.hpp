// SPDX-License-Identifier: Apache-2.0
// Validation of scep-ra.conf values that collects every problem, each
// naming the file, the section and the key, so an operator fixes them in one go.
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/app_config.hpp"

namespace scepra::cli {

class Checker {
  public:
    Checker(const boost::program_options::variables_map& vm, std::filesystem::path file, FileCheck files)
        : m_vm(vm), m_file(std::move(file)), m_files(files) {}

    /// The value of a registered key (its default when the file omits it).
    std::string text(const std::string& key) const;
    /// A registered integer key within [min, max]; a problem otherwise.
    int number(const std::string& key, int min, int max);
    /// 0 or 1.
    bool flag(const std::string& key);
    /// A path relative to the config's directory; when must_exist and files
    /// are checked, a problem if it names nothing.
    std::filesystem::path path(const std::string& key, bool must_exist = true);
    /// A path that must be set (a problem if empty) and exist as path() says.
    std::filesystem::path required_path(const std::string& key, bool must_exist = true);
    /// One of the allowed words.
    std::string choice(const std::string& key, const std::vector<std::string>& allowed);
    /// A number from free text (a [profile.NAME] or [ejbca.template.NAME] value).
    int number_text(const std::string& key, const std::string& value, int min, int max);

    void problem(const std::string& key, const std::string& what);
    bool has_problems() const { return !m_problems.empty(); }
    const std::filesystem::path& file() const { return m_file; }
    /// Throws ConfigError with every problem, one per line.
    void throw_if_any() const;

  private:
    const boost::program_options::variables_map& m_vm;
    std::filesystem::path m_file;
    FileCheck m_files;
    std::vector<std::string> m_problems;
};

}  // namespace scepra::cli
