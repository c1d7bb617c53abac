// SPDX-License-Identifier: Apache-2.0
// `scep-ra ra rollover` prepares new RA certificates (and optionally a new
// local CA) and the GetNextCACert response; `scep-ra ra activate` switches
// to them and keeps the old encryption key for a grace period.
#include <iostream>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "cli/rollover.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_store.hpp"
#include "scep/next_ca.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::string subject_of(const X509& cert) { return crypto::name_string(*X509_get_subject_name(&cert)); }

int rollover(const Args& args) {
    po::options_description desc("options");
    desc.add_options()
        ("config", po::value<std::string>()->required(), "instance configuration file")
        ("new-ca", po::bool_switch(), "also replace the local CA (new key and certificate)")
        ("key-type", po::value<std::string>()->default_value("rsa:2048"), "new RA keys (RSA)")
        ("ca-key-type", po::value<std::string>()->default_value("rsa:2048"), "new CA key, with --new-ca")
        ("ra-validity-days", po::value<int>()->default_value(730), "new RA certificates' validity")
        ("ca-validity-days", po::value<int>()->default_value(3650), "new CA validity, with --new-ca")
        ("force", po::bool_switch(), "replace a rollover already prepared");
    po::variables_map vm;
    if (auto stop = parse_options("ra rollover",
                                  "Prepares new RA signing and encryption certificates (and with --new-ca a new\n"
                                  "local CA) in next/, and the GetNextCACert response signed by the current CA.\n"
                                  "`scep-ra reload` publishes it; `scep-ra ra activate` switches to it.",
                                  desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    const RolloverPaths paths = rollover_paths(config);
    if (fs::exists(paths.next_dir) && !vm["force"].as<bool>()) {
        std::cerr << "scep-ra ra rollover: " << paths.next_dir.string()
                  << " exists: a rollover is prepared already (activate it, or use --force)\n";
        return exit_refused;
    }
    auto ra_spec = crypto::KeySpec::parse(vm["key-type"].as<std::string>());
    if (ra_spec.type != crypto::KeySpec::Type::rsa) {
        std::cerr << "scep-ra ra rollover: --key-type must be RSA\n";
        return exit_usage;
    }
    SystemClock clock;
    auto ca_cert = crypto::load_cert_file(config.local_ca.cert_file);
    auto ca_key = crypto::load_key_file(config.local_ca.key_file);
    auto sign_cert = crypto::load_cert_file(config.signing_cert);
    auto enc_cert = crypto::load_cert_file(config.encryption_cert);

    crypto::X509Ptr new_ca_cert;
    crypto::EvpPkeyPtr new_ca_key;
    if (vm["new-ca"].as<bool>()) {
        new_ca_key = crypto::generate_key(crypto::KeySpec::parse(vm["ca-key-type"].as<std::string>()));
        new_ca_cert = backend::local::create_root_ca(*new_ca_key, subject_of(*ca_cert), vm["ca-validity-days"].as<int>(),
                                                     clock);
    }
    X509& issuer = new_ca_cert ? *new_ca_cert : *ca_cert;
    EVP_PKEY& issuer_key = new_ca_key ? *new_ca_key : *ca_key;
    const int days = vm["ra-validity-days"].as<int>();
    auto next_sign_key = crypto::generate_key(ra_spec);
    auto next_sign = backend::local::issue_ra_certificate(issuer, issuer_key, *next_sign_key, subject_of(*sign_cert),
                                                          backend::local::RaRole::signing, days, clock);
    auto next_enc_key = crypto::generate_key(ra_spec);
    auto next_enc = backend::local::issue_ra_certificate(issuer, issuer_key, *next_enc_key, subject_of(*enc_cert),
                                                         backend::local::RaRole::encryption, days, clock);

    // Everything the local CA signs is in its issued_certs, so that it can be revoked.
    auto db = store::Database::open(config.database, false);
    db->write([&](store::Database& d) {
        backend::local::record_certificate(d, *next_sign, "ra-signing", clock.now());
        backend::local::record_certificate(d, *next_enc, "ra-encryption", clock.now());
    });

    fs::create_directories(paths.next_dir);
    fs::create_directories(paths.next_private);
    fs::permissions(paths.next_private, fs::perms::owner_all, fs::perm_options::replace);
    crypto::save_cert_file(paths.next_dir / "ra-signing.pem", *next_sign, true);
    crypto::save_key_file(paths.next_private / "ra-signing.key", *next_sign_key, true);
    crypto::save_cert_file(paths.next_dir / "ra-encryption.pem", *next_enc, true);
    crypto::save_key_file(paths.next_private / "ra-encryption.key", *next_enc_key, true);
    fs::remove(paths.next_dir / "ca.pem");
    fs::remove(paths.next_private / "ca.key");
    if (new_ca_cert) {
        crypto::save_cert_file(paths.next_dir / "ca.pem", *new_ca_cert, true);
        crypto::save_key_file(paths.next_private / "ca.key", *new_ca_key, true);
    }
    // Signed by the current CA, so clients can trust the new certificates before the switch.
    Bytes response = scep::make_next_ca_response({next_sign.get(), next_enc.get(), &issuer}, *ca_cert, *ca_key);
    crypto::write_file(paths.next_response(), to_string(response), 0644, true);
    std::cout << "prepared in " << paths.next_dir.string() << ":\n"
              << "  RA signing:    " << subject_of(*next_sign) << " serial " << crypto::serial_hex(*next_sign) << "\n"
              << "  RA encryption: " << subject_of(*next_enc) << " serial " << crypto::serial_hex(*next_enc) << "\n"
              << (new_ca_cert ? "  new CA:        " + subject_of(*new_ca_cert) + "\n" : std::string())
              << "publish GetNextCACert with: scep-ra reload --config " << config.file.string() << "\n"
              << "switch with:                scep-ra ra activate --config " << config.file.string() << "\n";
    return exit_ok;
}

void replace_file(const fs::path& from, const fs::path& to) {
    fs::rename(from, to);  // same file system: atomic
}

int activate(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "grace-days", po::value<int>()->default_value(7),
        "days during which requests encrypted to the old RA certificate are still decrypted");
    po::variables_map vm;
    if (auto stop = parse_options("ra activate",
                                  "Switches to the certificates prepared by `scep-ra ra rollover`; restart\n"
                                  "`scep-ra serve` afterwards.",
                                  desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    const RolloverPaths paths = rollover_paths(config);
    if (!fs::exists(paths.next_dir / "ra-signing.pem")) {
        std::cerr << "scep-ra ra activate: no rollover prepared (run scep-ra ra rollover first)\n";
        return exit_refused;
    }
    const int grace = vm["grace-days"].as<int>();
    if (grace < 0) {
        std::cerr << "scep-ra ra activate: --grace-days must not be negative\n";
        return exit_usage;
    }
    fs::remove_all(paths.previous_dir);
    fs::remove_all(paths.previous_private);
    fs::create_directories(paths.previous_dir);
    fs::create_directories(paths.previous_private);
    fs::permissions(paths.previous_private, fs::perms::owner_all, fs::perm_options::replace);
    fs::copy_file(config.encryption_cert, paths.previous_dir / "ra-encryption.pem");
    fs::copy_file(config.encryption_key, paths.previous_private / "ra-encryption.key");
    const bool new_ca = fs::exists(paths.next_dir / "ca.pem");
    if (new_ca) {
        fs::copy_file(config.local_ca.cert_file, paths.previous_dir / "ca.pem");
        fs::copy_file(config.local_ca.key_file, paths.previous_private / "ca.key");
    }
    SystemClock clock;
    crypto::write_file(paths.grace_until(), sql_time(clock.now() + std::chrono::hours(24) * grace) + "\n", 0644, true);

    replace_file(paths.next_dir / "ra-signing.pem", config.signing_cert);
    replace_file(paths.next_private / "ra-signing.key", config.signing_key);
    replace_file(paths.next_dir / "ra-encryption.pem", config.encryption_cert);
    replace_file(paths.next_private / "ra-encryption.key", config.encryption_key);
    if (new_ca) {
        replace_file(paths.next_dir / "ca.pem", config.local_ca.cert_file);
        replace_file(paths.next_private / "ca.key", config.local_ca.key_file);
    }
    fs::remove_all(paths.next_dir);
    fs::remove_all(paths.next_private);
    std::cout << "activated the new RA certificates" << (new_ca ? " and CA" : "")
              << "; requests encrypted to the old RA certificate are decrypted for " << grace
              << " more days.\nrestart scep-ra serve to use them.\n";
    return exit_ok;
}

}  // namespace

int ra_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra ra SUBCOMMAND [OPTIONS]\n\n"
        "subcommands:\n"
        "  rollover   prepare new RA certificates (and a new CA) and GetNextCACert\n"
        "  activate   switch to them, keeping the old encryption key for a grace period\n";
    return run_subcommand("ra", summary, args, {{"rollover", rollover}, {"activate", activate}});
}

}  // namespace scepra::cli
