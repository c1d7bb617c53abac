// SPDX-License-Identifier: Apache-2.0
// The checks of `scep-ra doctor` that ask the running server over HTTP, as a
// device does: what GetCACaps advertises, and (--enroll) a real enrolment.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/doctor_checks.hpp"
#include "cli/scep_http_client.hpp"

namespace scepra::cli {

/// GetCACaps from the server against what this configuration enables.
std::vector<DoctorFinding> check_advertised_caps(const AppConfig& config, const ScepHttpClient& server);

struct TestEnrolment {
    /// The single challenge password (UseSinglePassword = 1): scep-ra keeps only its hash.
    std::optional<std::string> single_password;
};

/// Enrols a new key as CN=scep-ra-doctor-<UTC time> through the server, with a
/// challenge obtained as the configured mode allows, checks the certificate
/// chains to the CA, and revokes it where the backend can.
std::vector<DoctorFinding> run_test_enrolment(const AppConfig& config, const ScepHttpClient& server,
                                              const TestEnrolment& options, TimePoint now);

}  // namespace scepra::cli
