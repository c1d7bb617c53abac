// SPDX-License-Identifier: Apache-2.0
// Dispatches `scep-ra SUBCOMMAND ...` to the subcommand functions.
#include "cli/cli.hpp"

#include <iostream>

#include "cli/commands.hpp"
#include "cli/init_remote.hpp"

namespace scepra::cli {

namespace {
constexpr const char* usage_text =
    "usage: scep-ra COMMAND [OPTIONS]\n"
    "\n"
    "A SCEP registration authority (RFC 8894), drop-in for Microsoft NDES.\n"
    "\n"
    "commands:\n"
    "  init      create an instance: config, local CA (or --backend ejbca|adcs), RA certificates, database\n"
    "  serve     run the SCEP service\n"
    "  check-config  validate a configuration and the files it names, without starting anything\n"
    "  password  enrollment challenge passwords: issue, list, revoke, set-single, mode\n"
    "  admin     admin page accounts: add, remove, list\n"
    "  audit     print the audit trail; purge old records\n"
    "  lockout   addresses and subjects locked out for failed challenges: list, clear\n"
    "  reload    apply changed [password] settings to the running server\n"
    "  request   manual approval: list, approve, deny\n"
    "  revoke    revoke a certificate at the CA backend (local CA or EJBCA)\n"
    "  ra        RA and CA rollover: rollover, activate; enroll (RA certificates from EJBCA)\n"
    "  import    import an NDES server: registry settings and RA certificates\n"
    "  backup    copy the database consistently while the server runs\n"
    "  doctor    check certificates, keys, database and permissions; print each fix\n"
    "\n"
    "Run 'scep-ra COMMAND --help' for the options of a command.\n";
}

int run(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << usage_text;
        return exit_usage;
    }
    const std::string command = argv[1];
    const Args args(argv + 2, argv + argc);
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << usage_text;
        return exit_ok;
    }
    if (command == "--version") {
        std::cout << "scep-ra 0.1.0\n";
        return exit_ok;
    }
    try {
        if (command == "init") return init_command(args);
        if (command == "serve") return serve_command(args);
        if (command == "check-config") return check_config_command(args);
        if (command == "password") return password_command(args);
        if (command == "admin") return admin_command(args);
        if (command == "audit") return audit_command(args);
        if (command == "reload") return reload_command(args);
        if (command == "request") return request_command(args);
        if (command == "revoke") return revoke_command(args);
        if (command == "ra" && !args.empty() && args.front() == "enroll") {
            return ra_enroll_command(Args(args.begin() + 1, args.end()));
        }
        if (command == "ra") return ra_command(args);
        if (command == "lockout") return lockout_command(args);
        if (command == "import") return import_command(args);
        if (command == "backup") return backup_command(args);
        if (command == "doctor") return doctor_command(args);
    } catch (const std::exception& e) {
        std::cerr << "scep-ra " << command << ": " << e.what() << "\n";
        return exit_failure;
    }
    std::cerr << "scep-ra: unknown command '" << command << "'\n\n" << usage_text;
    return exit_usage;
}

}  // namespace scepra::cli
