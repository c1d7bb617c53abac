// SPDX-License-Identifier: Apache-2.0
// The server URL scep-bench talks to, and the loopback-only guard.
#pragma once

#include <string>

namespace scepra::bench {

struct TargetUrl {
    std::string host;  ///< without IPv6 brackets
    int port = 80;
    std::string path;  ///< e.g. /certsrv/mscep/mscep.dll; never empty
};

/// Parses http://HOST[:PORT]/PATH (IPv6 as [::1]). Throws std::invalid_argument.
TargetUrl parse_target_url(const std::string& url);

/// 127.0.0.0/8, localhost or ::1.
bool is_loopback_host(const std::string& host);

}  // namespace scepra::bench
