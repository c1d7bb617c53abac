// SPDX-License-Identifier: Apache-2.0
// Reading a `reg export` of NDES's HKLM\SOFTWARE\Microsoft\Cryptography\MSCEP
// key and mapping its settings onto scep-ra.conf keys. Pure: bytes in, data out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scepra::cli::ndes {

/// Larger exports are refused unread (NDES's key exports to a few KiB).
inline constexpr size_t max_export_bytes = 1 << 20;

/// One value line of the export.
struct RegValue {
    enum class Kind { dword, string, expand_string, other };
    std::string subkey;  ///< path below MSCEP ("" = MSCEP itself, "EnforcePassword", "CAInfo", ...)
    std::string name;    ///< value name; "@" for the key's default value
    Kind kind = Kind::other;
    std::uint32_t dword = 0;
    std::string text;      ///< string and expand_string values (UTF-8)
    std::string type_tag;  ///< for other: what the export said, e.g. "hex(7)", "hex", "deleted"
    int line = 0;          ///< first line of the value in the file
};

struct RegistryExport {
    std::vector<RegValue> values;      ///< values under the MSCEP key, in file order
    std::vector<std::string> ignored;  ///< keys outside MSCEP and deletions, one line each
    std::vector<std::string> errors;   ///< malformed lines: "line N: why"
};

/// Parses an export as regedit/reg.exe write it: UTF-16LE with a BOM
/// ("Windows Registry Editor Version 5.00"), or UTF-8/ASCII ("REGEDIT4").
/// Never throws for bad input: every problem lands in errors.
RegistryExport parse_registry_export(std::string_view bytes);

/// One scep-ra.conf key to set.
struct ConfigSetting {
    std::string section;
    std::string key;
    std::string value;
    int line = 0;  ///< where the value came from in the export
};

struct NdesMapping {
    std::vector<ConfigSetting> settings;  ///< to write
    std::vector<std::string> refused;     ///< found but scep-ra would refuse the value (not written)
    std::vector<std::string> not_mapped;  ///< found, no scep-ra equivalent (or a note about it)
};

/// NDES's admin page path; scep-ra serves /certsrv/mscep_admin/ only.
inline constexpr std::string_view default_password_vdir = "CertSrv/mscep_admin";

/// Maps the NDES settings: EnforcePassword, UseSinglePassword, PasswordMax,
/// PasswordLength, PasswordValidity to [password]; the three template names to
/// [templates]. Everything else is reported as not mapped.
NdesMapping map_ndes_settings(const RegistryExport& reg);

}  // namespace scepra::cli::ndes
