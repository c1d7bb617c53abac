// SPDX-License-Identifier: Apache-2.0
#include "integration/kerberos_realm.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "crypto/encoding.hpp"
#include "http/gss_handles.hpp"

extern char** environ;

namespace scepra::test {

namespace {

/// The program's path in PATH or the sbin directories (where Debian puts the
/// KDC programs, outside an ordinary user's PATH); empty when absent.
std::string program(const std::string& name) {
    std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
    dirs += ":/usr/sbin:/sbin:/usr/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        const size_t end = std::min(dirs.find(':', start), dirs.size());
        const std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
        start = end + 1;
    }
    return "";
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        throw std::runtime_error("no free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    return ok;
}

}  // namespace

KerberosRealm* KerberosRealm::shared(std::string& why_not) {
    for (const char* name : {"krb5kdc", "kdb5_util", "kadmin.local", "kinit"}) {
        if (program(name).empty()) {
            why_not = std::string(name) +
                      " not found: install krb5-kdc, krb5-admin-server and krb5-user (tools/install-deps.sh "
                      "--test)";
            return nullptr;
        }
    }
    static std::unique_ptr<KerberosRealm> realm(new KerberosRealm());
    return realm.get();
}

KerberosRealm::KerberosRealm() : m_port(free_port()) {
    const std::string dir = m_dir.path();
    // Only loopback and no DNS: the KDC's address is written here, names are not canonicalised.
    crypto::write_file(file("krb5.conf"),
                       "[libdefaults]\n default_realm = " + std::string(kName) +
                           "\n dns_lookup_kdc = false\n dns_lookup_realm = false\n rdns = false\n"
                           " dns_canonicalize_hostname = false\n udp_preference_limit = 1\n"
                           "[realms]\n " +
                           kName + " = {\n  kdc = 127.0.0.1:" + std::to_string(m_port) + "\n }\n",
                       0644, true);
    crypto::write_file(file("kdc.conf"),
                       "[kdcdefaults]\n kdc_listen = 127.0.0.1:" + std::to_string(m_port) +
                           "\n kdc_tcp_listen = 127.0.0.1:" + std::to_string(m_port) + "\n[realms]\n " +
                           kName + " = {\n  database_name = " + dir +
                           "/principal\n  key_stash_file = " + dir + "/stash\n  acl_file = " + dir +
                           "/kadm5.acl\n }\n[logging]\n kdc = FILE:" + dir + "/kdc.log\n",
                       0644, true);
    // Before any thread of this process reads them (the servers of the tests start later).
    ::setenv("KRB5_CONFIG", file("krb5.conf").c_str(), 1);
    ::setenv("KRB5_KDC_PROFILE", file("kdc.conf").c_str(), 1);
    ::setenv("KRB5RCACHEDIR", dir.c_str(), 1);
    ::setenv("KRB5CCNAME", ("FILE:" + file("no-default-ccache")).c_str(), 1);
    ::unsetenv("KRB5_KTNAME");
    run(program("kdb5_util") + " create -s -r " + kName + " -P test-master-key");
    start_kdc();
}

KerberosRealm::~KerberosRealm() {
    if (m_kdc > 0) {
        ::kill(m_kdc, SIGTERM);
        ::waitpid(m_kdc, nullptr, 0);
    }
}

void KerberosRealm::run(const std::string& command) {
    const std::string logged = command + " >> " + file("commands.log") + " 2>&1";
    if (std::system(logged.c_str()) != 0) {
        throw std::runtime_error("failed: " + command + " (see " + file("commands.log") + ")");
    }
}

void KerberosRealm::start_kdc() {
    const std::string path = program("krb5kdc");
    char* const argv[] = {const_cast<char*>("krb5kdc"), const_cast<char*>("-n"), nullptr};
    // Its own chatter goes to a file of the realm, not into the test output.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = file("kdc.out");
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int spawned = ::posix_spawn(&m_kdc, path.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        m_kdc = -1;
        throw std::runtime_error("cannot start " + path);
    }
    // Bounded wait for its listener (it reads the database and binds within milliseconds).
    for (int i = 0; i < 200; ++i) {
        if (accepts_connections(m_port)) {
            return;
        }
        int status = 0;
        if (::waitpid(m_kdc, &status, WNOHANG) == m_kdc) {
            m_kdc = -1;
            throw std::runtime_error("krb5kdc exited; see " + file("kdc.log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("krb5kdc does not listen on 127.0.0.1:" + std::to_string(m_port));
}

void KerberosRealm::add_user(const std::string& name, const std::string& password) {
    run(program("kadmin.local") + " -q 'addprinc -pw " + password + " " + name + "'");
}

std::string KerberosRealm::kinit(const std::string& name, const std::string& password) {
    const std::string ccache = "FILE:" + file(name + ".ccache");
    crypto::write_file(file("password"), password + "\n", 0600, true);
    run(program("kinit") + " -c " + ccache + " " + name + " < " + file("password"));
    return ccache;
}

std::string KerberosRealm::keytab(const std::string& principal, const std::string& file_name) {
    const std::string path = file(file_name);
    // addprinc fails for a principal that exists already: that is fine here.
    std::system((program("kadmin.local") + " -q 'addprinc -randkey " + principal + "' >> " +
                 file("commands.log") + " 2>&1")
                    .c_str());
    run(program("kadmin.local") + " -q 'ktadd -k " + path + " " + principal + "'");
    ::chmod(path.c_str(), 0600);
    return path;
}

struct KerberosClient::State {
    http::gss::Credential credential;
    http::gss::Context context;
    http::gss::Name target;
};

namespace {

gss_OID_desc spnego{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};

}  // namespace

KerberosClient::KerberosClient(const std::string& ccache) : m_state(std::make_unique<State>()) {
    OM_uint32 minor = 0;
    gss_key_value_element_desc element{"ccache", ccache.c_str()};
    gss_key_value_set_desc store{1, &element};
    OM_uint32 major =
        gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET, GSS_C_INITIATE,
                              &store, m_state->credential.out(), nullptr, nullptr);
    if (GSS_ERROR(major)) {
        throw std::runtime_error("client credential: " + http::gss::status_text(major, minor));
    }
    std::string service = "HTTP@localhost";
    gss_buffer_desc name{service.size(), service.data()};
    major = gss_import_name(&minor, &name, GSS_C_NT_HOSTBASED_SERVICE, m_state->target.out());
    if (GSS_ERROR(major)) {
        throw std::runtime_error("service name: " + http::gss::status_text(major, minor));
    }
    http::gss::Buffer out;
    major =
        gss_init_sec_context(&minor, m_state->credential.get(), m_state->context.out(), m_state->target.get(),
                             &spnego, GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                             GSS_C_NO_BUFFER, nullptr, out.out(), nullptr, nullptr);
    if (GSS_ERROR(major)) {
        throw std::runtime_error("initiator token: " + http::gss::status_text(major, minor));
    }
    m_token.assign(out.data(), out.data() + out.size());
}

KerberosClient::~KerberosClient() = default;

bool KerberosClient::accepts_reply(ByteView reply) {
    OM_uint32 minor = 0;
    http::gss::Buffer out;
    gss_buffer_desc input{reply.size(), const_cast<std::uint8_t*>(reply.data())};
    const OM_uint32 major =
        gss_init_sec_context(&minor, m_state->credential.get(), m_state->context.out(), m_state->target.get(),
                             &spnego, GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                             &input, nullptr, out.out(), nullptr, nullptr);
    return major == GSS_S_COMPLETE;
}

}  // namespace scepra::test
