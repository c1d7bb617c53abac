// SPDX-License-Identifier: Apache-2.0
// A real scep-ra instance (created by `init`) served on an ephemeral loopback
// port by the real HTTP server, plus a SCEP client that talks to it.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cli/instance.hpp"
#include "http/listener.hpp"
#include "scep/client.hpp"
#include "support/test_pki.hpp"

namespace scepra::test {

/// The system clock plus an offset a test can move forward (password expiry).
class OffsetClock final : public Clock {
  public:
    TimePoint now() const override {
        return std::chrono::system_clock::now() + std::chrono::seconds(m_offset.load());
    }
    void advance(std::chrono::seconds by) { m_offset += by.count(); }

  private:
    std::atomic<long> m_offset{0};
};

class ServerFixture {
  public:
    /// edit_config may change the generated scep-ra.conf text before it is loaded.
    explicit ServerFixture(const std::function<void(std::string&)>& edit_config = {});
    ~ServerFixture();

    httplib::Client client() const;
    /// HTTPS client for the admin listener (certificate checked against the instance CA).
    std::unique_ptr<httplib::SSLClient> admin_client() const;
    int admin_port() const { return m_admin_port; }
    int port() const { return m_port; }
    OffsetClock& clock() { return m_clock; }
    /// Creates an admin account; returns its password.
    std::string add_admin(const std::string& name);
    const std::string& instance_dir() const { return m_instance_dir; }
    std::string base_path() const { return "/certsrv/mscep/mscep.dll"; }
    /// Stops the server and builds it anew from the same instance directory and
    /// configuration file, as a process restart would (optionally editing the
    /// configuration first). The ports change.
    void restart(const std::function<void(std::string&)>& edit_config = {});
    /// A fresh one-time challenge password.
    std::string password();
    cli::Instance& instance() { return *m_instance; }
    const cli::AppConfig& config() const { return m_instance->config(); }
    X509& ra_signing_cert() { return *m_ra_signing; }
    X509& ra_encryption_cert() { return *m_ra_encryption; }
    X509& ca_cert() { return *m_ca; }
    std::string log() const { return m_log.str(); }
    /// Runs a query on the instance database and returns the first column of the first row.
    std::string sql(const std::string& query);

  private:
    void start();
    void stop();

    TempDir m_dir;
    std::string m_instance_dir;
    OffsetClock m_clock;
    std::unique_ptr<cli::Instance> m_instance;
    std::ostringstream m_log;
    std::unique_ptr<http::Listener> m_server;
    std::unique_ptr<http::Listener> m_admin;
    std::thread m_thread;
    std::thread m_admin_thread;
    int m_port = 0;
    int m_admin_port = 0;
    crypto::X509Ptr m_ra_signing, m_ra_encryption, m_ca;
};

/// A device: key, self-signed signer certificate and CSR.
struct Device {
    crypto::EvpPkeyPtr key;
    crypto::X509Ptr self_signed;
    std::string subject;
    explicit Device(size_t key_index = 0, const std::string& cn = "device");
    crypto::X509ReqPtr csr(const std::string& challenge, const std::vector<Ext>& exts = {}) const;
    scep::Signer signer(const std::string& digest = "SHA256") { return {*self_signed, *key, digest}; }
    scep::Recipient recipient() { return {*self_signed, *key}; }
};

struct Reply {
    int http_status = 0;
    std::string content_type;
    std::string body;
};

/// POSTs a pkiMessage; with get = true sends it as GET base64 instead.
Reply send_pki(const ServerFixture& server, const Bytes& message, bool get = false,
               const std::string& content_type = "application/x-pki-message");

/// In a scep-ra.conf text, replaces the first "KEY = value" line by "KEY = VALUE" (the key must be there).
void set_key(std::string& conf, const std::string& key, const std::string& value);

/// The status code in the status line of a raw HTTP/1.1 response; 0 when it has none.
int status_of(const std::string& response);

/// Standard base64 with '+', '/' and '=' percent-escaped (as RFC 8894 §4.1 asks).
std::string base64_url_escaped(const Bytes& data);

}  // namespace scepra::test
