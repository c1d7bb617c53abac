// SPDX-License-Identifier: Apache-2.0
// `scep-ra audit`: the audit trail, filtered, as a table or JSON lines.
#include <iostream>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "common/json.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

int audit_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()
        ("config", po::value<std::string>()->required(), "instance configuration file")
        ("since", po::value<std::string>(), "from this UTC time on, 'YYYY-MM-DD[ HH:MM:SS]'")
        ("until", po::value<std::string>(), "before this UTC time")
        ("subject", po::value<std::string>(), "subject DN contains this text")
        ("transaction", po::value<std::string>(), "this SCEP transactionID")
        ("outcome", po::value<std::string>(), "issued | pending | rejected | error")
        ("limit", po::value<int>()->default_value(1000), "at most this many (the newest)")
        ("json", po::bool_switch(), "one JSON object per line");
    po::variables_map vm;
    if (auto stop = parse_options("audit", "Prints the decisions the RA took, oldest first.", desc, args, vm)) {
        return *stop;
    }
    store::AuditFilter filter;
    auto opt = [&](const char* key) -> std::optional<std::string> {
        return vm.count(key) ? std::optional(vm[key].as<std::string>()) : std::nullopt;
    };
    filter.since = opt("since");
    filter.until = opt("until");
    filter.subject = opt("subject");
    filter.transaction_id = opt("transaction");
    filter.decision = opt("outcome");
    filter.limit = vm["limit"].as<int>();
    if (filter.decision && *filter.decision != "issued" && *filter.decision != "pending" &&
        *filter.decision != "rejected" && *filter.decision != "error") {
        std::cerr << "scep-ra audit: --outcome must be issued, pending, rejected or error\n";
        return exit_usage;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    Stores stores = open_stores(config, clock);
    const bool json = vm["json"].as<bool>();
    for (const auto& r : stores.audit->query(filter)) {
        if (json) {
            std::cout << JsonObject()
                             .add("id", r.id)
                             .add("at", r.at)
                             .add("peer", r.peer)
                             .add("operation", r.operation)
                             .add("message_type", r.message_type)
                             .add("transaction_id", r.transaction_id)
                             .add("subject", r.subject)
                             .add("decision", r.decision)
                             .add("fail_info", r.fail_info)
                             .add("detail", r.detail)
                             .add("serial", r.serial)
                             .add("challenge_id", r.challenge_id)
                             .str()
                      << "\n";
        } else {
            std::cout << r.at << '\t' << r.peer << '\t' << r.message_type.value_or(r.operation) << '\t'
                      << r.transaction_id.value_or("-") << '\t' << r.subject.value_or("-") << '\t' << r.decision
                      << '\t' << r.fail_info.value_or("-") << '\t' << r.serial.value_or(r.detail.value_or("-"))
                      << "\n";
        }
    }
    return exit_ok;
}

}  // namespace scepra::cli
