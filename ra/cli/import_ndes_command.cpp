// SPDX-License-Identifier: Apache-2.0
// `scep-ra import ndes`: an NDES server's registry settings and RA certificates
// moved into an existing instance, so devices that cached NDES's RA
// certificates keep enrolling.
#include <termios.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/app_config.hpp"
#include "cli/config_rewriter.hpp"
#include "cli/ndes_registry.hpp"
#include "cli/options.hpp"
#include "cli/pfx_import.hpp"
#include "cli/secret_input.hpp"
#include "crypto/encoding.hpp"

namespace scepra::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* summary =
    "Imports an NDES server into this instance: the settings of a `reg export` of\n"
    "HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP ([password] and [templates] of --config),\n"
    "and NDES's RA signing and encryption certificates with their keys from PFX files.\n"
    "PFX passwords are read from standard input, one line per PFX (signing first),\n"
    "or asked for on the terminal. Prints what it set and what it could not map.";

/// Turns terminal echo off while a password is typed; does nothing when stdin is not a terminal.
class EchoOff {
  public:
    EchoOff() {
        if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &m_saved) == 0) {
            termios quiet = m_saved;
            quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
            m_active = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        }
    }
    ~EchoOff() {
        if (m_active) {
            ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved);
            std::cerr << "\n";
        }
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

  private:
    termios m_saved{};
    bool m_active = false;
};

std::string read_pfx_password(const std::string& file) {
    if (::isatty(STDIN_FILENO)) {
        std::cerr << "password of " << file << ": " << std::flush;
    }
    EchoOff quiet;
    return read_secret("-", "password of " + file);
}

std::string read_bounded(const fs::path& file, size_t limit, const std::string& what) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) {
        throw std::runtime_error("cannot read " + what + " " + file.string() + ": " + ec.message());
    }
    if (size > limit) {
        throw std::runtime_error(what + " " + file.string() + " is larger than " + std::to_string(limit) +
                                 " bytes");
    }
    return crypto::read_file(file);
}

/// One RA certificate and key to install, with where they go.
struct RaImport {
    RaRole role;
    fs::path pfx;
    fs::path cert_file;
    fs::path key_file;
    PfxContents contents;
};

/// A copy of file as file.bak with the same mode. An existing .bak is kept: after
/// repeated imports it still holds what was there before the first one.
void back_up(const fs::path& file) {
    fs::path bak = file;
    bak += ".bak";
    if (!fs::exists(file) || fs::exists(bak)) {
        return;
    }
    const auto mode = static_cast<unsigned>(fs::status(file).permissions() & fs::perms::mask);
    crypto::write_file(bak, crypto::read_file(file), mode, true);
}

void install(const RaImport& ra) {
    const fs::path key_dir = ra.key_file.parent_path();
    if (!fs::exists(key_dir)) {
        fs::create_directories(key_dir);
        fs::permissions(key_dir, fs::perms::owner_all, fs::perm_options::replace);
    }
    back_up(ra.cert_file);
    back_up(ra.key_file);
    crypto::save_key_file(ra.key_file, *ra.contents.key, true);  // 0600
    crypto::save_cert_file(ra.cert_file, *ra.contents.cert, true);
}

std::string role_name(RaRole role) { return role == RaRole::signing ? "RA signing" : "RA encryption"; }

int import_ndes_command(const Args& args) {
    po::options_description desc("options");
    // clang-format off
    desc.add_options()
        ("config", po::value<std::string>()->required(), "scep-ra.conf of the instance (made by `scep-ra init`)")
        ("registry", po::value<std::string>()->required(),
         "reg export of HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP (UTF-16 or REGEDIT4)")
        ("ra-signing-pfx", po::value<std::string>(),
         "NDES's Exchange Enrollment Agent (Offline request) certificate and key")
        ("ra-encryption-pfx", po::value<std::string>(), "NDES's CEP Encryption certificate and key")
        ("dry-run", po::bool_switch(), "print what would change, write nothing");
    // clang-format on
    po::variables_map vm;
    if (auto stop = parse_options("import ndes", summary, desc, args, vm)) {
        return *stop;
    }
    const fs::path conf = vm["config"].as<std::string>();
    const fs::path reg_file = vm["registry"].as<std::string>();
    const bool dry_run = vm["dry-run"].as<bool>();
    const AppConfig config = load_config(conf);

    const auto reg =
        ndes::parse_registry_export(read_bounded(reg_file, ndes::max_export_bytes, "registry export"));
    if (!reg.errors.empty()) {
        for (const auto& e : reg.errors) {
            std::cerr << "scep-ra import ndes: " << reg_file.string() << " " << e << "\n";
        }
        std::cerr << "scep-ra import ndes: nothing written\n";
        return exit_failure;
    }
    const auto mapping = ndes::map_ndes_settings(reg);

    std::vector<RaImport> imports;
    if (vm.count("ra-signing-pfx")) {
        imports.push_back({RaRole::signing,
                           vm["ra-signing-pfx"].as<std::string>(),
                           config.signing_cert,
                           config.signing_key,
                           {}});
    }
    if (vm.count("ra-encryption-pfx")) {
        imports.push_back({RaRole::encryption,
                           vm["ra-encryption-pfx"].as<std::string>(),
                           config.encryption_cert,
                           config.encryption_key,
                           {}});
    }
    for (auto& ra : imports) {
        const std::string der = read_bounded(ra.pfx, max_pfx_bytes, "PFX");
        const std::string password = read_pfx_password(ra.pfx.string());
        try {
            ra.contents = read_pfx(as_bytes(der), password);
        } catch (const std::exception& e) {
            std::cerr << "scep-ra import ndes: " << ra.pfx.string() << ": " << e.what()
                      << "\nnothing written\n";
            return exit_failure;
        }
    }

    std::vector<crypto::X509Ptr> anchor_certs;
    anchor_certs.push_back(crypto::load_cert_file(config.local_ca.cert_file));
    if (!config.local_ca.chain_file.empty()) {
        for (auto& c : crypto::load_certs_file(config.local_ca.chain_file))
            anchor_certs.push_back(std::move(c));
    }
    CaAnchors anchors;
    anchors.local_backend = config.backend == "local";
    for (const auto& c : anchor_certs) anchors.trusted.push_back(c.get());
    std::vector<std::string> refusals;
    for (const auto& ra : imports) {
        auto check = check_ra_certificate(ra.contents, ra.role, anchors, std::time(nullptr));
        for (const auto& w : check.warnings) std::cout << "warning: " << w << "\n";
        refusals.insert(refusals.end(), check.refusals.begin(), check.refusals.end());
    }
    if (!refusals.empty()) {
        for (const auto& r : refusals) std::cerr << "refused: " << r << "\n";
        std::cerr << "scep-ra import ndes: nothing written\n";
        return exit_refused;
    }

    std::string text = crypto::read_file(conf);
    for (const auto& s : mapping.settings) {
        text = set_ini_value(text, s.section, s.key, s.value);
        std::cout << "set [" << s.section << "] " << s.key << " = " << s.value << " ("
                  << reg_file.filename().string() << " line " << s.line << ")\n";
    }
    for (const auto& r : mapping.refused) std::cout << "not set: " << r << "\n";
    for (const auto& n : mapping.not_mapped) std::cout << "not mapped: " << n << "\n";
    for (const auto& i : reg.ignored)
        std::cout << "ignored: " << reg_file.filename().string() << " " << i << "\n";
    for (const auto& ra : imports) {
        std::cout << "set " << role_name(ra.role) << " certificate "
                  << crypto::name_string(*X509_get_subject_name(ra.contents.cert.get())) << " (serial "
                  << crypto::serial_hex(*ra.contents.cert) << ") -> " << ra.cert_file.string() << ", "
                  << ra.key_file.string() << "\n";
    }
    if (dry_run) {
        std::cout << "dry run: nothing written\n";
        return exit_ok;
    }

    // The new configuration is loaded by scep-ra's own loader before it replaces the old one; the
    // candidate sits beside it so that relative paths resolve the same way.
    fs::path candidate = conf;
    candidate += ".import";
    const auto conf_mode = static_cast<unsigned>(fs::status(conf).permissions() & fs::perms::mask);
    crypto::write_file(candidate, text, conf_mode, true);
    try {
        load_config(candidate);
    } catch (const ConfigError& e) {
        fs::remove(candidate);
        std::cerr << "scep-ra import ndes: the imported settings would not load:\n"
                  << e.what() << "\nnothing written\n";
        return exit_failure;
    }
    for (const auto& ra : imports) {
        install(ra);
    }
    back_up(conf);
    fs::rename(candidate, conf);
    std::cout << "written; restart `scep-ra serve` to use the imported settings and certificates"
              << (imports.empty() ? "" : " (previous RA files kept as *.bak)") << "\n";
    return exit_ok;
}

}  // namespace

int import_command(const Args& args) {
    return run_subcommand("import",
                          "usage: scep-ra import ndes --config FILE --registry MSCEP.reg "
                          "[--ra-signing-pfx F] [--ra-encryption-pfx F] [--dry-run]\n\n" +
                              std::string(summary) + "\n",
                          args, {{"ndes", import_ndes_command}});
}

}  // namespace scepra::cli
