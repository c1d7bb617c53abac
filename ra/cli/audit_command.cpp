// SPDX-License-Identifier: Apache-2.0
// `scep-ra audit`: the audit trail, filtered, as a table or JSON lines;
// `scep-ra audit purge`: deletes records older than the retention period.
#include <iostream>
#include <regex>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "common/json.hpp"
#include "common/utf8.hpp"
#include "store/retention.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

int audit_purge(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "before", po::value<std::string>(),
        "delete what is older than this UTC time, 'YYYY-MM-DD[ HH:MM:SS]' (default: [audit] retention_days "
        "ago)");
    po::variables_map vm;
    if (auto stop =
            parse_options("audit purge",
                          "Deletes audit events, admin logins, password events, throttle entries and used\n"
                          "one-time passwords nothing refers to any more, older than --before.",
                          desc, args, vm)) {
        return *stop;
    }
    AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    std::string before;
    if (vm.count("before")) {
        before = vm["before"].as<std::string>();
        static const std::regex format(R"(\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?)");
        if (!std::regex_match(before, format)) {
            std::cerr
                << "scep-ra audit purge: --before must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC)\n";
            return exit_usage;
        }
    } else if (config.audit_retention_days == 0) {
        std::cout << "[audit] retention_days is 0 (keep forever): nothing purged; give --before to purge\n";
        return exit_ok;
    } else {
        before = sql_time(clock.now() - std::chrono::hours(24) * config.audit_retention_days);
    }
    Stores stores = open_stores(config, clock);
    const store::PurgeCounts n = store::Retention(*stores.db).purge_before(before);
    std::cout << "purged before " << before << ": " << n.audit_events << " audit events, " << n.admin_logins
              << " admin logins, " << n.password_events << " password events, " << n.challenges
              << " one-time passwords, " << n.challenge_failures << " throttle entries\n";
    return exit_ok;
}

/// A field of the text output: client-chosen text cannot drive the terminal or forge columns.
std::string field(const std::string& text) { return escape_for_terminal(text); }

}  // namespace

int audit_command(const Args& args) {
    if (!args.empty() && args[0] == "purge") {
        return audit_purge(Args(args.begin() + 1, args.end()));
    }
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "since", po::value<std::string>(), "from this UTC time on, 'YYYY-MM-DD[ HH:MM:SS]'")(
        "until", po::value<std::string>(), "before this UTC time")("subject", po::value<std::string>(),
                                                                   "subject DN contains this text")(
        "transaction", po::value<std::string>(), "this SCEP transactionID")(
        "outcome", po::value<std::string>(), "issued | pending | rejected | error")(
        "limit", po::value<int>()->default_value(1000), "at most this many (the newest)")(
        "json", po::bool_switch(), "one JSON object per line");
    po::variables_map vm;
    if (auto stop = parse_options("audit",
                                  "Prints the decisions the RA took, oldest first.\n"
                                  "'scep-ra audit purge --config F [--before DATE]' deletes old records.",
                                  desc, args, vm)) {
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
                             .add("ca_detail", r.ca_detail)
                             .add("serial", r.serial)
                             .add("challenge_id", r.challenge_id)
                             .str()
                      << "\n";
        } else {
            std::cout << r.at << '\t' << field(r.peer) << '\t' << field(r.message_type.value_or(r.operation))
                      << '\t' << field(r.transaction_id.value_or("-")) << '\t'
                      << field(r.subject.value_or("-")) << '\t' << r.decision << '\t'
                      << field(r.fail_info.value_or("-")) << '\t'
                      << field(r.serial.value_or(r.detail.value_or("-"))) << "\n";
        }
    }
    return exit_ok;
}

}  // namespace scepra::cli
