// SPDX-License-Identifier: Apache-2.0
#include "support/doctor_instance.hpp"

#include <doctest/doctest.h>

#include <sstream>

#include "crypto/encoding.hpp"
#include "support/scep_ra_process.hpp"

namespace scepra::test {

std::string DoctorRun::line(const std::string& verdict, const std::string& check) const {
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) {
        if (l.starts_with(verdict + "  " + check)) return l;
    }
    return {};
}

int DoctorRun::count(const std::string& verdict) const {
    int n = 0;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) n += l.starts_with(verdict + "  ") ? 1 : 0;
    return n;
}

DoctorInstance::DoctorInstance(const std::string& init_options) { init_from_template(dir(), init_options); }

void DoctorInstance::edit_config(const std::function<void(std::string&)>& edit) const {
    std::string text = crypto::read_file(conf());
    edit(text);
    crypto::write_file(conf(), text, 0640, true);
}

int DoctorInstance::scep_ra(const std::string& args, std::string* out) const {
    return run_scep_ra(m_tmp, args + " --config " + conf(), out);
}

DoctorRun DoctorInstance::doctor(const std::string& options) const {
    DoctorRun run;
    std::string err;
    run.status = run_scep_ra(m_tmp, "doctor --config " + conf() + " " + options, &run.out, &err);
    run.out += err;
    return run;
}

}  // namespace scepra::test
