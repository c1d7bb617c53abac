// SPDX-License-Identifier: Apache-2.0
// Changing keys of an INI file (scep-ra.conf) while keeping every other line,
// comment and line ending as the operator wrote them.
#pragma once

#include <filesystem>
#include <string>

namespace scepra::cli {

/// Returns text with `key = value` in [section]: the key's line is replaced
/// (its indentation kept), or, when the section has no such key, a line is
/// added after the section's last setting; a missing section is appended.
/// Commented-out lines ("# key = ...") are left alone. Throws
/// std::invalid_argument for a value or key the INI format cannot hold.
std::string set_ini_value(const std::string& text, const std::string& section, const std::string& key,
                          const std::string& value);

/// Replaces file by content atomically (temp file in the same directory, then
/// rename), keeping the file's permission bits.
void replace_file_keeping_mode(const std::filesystem::path& file, const std::string& content);

}  // namespace scepra::cli
