// SPDX-License-Identifier: Apache-2.0
#include "integration/server_fixture.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "crypto/encoding.hpp"
#include "store/database.hpp"
#include "support/scep_ra_process.hpp"

namespace scepra::test {

ServerFixture::ServerFixture(const std::function<void(std::string&)>& edit_config) {
    m_instance_dir = m_dir.path() + "/instance";
    const std::string conf = init_from_template(m_instance_dir, "--admin-listen 127.0.0.1:0");
    if (edit_config) {
        std::string text = crypto::read_file(conf);
        edit_config(text);
        crypto::write_file(conf, text, 0640, true);
    }
    start();
}

void ServerFixture::start() {
    cli::AppConfig config = cli::load_config(m_instance_dir + "/scep-ra.conf");
    config.listen.host = "127.0.0.1";
    config.listen.port = 0;
    config.listen.worker_threads = 8;
    m_instance = std::make_unique<cli::Instance>(config, m_clock);
    m_server = std::make_unique<http::Listener>(config.listen, m_instance->scep_listener_sites(), m_log);
    m_port = m_server->bind();
    m_thread = std::thread([this] { m_server->run(); });
    if (config.admin.listen) {
        m_admin = std::make_unique<http::Listener>(
            *config.admin.listen, std::vector<http::Site*>{&m_instance->admin_site()}, m_log);
        m_admin_port = m_admin->bind();
        m_admin_thread = std::thread([this] { m_admin->run(); });
    }
    m_ra_signing = crypto::load_cert_file(config.signing_cert);
    m_ra_encryption = crypto::load_cert_file(config.encryption_cert);
    m_ca = crypto::load_cert_file(config.local_ca.cert_file);
}

void ServerFixture::stop() {
    if (m_server) m_server->stop();
    if (m_thread.joinable()) m_thread.join();
    if (m_admin) {
        m_admin->stop();
        if (m_admin_thread.joinable()) m_admin_thread.join();
    }
    m_admin.reset();
    m_server.reset();
    m_instance.reset();
}

void ServerFixture::restart(const std::function<void(std::string&)>& edit_config) {
    stop();
    if (edit_config) {
        const std::string conf = m_instance_dir + "/scep-ra.conf";
        std::string text = crypto::read_file(conf);
        edit_config(text);
        crypto::write_file(conf, text, 0640, true);
    }
    start();
}

ServerFixture::~ServerFixture() { stop(); }

std::unique_ptr<httplib::SSLClient> ServerFixture::admin_client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", m_admin_port);
    c->set_ca_cert_path(config().local_ca.cert_file.c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(30, 0);
    return c;
}

std::string ServerFixture::add_admin(const std::string& name) {
    const std::string password = "admin-password-" + name + "-0123";
    m_instance->admins().add(name, password);
    return password;
}

httplib::Client ServerFixture::client() const {
    httplib::Client c("127.0.0.1", m_port);
    c.set_read_timeout(30, 0);
    return c;
}

std::string ServerFixture::password() {
    return m_instance->challenges().issue(config().password.one_time, "test", std::nullopt).password;
}

std::string ServerFixture::sql(const std::string& query) {
    return m_instance->database().read([&](store::Database& db) {
        auto st = db.prepare(query);
        return st.step() ? st.column_text(0) : std::string();
    });
}

Device::Device(size_t key_index, const std::string& cn)
    : key(pooled_client_key(key_index)), subject("CN=" + cn + ",O=Example") {
    self_signed = make_cert(subject, *key, nullptr, nullptr, {});
}

crypto::X509ReqPtr Device::csr(const std::string& challenge, const std::vector<Ext>& exts) const {
    return make_csr(*key, subject, challenge, exts);
}

std::string base64_url_escaped(const Bytes& data) { return scep::encode_get_message(data); }

Reply send_pki(const ServerFixture& server, const Bytes& message, bool get, const std::string& content_type) {
    auto c = server.client();
    httplib::Result res =
        get ? c.Get(server.base_path() + "?operation=PKIOperation&message=" + base64_url_escaped(message))
            : c.Post(server.base_path() + "?operation=PKIOperation",
                     std::string(reinterpret_cast<const char*>(message.data()), message.size()),
                     content_type);
    if (!res) throw std::runtime_error("HTTP request failed: " + httplib::to_string(res.error()));
    return {res->status, res->get_header_value("Content-Type"), res->body};
}

void set_key(std::string& conf, const std::string& key, const std::string& value) {
    auto pos = conf.find("\n" + key + " =");
    REQUIRE(pos != std::string::npos);
    auto end = conf.find('\n', pos + 1);
    conf.replace(pos + 1, end - pos - 1, key + " = " + value);
}

int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.1 ", 0) != 0 || response.size() < 12) {
        return 0;
    }
    return std::atoi(response.substr(9, 3).c_str());
}

}  // namespace scepra::test
