// SPDX-License-Identifier: Apache-2.0
// An instance in front of a remote CA (EJBCA, AD CS): `scep-ra init --backend
// ejbca|adcs` and `scep-ra ra enroll` (the RA certificates from EJBCA).
#pragma once

#include <boost/program_options.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "cli/app_config.hpp"
#include "cli/commands.hpp"
#include "crypto/handles.hpp"
#include "crypto/keys.hpp"

namespace scepra::cli {

/// This machine's host name, "scep-ra" when it has none: the default for
/// the RA certificates' subjects.
std::string local_host_name();

/// An RA certificate and its key.
struct RaPair {
    crypto::X509Ptr cert;
    crypto::EvpPkeyPtr key;
};
struct RaPairs {
    RaPair signing;
    RaPair encryption;
};

/// The CA refused or held an RA certificate request: the message names the
/// template and gives the CA's words, and what to do.
class RaEnrolmentRefused : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Throws std::invalid_argument (naming the sources) unless key is cert's,
/// RSA, and cert's keyUsage (when it has one) allows the role: digitalSignature
/// for "signing", keyEncipherment for "encryption".
void check_ra_pair(const std::string& role, const RaPair& pair, const std::string& cert_source,
                   const std::string& key_source);

/// Reads a certificate and its key from files an operator gave; throws
/// std::invalid_argument naming the files unless the key is the
/// certificate's and is RSA (SCEP clients encrypt to the RA with RSA key
/// transport, and sign-then-verify with the same pair).
RaPair read_ra_pair(const std::string& role, const std::filesystem::path& cert_file,
                    const std::filesystem::path& key_file);

/// New RA keys of spec, their certificates enrolled at EJBCA with [ejbca]
/// ra_certificate_profile and ra_end_entity_profile (usernames: the
/// subjects' CNs). Throws backend::BackendUnavailable, backend::OutcomeUnknown,
/// and std::runtime_error when EJBCA refuses.
RaPairs enrol_ra_pairs_at_ejbca(const AppConfig& config, const crypto::KeySpec& spec,
                                const std::string& signing_subject, const std::string& encryption_subject,
                                const std::string& requester);

/// New RA keys of spec, their certificates enrolled at the AD CS CA through
/// the bridge with [adcs] ra_signing_template and ra_encryption_template
/// (NDES's EnrollmentAgentOffline and CEPEncryption by default), each checked
/// (check_ra_pair). Throws RaEnrolmentRefused when the CA holds a request for
/// approval or denies it, backend::BackendUnavailable and
/// backend::OutcomeUnknown; nothing is written either way.
RaPairs enrol_ra_pairs_at_adcs(const AppConfig& config, const crypto::KeySpec& spec,
                               const std::string& signing_subject, const std::string& encryption_subject,
                               const std::string& requester);

/// `init` with --backend other than local: writes DIR/scep-ra.conf for that
/// backend (no local CA), the database and the HMAC key; the RA certificates
/// are copied from --ra-signing-cert/-key and --ra-encryption-cert/-key, or,
/// without them, left for `scep-ra ra enroll` once [ejbca] or [adcs] is filled in.
int init_remote(const boost::program_options::variables_map& vm);

/// `scep-ra ra enroll --config FILE`: new RA keys, their certificates enrolled
/// at EJBCA (enrol_ra_pairs_at_ejbca) or AD CS (enrol_ra_pairs_at_adcs).
int ra_enroll_command(const Args& args);

}  // namespace scepra::cli
