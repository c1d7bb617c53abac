// SPDX-License-Identifier: Apache-2.0
// `scep-ra password ...`: enrollment challenge passwords from the command line.
#include <iostream>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "cli/secret_input.hpp"
#include "common/json.hpp"
#include "common/utf8.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

const char* mode_name(const core::PasswordSettings& s) {
    if (!s.enforce_password) return "none";
    return s.use_single_password ? "single" : "one-time";
}

int password_issue(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "subject", po::value<std::string>(),
        "bind to a device: glob on the CN or a DNS/email SAN, e.g. 'router-*'")(
        "template", po::value<std::string>(), "bind to a certificate template")(
        "validity", po::value<int>(), "minutes this password stays valid (default: PasswordValidity)");
    po::variables_map vm;
    if (auto stop = parse_options("password issue",
                                  "Issues one one-time challenge password and prints it alone on stdout.",
                                  desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    if (!config.password.enforce_password) {
        std::cerr << "scep-ra password issue: note: EnforcePassword is 0, so requests need no password\n";
    } else if (config.password.use_single_password) {
        std::cerr << "scep-ra password issue: note: UseSinglePassword is 1, so one-time passwords are not "
                     "accepted\n";
    }
    store::ChallengeBinding binding;
    if (vm.count("subject")) binding.expected_subject = vm["subject"].as<std::string>();
    if (vm.count("template")) binding.template_name = vm["template"].as<std::string>();
    if (vm.count("validity")) {
        int minutes = vm["validity"].as<int>();
        if (minutes < 1) {
            std::cerr << "scep-ra password issue: --validity must be at least 1 minute\n";
            return exit_usage;
        }
        binding.validity = std::chrono::minutes(minutes);
    }
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    try {
        store::IssuedChallenge issued =
            stores.challenges->issue(config.password.one_time, "cli", std::nullopt, binding);
        std::cout << issued.password << std::endl;
    } catch (const store::ChallengeCacheFull& e) {
        std::cerr << "scep-ra password issue: " << e.what() << " " << config.password.one_time.max_outstanding
                  << " unused passwords are outstanding (PasswordMax); use or let one expire first\n";
        return exit_refused;
    }
    return exit_ok;
}

int password_list(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "json", po::bool_switch(), "one JSON object per line");
    po::variables_map vm;
    if (auto stop = parse_options(
            "password list", "Lists one-time passwords (never the passwords themselves).", desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    const bool json = vm["json"].as<bool>();
    if (!json) {
        std::cout << "ID\tSTATE\tCREATED\tEXPIRES\tISSUED BY\tUSED BY TRANSACTION\tBOUND TO\n";
    }
    for (const auto& c : stores.challenges->list()) {
        if (json) {
            std::cout << JsonObject()
                             .add("id", c.id)
                             .add("state", c.state)
                             .add("created_at", c.created_at)
                             .add("expires_at", c.expires_at)
                             .add("issued_by", c.issued_by)
                             .add("issued_from", c.issued_from)
                             .add("used_at", c.used_at)
                             .add("used_by_transaction", c.used_by_transaction)
                             .add("revoked_at", c.revoked_at)
                             .add("expected_subject", c.expected_subject)
                             .add("template", c.template_name)
                             .str()
                      << "\n";
        } else {
            // The binding is an admin's text and the transaction a device's: an escape sequence in
            // either must not reach the operator's terminal.
            std::string bound = escape_for_terminal(c.expected_subject.value_or(""));
            if (c.template_name)
                bound += (bound.empty() ? "" : " ") + std::string("template=") +
                         escape_for_terminal(*c.template_name);
            std::cout << c.id << '\t' << c.state << '\t' << c.created_at << '\t' << c.expires_at << '\t'
                      << escape_for_terminal(c.issued_by) << '\t'
                      << escape_for_terminal(c.used_by_transaction.value_or("-")) << '\t'
                      << (bound.empty() ? "-" : bound) << "\n";
        }
    }
    return exit_ok;
}

int password_revoke(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "id", po::value<std::int64_t>()->required(), "the password's id (from `password list`)");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (auto stop = parse_options("password revoke", "Revokes an unused one-time password: ID.", desc, args,
                                  vm, &pos)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    if (!stores.challenges->revoke(vm["id"].as<std::int64_t>(), "cli")) {
        std::cerr << "scep-ra password revoke: no unused, unrevoked password with id "
                  << vm["id"].as<std::int64_t>() << "\n";
        return exit_failure;
    }
    std::cout << "revoked " << vm["id"].as<std::int64_t>() << "\n";
    return exit_ok;
}

int password_set_single(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "file", po::value<std::string>()->default_value("-"),
        "read the password from this file (default: stdin)");
    po::variables_map vm;
    if (auto stop =
            parse_options("password set-single",
                          "Sets the single reusable password (UseSinglePassword = 1) from stdin or --file;\n"
                          "a running server uses it at once.",
                          desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    std::string secret = read_secret(vm["file"].as<std::string>(), "password");
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    stores.single_password->set(secret, "cli");
    std::fill(secret.begin(), secret.end(), '\0');
    std::cout << "single password set"
              << (config.password.use_single_password ? "" : " (note: UseSinglePassword is 0)") << "\n";
    return exit_ok;
}

int password_mode(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "json", po::bool_switch(), "print JSON");
    po::variables_map vm;
    if (auto stop =
            parse_options("password mode", "Shows the password mode and its settings.", desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    const auto& p = config.password;
    const auto single_set = stores.single_password->set_at();
    const int outstanding = stores.challenges->outstanding();
    if (vm["json"].as<bool>()) {
        std::cout << JsonObject()
                         .add("mode", mode_name(p))
                         .add("EnforcePassword", p.enforce_password)
                         .add("UseSinglePassword", p.use_single_password)
                         .add("PasswordMax", p.one_time.max_outstanding)
                         .add("PasswordLength", p.one_time.length_bytes)
                         .add("PasswordValidity", static_cast<int>(p.one_time.validity.count()))
                         .add("outstanding", outstanding)
                         .add("single_password_set_at", single_set)
                         .str()
                  << "\n";
    } else {
        std::cout << "mode: " << mode_name(p) << "\n"
                  << "EnforcePassword = " << p.enforce_password
                  << "\nUseSinglePassword = " << p.use_single_password
                  << "\nPasswordMax = " << p.one_time.max_outstanding
                  << "\nPasswordLength = " << p.one_time.length_bytes
                  << "\nPasswordValidity = " << p.one_time.validity.count() << "\n"
                  << "outstanding one-time passwords: " << outstanding << "\n"
                  << "single password: " << (single_set ? "set " + *single_set : std::string("not set"))
                  << "\n";
    }
    return exit_ok;
}

}  // namespace

int password_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra password SUBCOMMAND [OPTIONS]\n\n"
        "subcommands:\n"
        "  issue        issue a one-time challenge password and print it\n"
        "  list         list one-time passwords (no secrets)\n"
        "  revoke ID    revoke an unused one-time password\n"
        "  set-single   set the single reusable password (from stdin or --file)\n"
        "  mode         show the password mode\n";
    return run_subcommand("password", summary, args,
                          {{"issue", password_issue},
                           {"list", password_list},
                           {"revoke", password_revoke},
                           {"set-single", password_set_single},
                           {"mode", password_mode}});
}

}  // namespace scepra::cli
