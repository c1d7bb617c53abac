// SPDX-License-Identifier: Apache-2.0
// scep-bench command line: what to run, against which URL, with which message parameters.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

namespace scepra::bench {

enum class Mode { enroll, getcacert, getcacaps, renew, poll };

std::string mode_name(Mode mode);

struct Options {
    std::string url;
    Mode mode = Mode::enroll;
    size_t requests = 200;
    size_t concurrency = 16;
    double max_seconds = 120;
    std::string key_type = "rsa:2048";
    std::string cipher = "AES-128-CBC";
    std::string digest = "SHA256";
    bool use_get = false;
    std::optional<std::string> challenge;       ///< one password for every request
    std::optional<std::string> challenge_file;  ///< one one-time password per line, one per request
    size_t verify_every = 1;                    ///< decrypt and check 1 in K successful replies
    std::optional<std::string> cache_file;
    bool json = false;
    bool allow_remote = false;
    bool skip_baseline = false;
    size_t distinct_keys =
        0;  ///< enroll: at most this many device keys, reused in turn (0 = one per request)
    size_t baseline_threads = 0;     ///< 0 = every core (nproc)
    std::optional<std::string> pin;  ///< CPU list this process runs on, e.g. "1" or "1,3"
    std::optional<long> server_pid;  ///< read the server's CPU and memory from /proc/PID
    size_t idle_connections = 0;     ///< idle keep-alive connections held during the run
    std::string idle_sources = "127.0.0.2-127.0.0.11";
};

/// Upper bounds that keep every run finite.
inline constexpr size_t max_requests = 100000;
inline constexpr size_t max_concurrency = 1024;
inline constexpr size_t max_idle_connections = 20000;
inline constexpr double max_run_seconds = 3600;

/// Parses argv. Returns nothing when the program should exit with exit_code
/// (0 after --help, 2 after a usage error already printed to err).
std::optional<Options> parse_options(int argc, char** argv, std::ostream& out, std::ostream& err,
                                     int& exit_code);

}  // namespace scepra::bench
