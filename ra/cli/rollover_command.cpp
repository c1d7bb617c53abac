// SPDX-License-Identifier: Apache-2.0
// `scep-ra ra rollover` prepares new RA certificates (from the local CA,
// optionally a new one; enrolled at EJBCA; or from files) and the
// GetNextCACert response; `scep-ra ra activate` switches to them and keeps
// the old encryption key for a grace period.
#include <openssl/err.h>

#include <iostream>

#include "cli/backend_factory.hpp"
#include "cli/init_remote.hpp"
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

constexpr const char* next_ra_file_options[] = {"ra-signing-cert", "ra-signing-key", "ra-encryption-cert",
                                                "ra-encryption-key"};

/// Writes the next RA certificates and keys to next/, and the GetNextCACert response.
void save_next(const RolloverPaths& paths, const RaPairs& next, const Bytes& response) {
    fs::create_directories(paths.next_dir);
    fs::create_directories(paths.next_private);
    fs::permissions(paths.next_private, fs::perms::owner_all, fs::perm_options::replace);
    crypto::save_cert_file(paths.next_dir / "ra-signing.pem", *next.signing.cert, true);
    crypto::save_key_file(paths.next_private / "ra-signing.key", *next.signing.key, true);
    crypto::save_cert_file(paths.next_dir / "ra-encryption.pem", *next.encryption.cert, true);
    crypto::save_key_file(paths.next_private / "ra-encryption.key", *next.encryption.key, true);
    fs::remove(paths.next_dir / "ca.pem");
    fs::remove(paths.next_private / "ca.key");
    crypto::write_file(paths.next_response(), to_string(response), 0644, true);
}

/// The next RA certificates in front of a remote CA: enrolled at EJBCA like
/// `ra enroll`, or taken from files (the only way with AD CS). The CA itself
/// is renewed at that CA, never here.
int rollover_remote(const po::variables_map& vm, const AppConfig& config, const RolloverPaths& paths,
                    const crypto::KeySpec& ra_spec) {
    const std::string me = "scep-ra ra rollover: ";
    if (vm["new-ca"].as<bool>()) {
        std::cerr << me << "--new-ca replaces the local CA; the " << config.backend
                  << " backend's CA is renewed at that CA\n";
        return exit_usage;
    }
    int given = 0;
    for (const char* option : next_ra_file_options) {
        given += vm.count(option) ? 1 : 0;
    }
    if (given != 0 && given != 4) {
        std::cerr << me
                  << "give all four of --ra-signing-cert, --ra-signing-key, --ra-encryption-cert and "
                     "--ra-encryption-key, or none\n";
        return exit_usage;
    }
    if (given == 0 && config.backend != "ejbca" && config.backend != "adcs") {
        std::cerr << me << "with the " << config.backend
                  << " backend, give the next RA certificates as files "
                  << "(--ra-signing-cert, --ra-signing-key, --ra-encryption-cert, --ra-encryption-key)\n";
        return exit_usage;
    }
    if (given == 0 && config.backend == "ejbca" &&
        (config.ejbca.ra_certificate_profile.empty() || config.ejbca.ra_end_entity_profile.empty())) {
        std::cerr << me << config.file.string()
                  << ": [ejbca] ra_certificate_profile and ra_end_entity_profile "
                  << "must name the EJBCA profiles for the RA certificates\n";
        return exit_failure;
    }
    const auto sign_cert = crypto::load_cert_file(config.signing_cert);
    const auto sign_key = crypto::load_key_file(config.signing_key);
    const auto enc_cert = crypto::load_cert_file(config.encryption_cert);
    SystemClock clock;
    auto db = store::Database::open(config.database, false);
    std::vector<crypto::X509Ptr> chain;
    RaPairs next;
    try {
        chain = make_backend(config, *db, clock)->ca_chain();
        if (given == 4) {
            next = {read_ra_pair("signing", vm["ra-signing-cert"].as<std::string>(),
                                 vm["ra-signing-key"].as<std::string>()),
                    read_ra_pair("encryption", vm["ra-encryption-cert"].as<std::string>(),
                                 vm["ra-encryption-key"].as<std::string>())};
        } else if (config.backend == "adcs") {
            next = enrol_ra_pairs_at_adcs(config, ra_spec, subject_of(*sign_cert), subject_of(*enc_cert),
                                          "scep-ra ra rollover");
        } else {
            next = enrol_ra_pairs_at_ejbca(config, ra_spec, subject_of(*sign_cert), subject_of(*enc_cert),
                                           "scep-ra ra rollover");
        }
    } catch (const std::invalid_argument& e) {
        std::cerr << me << e.what() << "\n";
        return exit_usage;
    } catch (const backend::BackendUnavailable& e) {
        std::cerr << me << "the CA cannot be reached: " << e.what() << "\n";
        return exit_failure;
    } catch (const backend::OutcomeUnknown& e) {
        std::cerr << me << "the CA's answer was lost (" << e.what()
                  << "); it may have issued: check the CA, then "
                  << "run this again\n";
        return exit_failure;
    } catch (const std::runtime_error& e) {
        std::cerr << me << e.what() << "\n";
        return exit_failure;
    }
    // Clients verify the RA certificates against the CA GetCACert gave them.
    X509& ca = *chain.front();
    for (const RaPair* pair : {&next.signing, &next.encryption}) {
        if (X509_check_issued(&ca, pair->cert.get()) != X509_V_OK ||
            X509_verify(pair->cert.get(), X509_get0_pubkey(&ca)) != 1) {
            ERR_clear_error();
            std::cerr << me << subject_of(*pair->cert) << " is not issued by the CA " << subject_of(ca)
                      << "\n";
            return exit_usage;
        }
    }
    // RFC 8894 §4.7.1 has the current CA sign the response, but the RA holds
    // no key of a remote CA: the current RA signing key signs, its chain
    // inside, so a client verifies it to the CA it already trusts.
    std::vector<X509*> signer_chain;
    for (const auto& cert : chain) {
        signer_chain.push_back(cert.get());
    }
    const Bytes response = scep::make_next_ca_response(
        {next.signing.cert.get(), next.encryption.cert.get(), &ca}, *sign_cert, *sign_key, signer_chain);
    save_next(paths, next, response);
    std::cout << "prepared in " << paths.next_dir.string() << ":\n"
              << "  RA signing:    " << subject_of(*next.signing.cert) << " serial "
              << crypto::serial_hex(*next.signing.cert) << "\n"
              << "  RA encryption: " << subject_of(*next.encryption.cert) << " serial "
              << crypto::serial_hex(*next.encryption.cert) << "\n"
              << "  issued by:     " << subject_of(ca) << "\n"
              << "publish GetNextCACert with: scep-ra reload --config " << config.file.string() << "\n"
              << "switch with:                scep-ra ra activate --config " << config.file.string() << "\n";
    return exit_ok;
}

int rollover(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "new-ca", po::bool_switch(), "also replace the local CA (new key and certificate)")(
        "key-type", po::value<std::string>()->default_value("rsa:2048"), "new RA keys (RSA)")(
        "ca-key-type", po::value<std::string>()->default_value("rsa:2048"), "new CA key, with --new-ca")(
        "ra-validity-days", po::value<int>()->default_value(730), "new RA certificates' validity")(
        "ca-validity-days", po::value<int>()->default_value(3650), "new CA validity, with --new-ca")(
        "force", po::bool_switch(), "replace a rollover already prepared")(
        "ra-signing-cert", po::value<std::string>(),
        "remote CA: the next RA signing certificate, from a file")("ra-signing-key", po::value<std::string>(),
                                                                   "remote CA: its key")(
        "ra-encryption-cert", po::value<std::string>(), "remote CA: the next RA encryption certificate")(
        "ra-encryption-key", po::value<std::string>(), "remote CA: its key");
    po::variables_map vm;
    if (auto stop =
            parse_options("ra rollover",
                          "Prepares new RA signing and encryption certificates (and with --new-ca a new\n"
                          "local CA) in next/, and the GetNextCACert response signed by the current CA.\n"
                          "In front of EJBCA they are enrolled there (or taken from the --ra-* files);\n"
                          "in front of AD CS they come from the --ra-* files.\n"
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
    if (config.backend != "local") {
        return rollover_remote(vm, config, paths, ra_spec);
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
        new_ca_cert = backend::local::create_root_ca(*new_ca_key, subject_of(*ca_cert),
                                                     vm["ca-validity-days"].as<int>(), clock);
    }
    X509& issuer = new_ca_cert ? *new_ca_cert : *ca_cert;
    EVP_PKEY& issuer_key = new_ca_key ? *new_ca_key : *ca_key;
    const int days = vm["ra-validity-days"].as<int>();
    auto next_sign_key = crypto::generate_key(ra_spec);
    auto next_sign =
        backend::local::issue_ra_certificate(issuer, issuer_key, *next_sign_key, subject_of(*sign_cert),
                                             backend::local::RaRole::signing, days, clock);
    auto next_enc_key = crypto::generate_key(ra_spec);
    auto next_enc =
        backend::local::issue_ra_certificate(issuer, issuer_key, *next_enc_key, subject_of(*enc_cert),
                                             backend::local::RaRole::encryption, days, clock);

    // Everything the local CA signs is in its issued_certs, so that it can be revoked.
    auto db = store::Database::open(config.database, false);
    db->write([&](store::Database& d) {
        backend::local::record_certificate(d, *next_sign, "ra-signing", clock.now());
        backend::local::record_certificate(d, *next_enc, "ra-encryption", clock.now());
    });

    // Signed by the current CA, so clients can trust the new certificates before the switch.
    Bytes response =
        scep::make_next_ca_response({next_sign.get(), next_enc.get(), &issuer}, *ca_cert, *ca_key);
    const RaPairs next{{crypto::up_ref(*next_sign), crypto::up_ref(*next_sign_key)},
                       {crypto::up_ref(*next_enc), crypto::up_ref(*next_enc_key)}};
    save_next(paths, next, response);
    if (new_ca_cert) {
        crypto::save_cert_file(paths.next_dir / "ca.pem", *new_ca_cert, true);
        crypto::save_key_file(paths.next_private / "ca.key", *new_ca_key, true);
    }
    std::cout << "prepared in " << paths.next_dir.string() << ":\n"
              << "  RA signing:    " << subject_of(*next_sign) << " serial " << crypto::serial_hex(*next_sign)
              << "\n"
              << "  RA encryption: " << subject_of(*next_enc) << " serial " << crypto::serial_hex(*next_enc)
              << "\n"
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
    crypto::write_file(paths.grace_until(), sql_time(clock.now() + std::chrono::hours(24) * grace) + "\n",
                       0644, true);

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
