// SPDX-License-Identifier: Apache-2.0
// `scep-ra admin add|remove|list`: accounts of the admin page.
#include <algorithm>
#include <iostream>
#include <optional>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "cli/secret_input.hpp"
#include "common/json.hpp"
#include "http/ntlm.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

/// Options shared by the three subcommands: --config, and NAME as a positional.
struct AdminArgs {
    po::options_description desc{"options"};
    po::positional_options_description pos;
    po::variables_map vm;
    AdminArgs(bool with_name) {
        desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file");
        if (with_name) {
            desc.add_options()("name", po::value<std::string>()->required(), "account name");
            pos.add("name", 1);
        }
    }
};

}  // namespace

int admin_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra admin SUBCOMMAND [OPTIONS]\n\n"
        "subcommands:\n"
        "  add NAME      create an admin page account; password from stdin or --password-file;\n"
        "                --role issue (default: gets challenge passwords) or view (logs in, gets\n"
        "                NDES's permission-denied page)\n"
        "  remove NAME   delete an account, and revoke the unused passwords it issued\n"
        "  list          list accounts: name, role, created (--json)\n";
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        (args.empty() ? std::cerr : std::cout) << summary;
        return args.empty() ? exit_usage : exit_ok;
    }
    const std::string sub = args[0];
    const Args rest(args.begin() + 1, args.end());
    if (sub != "add" && sub != "remove" && sub != "list") {
        std::cerr << "scep-ra admin: unknown subcommand '" << sub << "'\n\n" << summary;
        return exit_usage;
    }
    AdminArgs a(sub != "list");
    if (sub == "add") {
        a.desc.add_options()("password-file", po::value<std::string>()->default_value("-"),
                             "read the password from this file (default: stdin)")(
            "role", po::value<std::string>()->default_value("issue"),
            "issue: gets a challenge password on each visit; view: logs in but gets NDES's permission-denied "
            "page");
    }
    if (sub == "list") {
        a.desc.add_options()("json", po::bool_switch(), "one JSON object per line");
    }
    if (auto stop = parse_options("admin " + sub, "Manages the accounts allowed on /certsrv/mscep_admin/.",
                                  a.desc, rest, a.vm, &a.pos)) {
        return *stop;
    }
    std::optional<store::AdminRole> role;
    if (sub == "add") {
        role = store::parse_role(a.vm["role"].as<std::string>());
        if (!role) {
            std::cerr << "scep-ra admin add: --role must be issue or view, not '"
                      << a.vm["role"].as<std::string>() << "'\n";
            return exit_usage;
        }
    }
    AppConfig config = load_config(a.vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    if (sub == "add") {
        const std::string name = a.vm["name"].as<std::string>();
        std::string secret = read_secret(a.vm["password-file"].as<std::string>(), "password");
        try {
            // NTLMv2 needs the NT hash (password-equivalent: stored sealed).
            Bytes nt_hash = http::ntlm::nt_hash(secret);
            const Bytes sealed = http::ntlm::seal_nt_hash(
                store::ChallengeStore::load_or_create_key(config.hmac_key_file), name, nt_hash);
            std::fill(nt_hash.begin(), nt_hash.end(), 0);
            stores.admins->add(name, secret, *role, sealed);
        } catch (const std::invalid_argument& e) {
            std::fill(secret.begin(), secret.end(), '\0');
            std::cerr << "scep-ra admin add: " << e.what() << "\n";
            return exit_refused;
        }
        std::fill(secret.begin(), secret.end(), '\0');
        std::cout << "added admin " << name << " (role " << store::role_name(*role) << ")\n";
        return exit_ok;
    }
    if (sub == "remove") {
        const std::string name = a.vm["name"].as<std::string>();
        if (!stores.admins->remove(name)) {
            std::cerr << "scep-ra admin remove: no admin named " << name << "\n";
            return exit_failure;
        }
        // Removed first, so the account can issue none after its passwords are revoked.
        const int revoked = stores.challenges->revoke_issued_by(name, "cli");
        std::cout << "removed admin " << name << "; revoked " << revoked
                  << " unused one-time password(s) it had issued\n";
        return exit_ok;
    }
    for (const auto& account : stores.admins->list()) {
        if (a.vm["json"].as<bool>()) {
            std::cout << JsonObject()
                             .add("name", account.name)
                             .add("role", store::role_name(account.role))
                             .add("created_at", account.created_at)
                             .str()
                      << "\n";
        } else {
            std::cout << account.name << '\t' << store::role_name(account.role) << '\t' << account.created_at
                      << "\n";
        }
    }
    return exit_ok;
}

}  // namespace scepra::cli
