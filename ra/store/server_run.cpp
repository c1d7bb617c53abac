// SPDX-License-Identifier: Apache-2.0
// Run identity from /proc (see server_run.hpp).
#include "store/server_run.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

namespace scepra::store {

namespace {

std::string read_all(const std::string& file) {
    std::ifstream in(file);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string boot_id() {
    std::string id = read_all("/proc/sys/kernel/random/boot_id");
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
        id.pop_back();
    }
    return id;
}

/// Field 22 of /proc/PID/stat (starttime) of a process that is running (not
/// a zombie), counted after the command name, which is in parentheses and may
/// itself hold spaces or parentheses.
std::optional<std::string> start_ticks(const std::string& pid) {
    const std::string stat = read_all("/proc/" + pid + "/stat");
    const auto paren = stat.rfind(')');
    if (paren == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) {  // fields 1 and 2 are the pid and (comm)
        if (!(fields >> field)) {
            return std::nullopt;
        }
        if (i == 3 && (field == "Z" || field == "X")) {
            return std::nullopt;  // dead, not yet reaped
        }
    }
    return field;
}

}  // namespace

const std::string& this_run() {
    static const std::string run = [] {
        const std::string pid = std::to_string(::getpid());
        return boot_id() + "/" + pid + "/" + start_ticks(pid).value_or("?");
    }();
    return run;
}

bool run_ended(const std::string& run) {
    const auto first = run.find('/');
    const auto second = first == std::string::npos ? first : run.find('/', first + 1);
    if (second == std::string::npos || run == this_run()) {
        return false;
    }
    const std::string boot = run.substr(0, first);
    const std::string pid = run.substr(first + 1, second - first - 1);
    const std::string ticks = run.substr(second + 1);
    const std::string our_boot = boot_id();
    if (boot.empty() || our_boot.empty() || ticks == "?" || pid.empty() ||
        pid.find_first_not_of("0123456789") != std::string::npos) {
        return false;  // nothing certain
    }
    if (boot != our_boot) {
        return true;
    }
    const auto now_there = start_ticks(pid);
    return !now_there || *now_there != ticks;
}

}  // namespace scepra::store
