// SPDX-License-Identifier: Apache-2.0
// `scep-ra serve`: runs the SCEP listener (and the admin page listener) until
// SIGINT or SIGTERM; SIGHUP reloads the password settings.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "cli/retention_task.hpp"
#include "crypto/encoding.hpp"
#include "http/listener.hpp"
#include "http/metrics_site.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {
std::string url_host(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

/// SIGHUP: re-read the file; apply it if valid, keep the running settings if not.
void reload(Instance& instance, const std::filesystem::path& file) {
    try {
        AppConfig fresh = load_config(file);
        instance.reload(fresh);
        std::cerr << "scep-ra reloaded " << file.string() << ": passwords "
                  << (!fresh.password.enforce_password     ? "not required"
                      : fresh.password.use_single_password ? "single"
                                                           : "one-time")
                  << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "scep-ra reload refused, running settings kept: " << e.what() << std::endl;
    }
    if (const std::string chain = instance.refresh_ca_chain(); !chain.empty()) {
        std::cerr << "scep-ra reload: " << chain << std::endl;
    }
}
/// Every connection is a file descriptor: raise the soft limit towards the
/// hard one so that every listener's max_connections (and as many refused
/// ones lingering) plus the database fit.
void raise_file_limit(const AppConfig& config) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return;
    }
    size_t connections = config.listen.limits.max_connections;
    if (config.admin.listen) {
        connections += config.admin.listen->limits.max_connections;
    }
    if (config.metrics_listen) {
        connections += http::metrics_listen_options(*config.metrics_listen).limits.max_connections;
    }
    const rlim_t wanted = static_cast<rlim_t>(connections) * 2 + 256;
    if (limit.rlim_cur >= wanted || limit.rlim_cur == RLIM_INFINITY) {
        return;
    }
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < wanted) {
        std::cerr << "scep-ra: the open-file limit (" << limit.rlim_cur
                  << ") is below twice [server] max_connections (" << config.listen.limits.max_connections
                  << "): raise LimitNOFILE" << std::endl;
    }
}
}  // namespace

int serve_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()("config", po::value<std::string>()->required(),
                       "instance configuration file (scep-ra.conf)")(
        "listen", po::value<std::string>(),
        "HOST:PORT to listen on, overriding [server] listen (port 0 = any free port)")(
        "port-file", po::value<std::string>(), "write the SCEP port actually bound to this file")(
        "admin-listen", po::value<std::string>(),
        "HOST:PORT of the admin page listener, overriding [admin] listen")(
        "admin-port-file", po::value<std::string>(), "write the admin port actually bound to this file")(
        "metrics-listen", po::value<std::string>(),
        "HOST:PORT of the /metrics listener, overriding [metrics] listen")(
        "metrics-port-file", po::value<std::string>(), "write the metrics port actually bound to this file");
    po::variables_map vm;
    if (auto stop = parse_options("serve",
                                  "Serves SCEP on /certsrv/mscep/mscep.dll (and the other NDES paths) and\n"
                                  "the admin page /certsrv/mscep_admin/ on its own listener.",
                                  desc, args, vm)) {
        return *stop;
    }

    // Signals are taken by a dedicated thread; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    AppConfig config = load_config(vm["config"].as<std::string>());
    if (vm.count("listen")) {
        auto override_listen = http::parse_listen(vm["listen"].as<std::string>());
        config.listen.host = override_listen.host;
        config.listen.port = override_listen.port;
    }
    if (vm.count("admin-listen")) {
        auto admin = http::parse_listen(vm["admin-listen"].as<std::string>());
        if (config.admin.listen) {
            config.admin.listen->host = admin.host;
            config.admin.listen->port = admin.port;
        } else {
            config.admin.listen = http::admin_listen_options(admin);
            config.admin.listen->log_format = config.log_format;
        }
    }
    if (vm.count("metrics-listen")) {
        config.metrics_listen = http::parse_listen(vm["metrics-listen"].as<std::string>());
    }
    raise_file_limit(config);
    SystemClock clock;
    Instance instance(config, clock);
    // A CA that cannot be used now is reported before the port file appears,
    // not fatal: requests get "CA unavailable" until it is back.
    const backend::Health health = instance.backend().health();
    std::cerr << "scep-ra CA backend " << config.backend << (health.ok ? " ready: " : " NOT READY: ")
              << health.line << std::endl;

    http::Listener scep(config.listen, instance.scep_listener_sites(), std::cerr);
    const int port = scep.bind();
    std::unique_ptr<http::Listener> admin;
    int admin_port = 0;
    if (config.admin.listen) {
        admin = std::make_unique<http::Listener>(*config.admin.listen,
                                                 std::vector<http::Site*>{&instance.admin_site()}, std::cerr);
        admin_port = admin->bind();
    }
    // Metrics are for watching the service, not part of it: a metrics port
    // that is taken is reported and SCEP is served all the same.
    http::MetricsSite metrics_site(instance.metrics());
    std::ostream unlogged(nullptr);  // scrapes every few seconds would drown the request log
    std::unique_ptr<http::Listener> metrics;
    int metrics_port = 0;
    if (config.metrics_listen) {
        try {
            metrics = std::make_unique<http::Listener>(http::metrics_listen_options(*config.metrics_listen),
                                                       std::vector<http::Site*>{&metrics_site}, unlogged);
            metrics_port = metrics->bind();
            std::cerr << "scep-ra metrics at http://" << url_host(config.metrics_listen->host) << ":"
                      << metrics_port << "/metrics" << std::endl;
        } catch (const std::exception& e) {
            metrics.reset();
            std::cerr << "scep-ra serving without metrics: " << e.what() << " (" << config.file.string()
                      << ": [metrics] listen)" << std::endl;
        }
    }
    if (metrics && vm.count("metrics-port-file")) {
        crypto::write_file(vm["metrics-port-file"].as<std::string>(), std::to_string(metrics_port) + "\n",
                           0644, true);
    }
    crypto::write_file(config.pid_file, std::to_string(::getpid()) + "\n", 0644, true);
    if (vm.count("port-file")) {
        crypto::write_file(vm["port-file"].as<std::string>(), std::to_string(port) + "\n", 0644, true);
    }
    if (admin && vm.count("admin-port-file")) {
        crypto::write_file(vm["admin-port-file"].as<std::string>(), std::to_string(admin_port) + "\n", 0644,
                           true);
    }
    std::cerr << "scep-ra serving http://" << url_host(config.listen.host) << ":" << port
              << "/certsrv/mscep/mscep.dll"
              << " (CA backend: " << instance.backend().name() << ", passwords: "
              << (!config.password.enforce_password     ? "not required"
                  : config.password.use_single_password ? "single"
                                                        : "one-time")
              << ")" << std::endl;
    if (config.renewal.enabled && config.renewal.revocation == core::RevocationMode::none) {
        std::cerr << "scep-ra: [renewal] revocation = none: a revoked certificate can still renew"
                  << std::endl;
    }
    if (admin) {
        std::cerr << "scep-ra admin page at " << (admin->tls() ? "https://" : "http://")
                  << url_host(config.admin.listen->host) << ":" << admin_port << "/certsrv/mscep_admin/"
                  << std::endl;
    }

    RetentionTask retention(instance.database(), instance.throttle(), clock, config.audit_retention_days,
                            std::cerr);
    retention.start();
    std::thread admin_thread;
    if (admin) {
        admin_thread = std::thread([&admin] { admin->run(); });
    }
    std::thread metrics_thread;
    if (metrics) {
        metrics_thread = std::thread([&metrics] { metrics->run(); });
    }
    std::thread signal_waiter([&] {
        for (;;) {
            int sig = 0;
            sigwait(&signals, &sig);
            if (sig == SIGHUP) {
                reload(instance, config.file);
                continue;
            }
            scep.stop();
            if (admin) {
                admin->stop();
            }
            if (metrics) {
                metrics->stop();
            }
            return;
        }
    });
    const bool ok = scep.run();
    if (admin) {
        admin->stop();
        admin_thread.join();
    }
    if (metrics) {
        metrics->stop();
        metrics_thread.join();
    }
    // Wake the signal thread if the server ended on its own.
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
    signal_waiter.join();
    retention.stop();
    std::filesystem::remove(config.pid_file);
    std::cerr << "scep-ra stopped" << std::endl;
    return ok ? exit_ok : exit_failure;
}

}  // namespace scepra::cli
