// SPDX-License-Identifier: Apache-2.0
// Requests and the CA from the command line: `scep-ra request list|approve|deny`
// (the RA's manual approval, in front of any backend; --local-ca-queue for
// requests older versions left in the local CA's own queue), `request list
// --unknown-outcome|retry` (submissions whose answer the CA lost) and
// `scep-ra revoke` (revocation at any backend that can).
#include <algorithm>
#include <cctype>
#include <iostream>

#include "cli/backend_factory.hpp"
#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "common/json.hpp"
#include "local/crl.hpp"
#include "store/audit_log.hpp"
#include "store/request_store.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

/// The configuration, database and local CA backend of an instance.
struct LocalCa {
    AppConfig config;
    SystemClock clock;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<backend::local::LocalCaBackend> ca;
    explicit LocalCa(const std::string& file) : config(load_config(file)) {
        db = store::Database::open(config.database, false);
        ca = std::make_unique<backend::local::LocalCaBackend>(local_ca_config(config), *db, clock);
    }
};

/// The RA's record of requests, for the operator's decisions.
struct RaRequests {
    AppConfig config;
    SystemClock clock;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::RequestStore> requests;
    std::unique_ptr<store::AuditLog> audit;
    explicit RaRequests(const std::string& file) : config(load_config(file)) {
        db = store::Database::open(config.database, false);
        requests = std::make_unique<store::RequestStore>(*db, clock);
        audit = std::make_unique<store::AuditLog>(*db, clock);
    }
};

std::string officer_name() {
    const char* user = std::getenv("SUDO_USER");
    if (!user) user = std::getenv("USER");
    return std::string("cli:") + (user ? user : "unknown");
}

/// The last column of a list of held requests: what tells them apart.
struct HeldColumn {
    const char* heading;   ///< for the text table
    const char* json_key;  ///< for --json
    std::optional<std::string> store::RequestRecord::*field;
};

/// One line per request the RA holds: a tab-separated table with a heading,
/// or one JSON object per line.
void print_held_requests(const std::vector<store::RequestRecord>& rows, const HeldColumn& last, bool json) {
    if (!json) {
        std::cout << "ID\tUPDATED\tTEMPLATE\tSUBJECT\tTRANSACTION\t" << last.heading << "\n";
    }
    for (const auto& r : rows) {
        const std::optional<std::string>& extra = r.*last.field;
        if (json) {
            std::cout << JsonObject()
                             .add("id", r.id)
                             .add("updated_at", r.updated_at)
                             .add("template", r.template_name)
                             .add("subject", r.subject)
                             .add("transaction_id", r.transaction_id)
                             .add(last.json_key, extra)
                             .str()
                      << "\n";
        } else {
            std::cout << r.id << '\t' << r.updated_at << '\t' << r.template_name << '\t' << r.subject << '\t'
                      << r.transaction_id << '\t' << extra.value_or("") << "\n";
        }
    }
}

/// At most this many rows per listing: the table is for an operator to read.
constexpr int max_listed_requests = 10000;

int list_unknown_outcome(RaRequests& ra, bool json) {
    print_held_requests(ra.requests->list_unknown_outcome(max_listed_requests),
                        {"NOTE", "note", &store::RequestRecord::fail_text}, json);
    return exit_ok;
}

int request_retry(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "id", po::value<std::int64_t>()->required(), "request id (from `request list --unknown-outcome`)");
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (auto stop =
            parse_options("request retry",
                          "Releases a request whose outcome at the CA is unknown, once you checked the CA "
                          "issued nothing for it: the device's next attempt submits it again.",
                          desc, args, vm, &pos)) {
        return *stop;
    }
    RaRequests ra(vm["config"].as<std::string>());  // any backend: only the RA's own records
    const auto id = vm["id"].as<std::int64_t>();
    if (!ra.requests->release_unknown_outcome(id, officer_name())) {
        std::cerr << "scep-ra request retry: " << id << " is not a request held with an unknown outcome\n";
        return exit_refused;
    }
    std::cout << "released " << id << "\n";
    return exit_ok;
}

/// Requests older versions left in the local CA's own approval queue.
int list_local_queue(LocalCa& local, const std::optional<std::string>& status, bool json) {
    if (!json) {
        std::cout << "ID\tSTATUS\tCREATED\tTEMPLATE\tSUBJECT\tTRANSACTION\tREQUESTER\n";
    }
    for (const auto& r : local.ca->list_requests(status)) {
        if (json) {
            std::cout << JsonObject()
                             .add("id", r.id)
                             .add("status", r.status)
                             .add("created_at", sql_time(r.created_at))
                             .add("template", r.template_name)
                             .add("subject", r.subject)
                             .add("transaction_id", r.transaction_id)
                             .add("requester", r.requester)
                             .add("decided_at",
                                  r.decided_at ? std::optional(sql_time(*r.decided_at)) : std::nullopt)
                             .add("decided_by", r.decided_by)
                             .add("reason", r.reason)
                             .add("serial", r.cert_serial)
                             .str()
                      << "\n";
        } else {
            std::cout << r.id << '\t' << r.status << '\t' << sql_time(r.created_at) << '\t' << r.template_name
                      << '\t' << r.subject << '\t' << r.transaction_id << '\t' << r.requester << "\n";
        }
    }
    return exit_ok;
}

int list_awaiting_approval(RaRequests& ra, bool json) {
    print_held_requests(ra.requests->list_awaiting_approval(max_listed_requests),
                        {"REQUESTER", "requester", &store::RequestRecord::requester}, json);
    return exit_ok;
}

int request_list(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "pending", po::bool_switch(), "only requests waiting for a decision (all the RA lists are)")(
        "unknown-outcome", po::bool_switch(),
        "instead: the RA's requests whose submission the CA may have received but never answered, held "
        "until `request retry ID`")("local-ca-queue", po::bool_switch(),
                                    "instead: requests older versions left in the local CA's approval queue")(
        "status", po::value<std::string>(),
        "with --local-ca-queue: only this state (pending, approved, denied, issued)")(
        "json", po::bool_switch(), "one JSON object per line");
    po::variables_map vm;
    if (auto stop =
            parse_options("request list", "Lists the requests the RA holds for approval (manual_approval).",
                          desc, args, vm)) {
        return *stop;
    }
    const bool json = vm["json"].as<bool>();
    if (vm["unknown-outcome"].as<bool>()) {
        RaRequests ra(vm["config"].as<std::string>());  // any backend: only the RA's own records
        return list_unknown_outcome(ra, json);
    }
    if (vm["local-ca-queue"].as<bool>()) {
        std::optional<std::string> status;
        if (vm["pending"].as<bool>()) status = "pending";
        if (vm.count("status")) status = vm["status"].as<std::string>();
        LocalCa local(vm["config"].as<std::string>());
        return list_local_queue(local, status, json);
    }
    RaRequests ra(vm["config"].as<std::string>());
    return list_awaiting_approval(ra, json);
}

/// An old request in the local CA's own queue.
int decide_local_queue(const std::string& sub, const std::string& config, std::int64_t id,
                       const std::string& reason) {
    LocalCa local(config);
    try {
        if (sub == "approve") {
            local.ca->approve(id, officer_name());
        } else {
            local.ca->deny(id, officer_name(), reason);
        }
    } catch (const std::invalid_argument& e) {
        std::cerr << "scep-ra request " << sub << ": " << e.what() << "\n";
        return exit_refused;
    }
    std::cout << (sub == "approve" ? "approved " : "denied ") << id << "\n";
    return exit_ok;
}

int request_decide(const std::string& sub, const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "id", po::value<std::int64_t>()->required(), "request id (from `request list`)")(
        "local-ca-queue", po::bool_switch(),
        "a request of the local CA's own queue (`request list --local-ca-queue`)");
    if (sub == "deny") {
        desc.add_options()("reason", po::value<std::string>()->required(),
                           "told to the device in the failInfoText");
    }
    po::positional_options_description pos;
    pos.add("id", 1);
    po::variables_map vm;
    if (auto stop = parse_options(
            "request " + sub,
            sub == "approve" ? "Approves a request the RA holds: the device's next poll submits it to the CA."
                             : "Denies a request the RA holds: the device gets FAILURE with the reason.",
            desc, args, vm, &pos)) {
        return *stop;
    }
    const auto id = vm["id"].as<std::int64_t>();
    const std::string reason = sub == "deny" ? vm["reason"].as<std::string>() : std::string();
    if (vm["local-ca-queue"].as<bool>()) {
        return decide_local_queue(sub, vm["config"].as<std::string>(), id, reason);
    }
    RaRequests ra(vm["config"].as<std::string>());
    std::optional<store::RequestRecord> held;
    for (auto& r : ra.requests->list_awaiting_approval(10000)) {
        if (r.id == id) held = std::move(r);
    }
    const bool done =
        held && (sub == "approve" ? ra.requests->approve(id, officer_name()) : ra.requests->deny(id, reason));
    if (!done) {
        std::cerr << "scep-ra request " << sub << ": " << id << " is not a request awaiting approval\n";
        return exit_refused;
    }
    ra.audit->record({.peer = officer_name(),
                      .operation = "request " + sub,
                      .transaction_id = held->transaction_id,
                      .subject = held->subject,
                      .decision = sub == "approve" ? "pending" : "rejected",
                      .detail = sub == "approve" ? "approved by " + officer_name()
                                                 : "denied by " + officer_name() + ": " + reason});
    std::cout << (sub == "approve" ? "approved " : "denied ") << id << "\n";
    return exit_ok;
}

}  // namespace

int request_command(const Args& args) {
    const std::string summary =
        "usage: scep-ra request SUBCOMMAND [OPTIONS]\n\n"
        "subcommands (templates with manual_approval = 1):\n"
        "  list [--pending]             requests and their state\n"
        "  approve ID                   submit to the CA at the device's next poll\n"
        "  deny ID --reason TEXT        refuse, telling the device why\n"
        "  list --unknown-outcome       requests the CA may have received but never answered\n"
        "  retry ID                     submit such a request again at the device's next attempt\n";
    auto decide = [](const std::string& sub) {
        return [sub](const Args& rest) { return request_decide(sub, rest); };
    };
    return run_subcommand("request", summary, args,
                          {{"list", request_list},
                           {"approve", decide("approve")},
                           {"deny", decide("deny")},
                           {"retry", request_retry}});
}

int revoke_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(), "instance configuration file")(
        "serial", po::value<std::string>()->required(), "serial number (hex) of a certificate the CA issued")(
        "reason", po::value<std::string>()->default_value("unspecified"),
        "RFC 5280 reason, by name or code: unspecified (0), keyCompromise (1), cACompromise (2), "
        "affiliationChanged (3), superseded (4), cessationOfOperation (5), certificateHold (6), "
        "privilegeWithdrawn (9), aACompromise (10)");
    po::positional_options_description pos;
    pos.add("serial", 1);
    po::variables_map vm;
    if (auto stop =
            parse_options("revoke",
                          "Revokes a certificate at the configured CA backend ([ca] backend): the local "
                          "CA re-signs its CRL at once; EJBCA revokes over its REST API.",
                          desc, args, vm, &pos)) {
        return *stop;
    }
    const std::string& reason = vm["reason"].as<std::string>();
    const auto code = backend::revocation_reason_code(reason);
    if (!code) {
        std::cerr << "scep-ra revoke: unknown reason '" << reason << "'\n";
        return exit_usage;
    }
    const AppConfig config = load_config(vm["config"].as<std::string>());
    SystemClock clock;
    auto db = store::Database::open(config.database, false);
    auto ca = make_backend(config, *db, clock);
    const std::string& serial = vm["serial"].as<std::string>();
    if (!ca->capabilities().revoke) {
        std::cerr << "scep-ra revoke: the " << ca->name()
                  << " backend cannot revoke: revoke at the CA itself\n";
        return exit_refused;
    }
    backend::RevokeOutcome outcome{};
    try {
        outcome = ca->revoke(serial, *code);
    } catch (const std::invalid_argument& e) {
        std::cerr << "scep-ra revoke: " << e.what() << "\n";
        return exit_refused;
    } catch (const backend::BackendUnavailable& e) {
        std::cerr << "scep-ra revoke: the CA cannot be reached: " << e.what() << "\n";
        return exit_failure;
    }
    if (auto* local = dynamic_cast<backend::local::LocalCaBackend*>(ca.get())) {
        local->crl_der();  // sign the new CRL now, so the next download already lists it
    }
    const auto known = backend::crl_reason_name(*code);
    const std::string name = known ? std::string(*known) : std::to_string(*code);
    if (outcome == backend::RevokeOutcome::awaiting_approval) {
        std::cout << "revocation of " << serial << " (" << name << ") awaits approval at the CA\n";
    } else {
        std::cout << "revoked " << serial << " (" << name << ")\n";
    }
    return exit_ok;
}

}  // namespace scepra::cli
