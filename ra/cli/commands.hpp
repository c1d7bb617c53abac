// SPDX-License-Identifier: Apache-2.0
// One function per subcommand; each parses its own options and returns the exit status.
#pragma once

#include <string>
#include <vector>

namespace scepra::cli {

using Args = std::vector<std::string>;  ///< the arguments after the subcommand name

int init_command(const Args& args);
int serve_command(const Args& args);
int check_config_command(const Args& args);
int password_command(const Args& args);
int admin_command(const Args& args);
int audit_command(const Args& args);
int reload_command(const Args& args);
int request_command(const Args& args);
int revoke_command(const Args& args);
int ra_command(const Args& args);
int lockout_command(const Args& args);
int import_command(const Args& args);
int backup_command(const Args& args);
int doctor_command(const Args& args);

/// Exit statuses shared by the subcommands.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  ///< the command ran and failed (bad config, I/O, ...)
inline constexpr int exit_usage = 2;    ///< the command line itself is wrong
inline constexpr int exit_refused = 3;  ///< refused by policy (password cache full, instance exists)

}  // namespace scepra::cli
