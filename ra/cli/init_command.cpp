// SPDX-License-Identifier: Apache-2.0
// `scep-ra init`: a ready instance on the embedded defaults (local CA, SQLite).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/app_config.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "local/ca_setup.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {
std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') {
        return "scep-ra";
    }
    return buf;
}
}  // namespace

int init_command(const Args& args) {
    const std::string host = host_name();
    po::options_description desc("options");
    desc.add_options()
        ("dir", po::value<std::string>()->required(), "instance directory to create")
        ("key-type", po::value<std::string>()->default_value("rsa:2048"),
         "RA keys: rsa:2048|3072|4096 (SCEP clients encrypt to the RA with RSA)")
        ("ca-key-type", po::value<std::string>()->default_value("rsa:2048"), "local CA key: rsa:BITS or ec:P-256|P-384")
        ("ca-subject", po::value<std::string>()->default_value("CN=scep-ra Local CA,O=scep-ra"), "local CA subject")
        ("ra-signing-subject", po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA,O=scep-ra"),
         "RA signing certificate subject")
        ("ra-encryption-subject", po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA-ENC,O=scep-ra"),
         "RA encryption certificate subject")
        ("ca-validity-days", po::value<int>()->default_value(3650), "local CA validity")
        ("ra-validity-days", po::value<int>()->default_value(730), "RA certificates' validity")
        ("listen", po::value<std::string>()->default_value("127.0.0.1:8080"), "listen address written to the config")
        ("force", po::bool_switch(), "replace an existing instance (new CA, new RA keys, empty database)");
    po::variables_map vm;
    if (auto stop = parse_options("init", "Creates DIR/scep-ra.conf, a local CA, the RA signing and encryption\n"
                                          "certificates issued by it, and the SQLite database.",
                                  desc, args, vm)) {
        return *stop;
    }

    const fs::path dir = fs::absolute(vm["dir"].as<std::string>());
    const bool force = vm["force"].as<bool>();
    const fs::path conf = dir / "scep-ra.conf";
    if (fs::exists(conf) && !force) {
        std::cerr << "scep-ra init: " << conf.string() << " already exists; use --force to replace the instance\n";
        return exit_refused;
    }
    auto ra_spec = crypto::KeySpec::parse(vm["key-type"].as<std::string>());
    if (ra_spec.type != crypto::KeySpec::Type::rsa) {
        std::cerr << "scep-ra init: --key-type must be RSA: SCEP clients encrypt to the RA with RSA key transport\n";
        return exit_usage;
    }
    auto ca_spec = crypto::KeySpec::parse(vm["ca-key-type"].as<std::string>());

    fs::create_directories(dir / "private");
    fs::permissions(dir / "private", fs::perms::owner_all, fs::perm_options::replace);
    if (force) {
        for (const char* stale : {"scep-ra.db", "scep-ra.db-wal", "scep-ra.db-shm"}) {
            fs::remove(dir / stale);
        }
    }

    SystemClock clock;
    auto ca_key = crypto::generate_key(ca_spec);
    auto ca_cert = backend::local::create_root_ca(*ca_key, vm["ca-subject"].as<std::string>(),
                                                  vm["ca-validity-days"].as<int>(), clock);
    const int ra_days = vm["ra-validity-days"].as<int>();
    auto sign_key = crypto::generate_key(ra_spec);
    auto sign_cert = backend::local::issue_ra_certificate(*ca_cert, *ca_key, *sign_key,
                                                          vm["ra-signing-subject"].as<std::string>(),
                                                          backend::local::RaRole::signing, ra_days, clock);
    auto enc_key = crypto::generate_key(ra_spec);
    auto enc_cert = backend::local::issue_ra_certificate(*ca_cert, *ca_key, *enc_key,
                                                         vm["ra-encryption-subject"].as<std::string>(),
                                                         backend::local::RaRole::encryption, ra_days, clock);

    crypto::save_key_file(dir / "private/ca.key", *ca_key, force);
    crypto::save_cert_file(dir / "ca.pem", *ca_cert, force);
    crypto::save_key_file(dir / "private/ra-signing.key", *sign_key, force);
    crypto::save_cert_file(dir / "ra-signing.pem", *sign_cert, force);
    crypto::save_key_file(dir / "private/ra-encryption.key", *enc_key, force);
    crypto::save_cert_file(dir / "ra-encryption.pem", *enc_cert, force);
    if (force) {
        fs::remove(dir / "private/challenge-hmac.key");
    }
    store::ChallengeStore::load_or_create_key(dir / "private/challenge-hmac.key");
    crypto::write_file(conf, default_config_text(vm["listen"].as<std::string>()), 0640, force);

    // Validate what we wrote exactly as `serve` will read it, then create the schema.
    AppConfig config = load_config(conf);
    store::Database::open(config.database, true);

    std::cout << "created scep-ra instance in " << dir.string() << "\n"
              << "  config:   " << conf.string() << "\n"
              << "  CA:       " << crypto::name_string(*X509_get_subject_name(ca_cert.get())) << "\n"
              << "  database: " << config.database.string() << "\n"
              << "run it with: scep-ra serve --config " << conf.string() << "\n";
    return exit_ok;
}

}  // namespace scepra::cli
