// SPDX-License-Identifier: Apache-2.0
// An instance made by the real `scep-ra init` and `scep-ra doctor` run on it,
// for the doctor tests with and without a running server.
#pragma once

#include <functional>
#include <string>

#include "support/test_pki.hpp"

namespace scepra::test {

/// What one `scep-ra doctor` run printed (stdout and stderr) and its exit status.
struct DoctorRun {
    int status = -1;
    std::string out;
    /// The first line starting with "VERDICT  CHECK", or empty.
    std::string line(const std::string& verdict, const std::string& check) const;
    /// How many lines have this verdict.
    int count(const std::string& verdict) const;
    bool has(const std::string& text) const { return out.find(text) != std::string::npos; }
};

/// `scep-ra init --dir TMP/instance INIT_OPTIONS` in a temporary directory of its own: a copy of the
/// template instance for INIT_OPTIONS (init_from_template), so not for options naming a test's own files.
class DoctorInstance {
  public:
    explicit DoctorInstance(const std::string& init_options = "");

    const TempDir& tmp() const { return m_tmp; }
    std::string dir() const { return m_tmp.file("instance"); }
    std::string file(const std::string& name) const { return dir() + "/" + name; }
    std::string conf() const { return file("scep-ra.conf"); }
    /// Changes the scep-ra.conf text.
    void edit_config(const std::function<void(std::string&)>& edit) const;
    /// `scep-ra ARGS --config CONF`: its exit status, its stdout in *out.
    int scep_ra(const std::string& args, std::string* out = nullptr) const;
    /// `scep-ra doctor --config CONF OPTIONS` (OPTIONS may redirect its stdin).
    DoctorRun doctor(const std::string& options) const;

  private:
    TempDir m_tmp;
};

}  // namespace scepra::test
