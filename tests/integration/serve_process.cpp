// SPDX-License-Identifier: Apache-2.0
#include "integration/serve_process.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "crypto/encoding.hpp"

namespace scepra::test {

namespace {
/// Running, not a zombie (the shell that started it has gone: init reaps it).
bool alive(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}
}  // namespace

int run_scep_ra(const TempDir& dir, const std::string& args, std::string* out, std::string* err) {
    const std::string out_file = dir.file("cli.out");
    const std::string err_file = dir.file("cli.err");
    const int rc =
        std::system((std::string(SCEPRA_BINARY) + " " + args + " >" + out_file + " 2>" + err_file).c_str());
    if (out) *out = crypto::read_file(out_file);
    if (err) *err = crypto::read_file(err_file);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string init_instance(const TempDir& dir) {
    REQUIRE(run_scep_ra(dir, "init --dir " + dir.file("instance") + " --admin-listen none") == 0);
    return dir.file("instance/scep-ra.conf");
}

ServeProcess::ServeProcess(const TempDir& dir, const std::string& conf, const std::string& extra_args,
                           const std::string& metrics_listen)
    : m_dir(dir) {
    const std::string port_file = dir.file("serve.port");
    const std::string metrics_port_file = dir.file("serve.metrics-port");
    std::filesystem::remove(port_file);
    std::filesystem::remove(metrics_port_file);
    const std::string cmd = std::string(SCEPRA_BINARY) + " serve --config " + conf +
                            " --listen 127.0.0.1:0 --port-file " + port_file +
                            (metrics_listen.empty() ? "" : " --metrics-listen " + metrics_listen) +
                            " --metrics-port-file " + metrics_port_file + " " + extra_args + " 2>>" +
                            dir.file("serve.log") + " & echo $! >" + dir.file("serve.pid");
    REQUIRE(std::system(cmd.c_str()) == 0);
    m_pid = std::to_string(std::stol(crypto::read_file(dir.file("serve.pid"))));
    for (int i = 0; i < 800 && !std::filesystem::exists(port_file) && alive(m_pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    INFO(log());
    REQUIRE(std::filesystem::exists(port_file));
    m_port = std::stoi(crypto::read_file(port_file));
    if (std::filesystem::exists(metrics_port_file)) {
        m_metrics_port = std::stoi(crypto::read_file(metrics_port_file));
    }
}

ServeProcess::~ServeProcess() {
    if (alive(m_pid)) {
        ::kill(std::stoi(m_pid), SIGKILL);
    }
}

std::string ServeProcess::log() const {
    return std::filesystem::exists(m_dir.file("serve.log")) ? crypto::read_file(m_dir.file("serve.log")) : "";
}

void ServeProcess::stop() {
    if (!alive(m_pid)) {
        return;
    }
    ::kill(std::stoi(m_pid), SIGTERM);
    for (int i = 0; i < 800 && alive(m_pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    REQUIRE(!alive(m_pid));
}

ProcessClient::ProcessClient(const std::string& instance_dir, int port)
    : m_port(port),
      m_ra_signing(crypto::load_cert_file(instance_dir + "/ra-signing.pem")),
      m_ra_encryption(crypto::load_cert_file(instance_dir + "/ra-encryption.pem")) {}

httplib::Client ProcessClient::http(const std::string& source) const {
    httplib::Client c("127.0.0.1", m_port);
    c.set_interface(source);
    c.set_read_timeout(60, 0);
    return c;
}

int ProcessClient::post_pki(const std::string& body, const std::string& source) const {
    auto res = http(source).Post("/certsrv/mscep/mscep.dll?operation=PKIOperation", body,
                                 "application/x-pki-message");
    REQUIRE(res);
    return res->status;
}

scep::CertRepView ProcessClient::enrol(Device& device, const std::string& challenge,
                                       const std::string& transaction_id, const std::string& source) const {
    auto csr = device.csr(challenge);
    const Bytes request = scep::build_pki_request(
        {scep::MessageType::pkcs_req, transaction_id, {}}, crypto::csr_der(*csr), *m_ra_encryption,
        {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());
    auto res = http(source).Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                                 std::string(request.begin(), request.end()), "application/x-pki-message");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return scep::read_cert_rep(as_bytes(res->body), *m_ra_signing, device.recipient());
}

}  // namespace scepra::test
