// SPDX-License-Identifier: Apache-2.0
// `scep-ra serve`: runs the SCEP listener until SIGINT or SIGTERM.
#include <signal.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "cli/instance.hpp"
#include "cli/options.hpp"
#include "crypto/encoding.hpp"
#include "http/scep_http_server.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

int serve_command(const Args& args) {
    po::options_description desc("options");
    desc.add_options()
        ("config", po::value<std::string>()->required(), "instance configuration file (scep-ra.conf)")
        ("listen", po::value<std::string>(), "HOST:PORT to listen on, overriding [server] listen (port 0 = any free port)")
        ("port-file", po::value<std::string>(), "write the port actually bound to this file (for scripts and tests)");
    po::variables_map vm;
    if (auto stop = parse_options("serve", "Serves SCEP on /certsrv/mscep/mscep.dll (and the other NDES paths).", desc,
                                  args, vm)) {
        return *stop;
    }

    // Signals are taken by a dedicated thread; block them before any thread starts.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    AppConfig config = load_config(vm["config"].as<std::string>());
    if (vm.count("listen")) {
        auto override_listen = http::parse_listen(vm["listen"].as<std::string>());
        config.listen.host = override_listen.host;
        config.listen.port = override_listen.port;
    }
    SystemClock clock;
    Instance instance(config, clock);
    http::ScepHttpServer server(instance.service(), config.listen, std::cerr);
    const int port = server.bind();
    if (vm.count("port-file")) {
        crypto::write_file(vm["port-file"].as<std::string>(), std::to_string(port) + "\n", 0644, true);
    }
    const std::string host = config.listen.host.find(':') != std::string::npos ? "[" + config.listen.host + "]"
                                                                                : config.listen.host;
    std::cerr << "scep-ra serving http://" << host << ":" << port << "/certsrv/mscep/mscep.dll"
              << " (CA backend: local, passwords: "
              << (config.password.enforce_password ? "one-time" : "none required") << ")" << std::endl;

    std::thread signal_waiter([&server, signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        server.stop();
    });
    const bool ok = server.run();
    // Wake the signal thread if the server ended on its own.
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
    signal_waiter.join();
    std::cerr << "scep-ra stopped" << std::endl;
    return ok ? exit_ok : exit_failure;
}

}  // namespace scepra::cli
