// SPDX-License-Identifier: Apache-2.0
// An instance in front of a remote CA (EJBCA, AD CS): `scep-ra init --backend
// ejbca|adcs` and `scep-ra ra enroll` (the RA certificates from EJBCA).
#pragma once

#include <boost/program_options.hpp>

#include "cli/commands.hpp"

namespace scepra::cli {

/// `init` with --backend other than local: writes DIR/scep-ra.conf for that
/// backend (no local CA), the database and the HMAC key; the RA certificates
/// are copied from --ra-signing-cert/-key and --ra-encryption-cert/-key, or,
/// without them, left for `scep-ra ra enroll` once [ejbca] is filled in.
int init_remote(const boost::program_options::variables_map& vm);

/// `scep-ra ra enroll --config FILE`: new RA keys, their certificates enrolled
/// at EJBCA with [ejbca] ra_certificate_profile and ra_end_entity_profile.
int ra_enroll_command(const Args& args);

}  // namespace scepra::cli
