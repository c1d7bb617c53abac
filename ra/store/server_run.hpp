// SPDX-License-Identifier: Apache-2.0
// Which run of the program a process is, and whether another run has ended:
// a request claimed by a run that died mid-request can be resumed at once.
#pragma once

#include <string>

namespace scepra::store {

/// This process's run: "BOOT_ID/PID/START_TICKS" (the kernel's boot id, the
/// process id, and the process's start time in clock ticks since boot, which
/// tells a reused process id apart). The same for the whole process.
const std::string& this_run();

/// True when `run` (another process's this_run()) has certainly ended: the
/// machine has booted since, or no process with that id and start time
/// exists. False for this run, for a live one, and for anything unreadable.
/// SQLite's WAL mode (shared memory) keeps every writer on one machine, so
/// a run from another boot id cannot be alive elsewhere.
bool run_ended(const std::string& run);

}  // namespace scepra::store
