// SPDX-License-Identifier: Apache-2.0
// `scep-ra init`: a ready instance on the embedded defaults (local CA, SQLite).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/app_config.hpp"
#include "cli/init_remote.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/openssl_error.hpp"
#include "local/ca_setup.hpp"
#include "local/local_ca_store.hpp"
#include "local/serial.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

/// A TLS server certificate for the admin page listener, issued by the local
/// CA, valid for localhost, the loopback addresses and this host's name.
crypto::X509Ptr issue_admin_tls_certificate(X509& ca_cert, EVP_PKEY& ca_key, EVP_PKEY& key,
                                            const std::string& host, int days) {
    crypto::X509Ptr cert(X509_new());
    crypto::check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), X509_VERSION_3);
    auto serial = backend::local::random_serial();
    X509_set_serialNumber(cert.get(), serial.get());
    auto subject = backend::local::parse_subject("CN=" + host + ",O=scep-ra admin");
    X509_set_subject_name(cert.get(), subject.get());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(&ca_cert));
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * days);
    if (ASN1_TIME_compare(X509_get0_notAfter(&ca_cert), X509_get0_notAfter(cert.get())) < 0) {
        X509_set1_notAfter(cert.get(), X509_get0_notAfter(&ca_cert));
    }
    X509_set_pubkey(cert.get(), &key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, &ca_cert, cert.get(), nullptr, nullptr, 0);
    backend::local::add_extension(*cert, ctx, NID_basic_constraints, "critical,CA:FALSE");
    backend::local::add_extension(*cert, ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    backend::local::add_extension(*cert, ctx, NID_ext_key_usage, "serverAuth");
    backend::local::add_extension(
        *cert, ctx, NID_subject_alt_name,
        "DNS:localhost,IP:127.0.0.1,IP:::1" + (host == "localhost" ? "" : ",DNS:" + host));
    backend::local::add_extension(*cert, ctx, NID_subject_key_identifier, "hash");
    backend::local::add_extension(*cert, ctx, NID_authority_key_identifier, "keyid:always");
    auto md = backend::local::signing_digest(ca_key, "SHA256");
    crypto::check(X509_sign(cert.get(), &ca_key, md.get()) > 0, "X509_sign");
    return cert;
}

}  // namespace

int init_command(const Args& args) {
    const std::string host = local_host_name();
    po::options_description desc("options");
    desc.add_options()("dir", po::value<std::string>()->required(), "instance directory to create")(
        "state-dir", po::value<std::string>(),
        "keep the database, certificates and private keys here (e.g. /var/lib/scep-ra), named by absolute "
        "paths "
        "in DIR/scep-ra.conf; default: DIR itself")(
        "pid-file", po::value<std::string>(),
        "[server] pid_file to write; default scep-ra.pid in DIR, /run/scep-ra/scep-ra.pid with --state-dir")(
        "key-type", po::value<std::string>()->default_value("rsa:2048"),
        "RA keys: rsa:2048|3072|4096 (SCEP clients encrypt to the RA with RSA)")(
        "ca-key-type", po::value<std::string>()->default_value("rsa:2048"),
        "local CA key: rsa:BITS or ec:P-256|P-384")(
        "ca-subject", po::value<std::string>()->default_value("CN=scep-ra Local CA,O=scep-ra"),
        "local CA subject")("ra-signing-subject",
                            po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA,O=scep-ra"),
                            "RA signing certificate subject")(
        "ra-encryption-subject",
        po::value<std::string>()->default_value("CN=" + host + "-MSCEP-RA-ENC,O=scep-ra"),
        "RA encryption certificate subject")("ca-validity-days", po::value<int>()->default_value(3650),
                                             "local CA validity")(
        "ra-validity-days", po::value<int>()->default_value(730), "RA certificates' validity")(
        "listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
        "SCEP listen address written to the config")(
        "admin-listen", po::value<std::string>()->default_value("127.0.0.1:8443"),
        "admin page listen address (HTTPS with a certificate from the local CA); 'none' = no admin listener")(
        "force", po::bool_switch(), "replace an existing instance (new CA, new RA keys, empty database)")(
        "backend", po::value<std::string>()->default_value("local"),
        "CA backend: local (an embedded CA is made), ejbca or adcs (no local CA; see init_remote.cpp)")(
        "ra-signing-cert", po::value<std::string>(),
        "with --backend ejbca|adcs: the RA signing certificate (PEM)")(
        "ra-signing-key", po::value<std::string>(), "its private key (PEM)")(
        "ra-encryption-cert", po::value<std::string>(), "the RA encryption certificate (PEM)")(
        "ra-encryption-key", po::value<std::string>(), "its private key (PEM)");
    po::variables_map vm;
    if (auto stop = parse_options("init",
                                  "Creates DIR/scep-ra.conf, a local CA, the RA signing and encryption\n"
                                  "certificates issued by it, and the SQLite database.",
                                  desc, args, vm)) {
        return *stop;
    }
    if (vm["backend"].as<std::string>() != "local") {
        return init_remote(vm);
    }

    const fs::path conf_dir = fs::absolute(vm["dir"].as<std::string>());
    const fs::path conf = conf_dir / "scep-ra.conf";
    InstanceLayout layout;
    if (vm.count("state-dir")) {
        layout.state_dir = fs::absolute(vm["state-dir"].as<std::string>()).lexically_normal();
        layout.pid_file = "/run/scep-ra/scep-ra.pid";  // the service's RuntimeDirectory
    }
    if (vm.count("pid-file")) {
        layout.pid_file = vm["pid-file"].as<std::string>();
    }
    const fs::path dir = layout.state_dir.empty() ? conf_dir : layout.state_dir;  // where the files go
    const bool force = vm["force"].as<bool>();
    for (const fs::path& existing : {conf, dir / "scep-ra.db"}) {
        if (fs::exists(existing) && !force) {
            std::cerr << "scep-ra init: " << existing.string()
                      << " already exists; use --force to replace the instance\n";
            return exit_refused;
        }
    }
    auto ra_spec = crypto::KeySpec::parse(vm["key-type"].as<std::string>());
    if (ra_spec.type != crypto::KeySpec::Type::rsa) {
        std::cerr << "scep-ra init: --key-type must be RSA: SCEP clients encrypt to the RA with RSA key "
                     "transport\n";
        return exit_usage;
    }
    auto ca_spec = crypto::KeySpec::parse(vm["ca-key-type"].as<std::string>());

    fs::create_directories(conf_dir);
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
        fs::remove(dir / "private/csr-seal.key");
    }
    store::ChallengeStore::load_or_create_key(dir / "private/challenge-hmac.key");
    // Seals the CSRs waiting for manual approval (the local CA's csr_key_file default: beside ca.key).
    store::ChallengeStore::load_or_create_key(dir / "private/csr-seal.key");
    std::string admin_listen = vm["admin-listen"].as<std::string>();
    std::string admin_cert, admin_key;
    crypto::X509Ptr tls_cert;
    if (admin_listen == "none") {
        admin_listen.clear();
    } else {
        auto tls_key = crypto::generate_key(ra_spec);
        tls_cert = issue_admin_tls_certificate(*ca_cert, *ca_key, *tls_key, host, ra_days);
        crypto::save_key_file(dir / "private/admin-tls.key", *tls_key, force);
        crypto::save_cert_file(dir / "admin-tls.pem", *tls_cert, force);
        admin_cert = "admin-tls.pem";
        admin_key = "private/admin-tls.key";
    }
    crypto::write_file(
        conf,
        default_config_text(vm["listen"].as<std::string>(), admin_listen, admin_cert, admin_key, layout),
        0640, force);

    // Validate what we wrote exactly as `serve` will read it, then create the schema.
    AppConfig config = load_config(conf);
    auto db = store::Database::open(config.database, true);
    // Everything the local CA signs is in its issued_certs, so that it can be revoked.
    db->write([&](store::Database& d) {
        backend::local::record_certificate(d, *sign_cert, "ra-signing", clock.now());
        backend::local::record_certificate(d, *enc_cert, "ra-encryption", clock.now());
        if (tls_cert) {
            backend::local::record_certificate(d, *tls_cert, "admin-tls", clock.now());
        }
    });
    fs::permissions(config.database, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read,
                    fs::perm_options::replace);

    std::cout << "created scep-ra instance in " << dir.string() << "\n"
              << "  config:   " << conf.string() << "\n"
              << "  CA:       " << crypto::name_string(*X509_get_subject_name(ca_cert.get())) << "\n"
              << "  database: " << config.database.string() << "\n"
              << "run it with: scep-ra serve --config " << conf.string() << "\n";
    if (!admin_listen.empty()) {
        std::cout << "admin page: https://" << admin_listen << "/certsrv/mscep_admin/ (add an account with: "
                  << "scep-ra admin add NAME --config " << conf.string() << ")\n";
    }
    return exit_ok;
}

}  // namespace scepra::cli
