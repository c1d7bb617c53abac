// SPDX-License-Identifier: Apache-2.0
// The real scep-ra binary in front of the fake EJBCA: an instance made by
// `init` and switched to EJBCA, and `scep-ra serve` on a loopback port.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "crypto/encoding.hpp"
#include "scep/degenerate.hpp"
#include "support/fake_ejbca/fake_ejbca_process.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// Runs the scep-ra binary; its exit status, and what it printed in *out.
inline int scep_ra(const TempDir& dir, const std::string& args, std::string* out = nullptr) {
    const std::string file = dir.file("cli.out");
    const int rc = std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + file + " 2>&1").c_str());
    if (out) *out = crypto::read_file(file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline void set_key(std::string& conf, const std::string& key, const std::string& value) {
    const auto pos = conf.find("\n" + key + " = ");
    REQUIRE(pos != std::string::npos);
    const auto end = conf.find('\n', pos + 1);
    conf.replace(pos + 1, end - pos - 1, key + " = " + value);
}

/// An instance made by `init`, switched to the fake EJBCA with no chain file:
/// the chain comes from EJBCA. Returns the path of its scep-ra.conf.
inline std::string ejbca_instance(const TempDir& dir, const FakeEjbca& fake, const std::string& more = "") {
    REQUIRE(scep_ra(dir, "init --dir " + dir.file("instance") + " --admin-listen none") == 0);
    const std::string conf = dir.file("instance/scep-ra.conf");
    std::string text = crypto::read_file(conf);
    set_key(text, "backend", "ejbca");
    text += "\n[ejbca]\nurl = https://localhost:" + std::to_string(fake.port()) + "/ejbca/ejbca-rest-api\n" +
            "client_cert = " + fake.file("admin.pem") + "\nclient_key = " + fake.file("admin.key") +
            "\nserver_ca = " + fake.file("tls-ca.pem") +
            "\nca_name = IssuingCA\ncertificate_profile = SCEP_DEVICE\nend_entity_profile = SCEP_EEP\n"
            "timeout_seconds = 10\n" +
            more;
    crypto::write_file(conf, text, 0640, true);
    return conf;
}

/// `scep-ra serve` on a free loopback port, killed when it goes out of scope.
class Server {
  public:
    Server(const TempDir& dir, const std::string& conf) : m_dir(dir) {
        std::filesystem::remove(dir.file("port"));  // a server started before left one
        const std::string cmd = std::string(SCEPRA_BINARY) + " serve --config " + conf +
                                " --metrics-listen 127.0.0.1:0" + " --listen 127.0.0.1:0 --port-file " +
                                dir.file("port") + " 2>" + dir.file("serve.log") + " & echo $! >" +
                                dir.file("pid");
        REQUIRE(std::system(cmd.c_str()) == 0);
        m_pid = std::stoi(crypto::read_file(dir.file("pid")));
        for (int i = 0; i < 1200 && !std::filesystem::exists(dir.file("port")); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        INFO(log());
        REQUIRE(std::filesystem::exists(dir.file("port")));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the port file may be half written
        m_port = std::stoi(crypto::read_file(dir.file("port")));
    }
    ~Server() { ::kill(m_pid, SIGKILL); }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const { return m_port; }
    std::string log() const { return crypto::read_file(m_dir.file("serve.log")); }

    /// The certificates GetCACert answers: RA signing, RA encryption, then the CA chain.
    std::vector<crypto::X509Ptr> ca_certs() const {
        httplib::Client client("127.0.0.1", m_port);
        auto res = client.Get("/certsrv/mscep/mscep.dll?operation=GetCACert");
        REQUIRE(res);
        REQUIRE(res->status == 200);
        return scep::parse_degenerate(as_bytes(res->body));
    }

    /// Waits (bounded) until the log holds text; whether it does.
    bool logged(const std::string& text) const {
        for (int i = 0; i < 800; ++i) {
            if (log().find(text) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        return false;
    }

  private:
    const TempDir& m_dir;
    int m_pid = 0;
    int m_port = 0;
};

}  // namespace scepra::test
