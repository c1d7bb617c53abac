// SPDX-License-Identifier: Apache-2.0
// Negotiate/Kerberos on the admin listener ([admin] auth = negotiate,ntlm,basic)
// against a real MIT KDC on loopback: curl --negotiate and an in-process GSSAPI
// client, the roles, an unknown principal, hostile tokens, a replay, NTLM
// inside Negotiate, and keytab problems caught when the config is loaded.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "cli/commands.hpp"
#include "crypto/encoding.hpp"
#include "http/negotiate.hpp"
#include "http/ntlm.hpp"
#include "http/transport.hpp"
#include "integration/kerberos_realm.hpp"
#include "integration/ndes_page_readers.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
namespace readers = scepra::test::readers;

#define KERBEROS_REALM_OR_SKIP(realm)                      \
    std::string why_not;                                   \
    KerberosRealm* realm = KerberosRealm::shared(why_not); \
    if (!realm) {                                          \
        MESSAGE("skipped: " << why_not);                   \
        return;                                            \
    }

namespace {

const std::string kAdminPassword = "admin-password-0123";

/// The users of the realm, made once: alice and victor have admin accounts
/// (issue, view), mallory has none.
struct Users {
    std::string alice, victor, mallory;  // their credential caches
    std::string keytab;                  // HTTP/localhost's keys
};

const Users& realm_users(KerberosRealm& realm) {
    static const Users made = [&] {
        Users u;
        for (const char* name : {"alice", "victor", "mallory"}) {
            realm.add_user(name, std::string(name) + "-kerberos-password");
        }
        u.alice = realm.kinit("alice", "alice-kerberos-password");
        u.victor = realm.kinit("victor", "victor-kerberos-password");
        u.mallory = realm.kinit("mallory", "mallory-kerberos-password");
        u.keytab = realm.keytab(KerberosRealm::kService, "http.keytab");
        return u;
    }();
    return made;
}

/// A server offering Negotiate, NTLM and Basic with the realm's keytab.
struct NegotiateServer {
    const Users& users;
    TempDir files;
    ServerFixture server;

    NegotiateServer(KerberosRealm& realm, const std::string& kerberos_realm = "")
        : users(realm_users(realm)), server([&](std::string& conf) {
              set_key(conf, "auth", "negotiate,ntlm,basic");
              set_key(conf, "keytab", users.keytab);
              set_key(conf, "kerberos_realm", kerberos_realm);
          }) {}

    void add(const std::string& name, const std::string& role) {
        crypto::write_file(files.file("pw"), kAdminPassword + "\n", 0600, true);
        std::ostringstream quiet;
        auto* old = std::cout.rdbuf(quiet.rdbuf());
        const int rc = cli::admin_command({"add", name, "--role", role, "--config",
                                           server.instance_dir() + "/scep-ra.conf", "--password-file",
                                           files.file("pw")});
        std::cout.rdbuf(old);
        REQUIRE(rc == 0);
    }

    /// curl --negotiate with the tickets in ccache: the status; page and headers if asked.
    int curl(const std::string& ccache, std::string* body = nullptr, std::string* headers = nullptr) {
        const std::string port = std::to_string(server.admin_port());
        const std::string cmd = "KRB5CCNAME=" + ccache +
                                " curl -sk --negotiate -u : --resolve localhost:" + port + ":127.0.0.1 -D " +
                                files.file("headers") + " -o " + files.file("page") +
                                " -w '%{http_code}' https://localhost:" + port + "/certsrv/mscep_admin/ > " +
                                files.file("status") + " 2> " + files.file("curl-stderr");
        REQUIRE(std::system(cmd.c_str()) == 0);
        if (body) *body = crypto::read_file(files.file("page"));
        if (headers) *headers = crypto::read_file(files.file("headers"));
        return std::stoi(crypto::read_file(files.file("status")));
    }

    httplib::Result get(httplib::SSLClient& client, const std::string& authorization) {
        return client.Get("/certsrv/mscep_admin/", {{"Authorization", authorization}});
    }
};

std::string negotiate_header(ByteView token) { return "Negotiate " + http::ntlm::base64(token); }

}  // namespace

TEST_SUITE("http.admin.negotiate") {
    TEST_CASE("curl --negotiate: an issue account gets a password, a view account the permission page") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice@TEST.SCEPRA", "issue");
        s.add("victor@TEST.SCEPRA", "view");

        std::string body, headers;
        CHECK(s.curl(s.users.alice, &body, &headers) == 200);
        CHECK(readers::fleet_read(body, "text/html").kind == readers::FleetResult::Kind::password);
        CHECK(s.server.sql("SELECT issued_by FROM challenges") == "alice@TEST.SCEPRA");
        // The mutual-authentication token came back with the page.
        CHECK(headers.find("WWW-Authenticate: Negotiate ") != std::string::npos);

        CHECK(s.curl(s.users.victor, &body) == 200);
        CHECK(readers::fleet_read(body, "text/html").kind ==
              readers::FleetResult::Kind::insufficient_permissions);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "1");
        CHECK(s.server.sql("SELECT count(*) FROM admin_logins WHERE success = 1") == "2");
    }

    TEST_CASE("a principal without an admin account is refused and recorded") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice", "issue");  // a bare name: the principal alice@TEST.SCEPRA is not it
        CHECK(s.curl(s.users.mallory) == 401);
        CHECK(s.curl(s.users.alice) == 401);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
        CHECK(s.server.sql("SELECT group_concat(name) FROM admin_logins WHERE success = 0") ==
              "mallory@TEST.SCEPRA,alice@TEST.SCEPRA");
        CHECK(s.server.log().find("Kerberos principal mallory@TEST.SCEPRA has no admin account") !=
              std::string::npos);
    }

    TEST_CASE("with kerberos_realm the realm's principals log in by their bare name") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm, "TEST.SCEPRA");
        s.add("alice", "issue");
        CHECK(s.curl(s.users.alice) == 200);
        CHECK(s.server.sql("SELECT issued_by FROM challenges") == "alice");
        CHECK(s.curl(s.users.mallory) == 401);
    }

    TEST_CASE("the 401 offers Negotiate first, then NTLM and Basic") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        auto c = s.server.admin_client();
        auto res = c->Get("/certsrv/mscep_admin/");
        REQUIRE(res);
        CHECK(res->status == 401);
        REQUIRE(res->get_header_value_count("WWW-Authenticate") == 3);
        CHECK(res->get_header_value("WWW-Authenticate", 0) == "Negotiate");
        CHECK(res->get_header_value("WWW-Authenticate", 1) == "NTLM");
        CHECK(res->get_header_value("WWW-Authenticate", 2).rfind("Basic realm=", 0) == 0);
    }

    TEST_CASE("the server's reply completes the client's context (mutual authentication)") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice@TEST.SCEPRA", "issue");
        KerberosClient client(s.users.alice);
        auto c = s.server.admin_client();
        auto res = s.get(*c, negotiate_header(client.token()));
        REQUIRE(res);
        CHECK(res->status == 200);
        const std::string www = res->get_header_value("WWW-Authenticate");
        REQUIRE(www.rfind("Negotiate ", 0) == 0);
        const auto reply = http::decode_base64(www.substr(10));
        REQUIRE(reply);
        CHECK(client.accepts_reply(*reply));
    }

    TEST_CASE("hostile Negotiate tokens get 401, and the server keeps serving") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice@TEST.SCEPRA", "issue");
        auto c = s.server.admin_client();
        SUBCASE("fail/tampered-ticket") {
            KerberosClient client(s.users.alice);
            Bytes token = client.token();
            token[token.size() / 2] ^= 0x5A;  // inside the encrypted ticket or authenticator
            auto res = s.get(*c, negotiate_header(token));
            REQUIRE(res);
            CHECK(res->status == 401);
        }
        SUBCASE("fail/truncated-ticket") {
            KerberosClient client(s.users.alice);
            const Bytes& token = client.token();
            auto res = s.get(*c, negotiate_header(ByteView(token.data(), token.size() - 40)));
            REQUIRE(res);
            CHECK(res->status == 401);
        }
        SUBCASE("fail/garbage") {
            for (const std::string& garbage :
                 {std::string("\x60\x82\xff\xff\x06\x06\x2b\x06\x01\x05\x05\x02", 12), std::string("\x60", 1),
                  std::string("\xa1\x03\x30\x01\x00", 5), std::string(3000, '\x30')}) {
                auto res = s.get(*c, negotiate_header(as_bytes(garbage)));
                REQUIRE(res);
                CHECK(res->status == 401);
            }
            for (const std::string& header :
                 {std::string("Negotiate"), std::string("Negotiate !!!not-base64!!!"),
                  std::string("Negotiate ")}) {
                auto res = s.get(*c, header);
                REQUIRE(res);
                CHECK(res->status == 401);
            }
        }
        SUBCASE("fail/oversized") {
            const Bytes huge(http::NegotiateAcceptor::kMaxTokenBytes + 1, 0x30);
            auto res = s.get(*c, negotiate_header(huge));
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK(s.server.log().find("Negotiate token too large") != std::string::npos);
            // Past cpp-httplib's header line limit (8,192 bytes) the request never reaches the site.
            auto beyond = s.get(*c, negotiate_header(Bytes(7000, 0x30)));
            REQUIRE(beyond);
            CHECK(beyond->status == 400);
        }
        SUBCASE("fail/seeded-mutations-of-a-used-ticket") {
            KerberosClient client(s.users.alice);
            REQUIRE(s.get(*c, negotiate_header(client.token()))->status == 200);
            // Every change either breaks the ticket or leaves a replay: never accepted, never a crash.
            std::mt19937 random(8894);
            const Bytes& original = client.token();
            for (int i = 0; i < 64; ++i) {
                Bytes token = original;
                if (i % 4 == 3) {
                    token.resize(random() % token.size());
                } else {
                    token[random() % token.size()] ^= static_cast<std::uint8_t>(1u << (random() % 8));
                }
                auto res = s.get(*c, negotiate_header(token));
                REQUIRE(res);
                CHECK((res->status == 401 || res->status == 429));  // 429 once the address is throttled
            }
            CHECK(s.server.sql("SELECT count(*) FROM challenges") == "1");
            CHECK(s.server.admin_client()->Get("/certsrv/mscep_admin/")->status == 401);
            return;  // this address is throttled now
        }
        SUBCASE("fail/replayed-ticket") {
            KerberosClient client(s.users.alice);
            auto first = s.get(*c, negotiate_header(client.token()));
            REQUIRE(first);
            CHECK(first->status == 200);
            auto again = s.server.admin_client();
            auto replay = s.get(*again, negotiate_header(client.token()));
            REQUIRE(replay);
            CHECK(replay->status == 401);  // the krb5 replay cache saw this authenticator
            CHECK(s.server.sql("SELECT count(*) FROM challenges") == "1");
        }
        CHECK(s.curl(s.users.alice) == 200);
    }

    TEST_CASE("refused tokens count as failed logins: a peer sending them is throttled") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice@TEST.SCEPRA", "issue");
        auto c = s.server.admin_client();
        for (int i = 0; i < 5; ++i) {
            auto res = s.get(*c, negotiate_header(as_bytes(std::string("\x60\x03\x06\x01\x00", 5))));
            REQUIRE(res);
            CHECK(res->status == 401);
        }
        CHECK(s.curl(s.users.alice) == 429);
        CHECK(s.server.sql("SELECT count(*) FROM admin_logins WHERE name = '(kerberos)' AND success = 0") ==
              "5");
    }

    TEST_CASE("raw NTLMSSP inside Negotiate (Windows without a ticket) goes through NTLM") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.add("alice", "issue");
        auto c = s.server.admin_client();
        c->set_keep_alive(true);
        const Bytes type1 = *http::decode_base64("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=");
        auto res = s.get(*c, negotiate_header(type1));
        REQUIRE(res);
        CHECK(res->status == 401);
        const std::string www = res->get_header_value("WWW-Authenticate");
        REQUIRE(www.rfind("Negotiate ", 0) == 0);  // answered under the scheme it came in
        const auto challenge = http::decode_base64(www.substr(10));
        REQUIRE(challenge);
        REQUIRE(http::ntlm::message_type(*challenge) == 2);
        SUBCASE("ok/right-password") {
            const Bytes type3 =
                http::ntlm::authenticate_message(*challenge, "alice", "EXAMPLE", kAdminPassword);
            auto page = s.get(*c, negotiate_header(type3));
            REQUIRE(page);
            CHECK(page->status == 200);
            CHECK(s.server.sql("SELECT issued_by FROM challenges") == "alice");
        }
        SUBCASE("fail/wrong-password") {
            const Bytes type3 =
                http::ntlm::authenticate_message(*challenge, "alice", "EXAMPLE", "wrong-password-00");
            auto page = s.get(*c, negotiate_header(type3));
            REQUIRE(page);
            CHECK(page->status == 401);
            CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
        }
    }

    TEST_CASE("NTLM inside Negotiate is refused when auth does not name ntlm") {
        KERBEROS_REALM_OR_SKIP(realm);
        NegotiateServer s(*realm);
        s.server.restart([](std::string& conf) { set_key(conf, "auth", "negotiate"); });
        auto c = s.server.admin_client();
        const Bytes type1 = *http::decode_base64("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=");
        auto res = s.get(*c, negotiate_header(type1));
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(res->get_header_value("WWW-Authenticate") == "Negotiate");
    }

    TEST_CASE("keytab problems are config errors naming the file and the key") {
        KERBEROS_REALM_OR_SKIP(realm);
        const Users& u = realm_users(*realm);
        TempDir dir;
        const std::string world_readable = dir.file("open.keytab");
        crypto::write_file(world_readable, crypto::read_file(u.keytab), 0644, true);
        ::chmod(world_readable.c_str(), 0644);
        const std::string other = realm->keytab("HTTP/elsewhere@TEST.SCEPRA", "elsewhere.keytab");
        const std::string not_a_keytab = dir.file("junk.keytab");
        crypto::write_file(not_a_keytab, "not a keytab at all", 0600, true);

        struct Case {
            std::string keytab, principal, key, mention;
        };
        for (const Case& bad : {
                 Case{"", "", "[admin] keytab", "must be set"},
                 Case{dir.file("missing.keytab"), "", "[admin] keytab", "missing.keytab"},
                 Case{world_readable, "", "[admin] keytab", "open.keytab"},
                 Case{not_a_keytab, "", "[admin] keytab", "junk.keytab"},
                 Case{other, KerberosRealm::kService, "[admin] service_principal", "elsewhere.keytab"},
                 Case{u.keytab, "not/a@valid@principal", "[admin] service_principal",
                      "not a Kerberos principal"},
             }) {
            CAPTURE(bad.keytab);
            std::string error;
            try {
                ServerFixture server([&](std::string& conf) {
                    set_key(conf, "auth", "negotiate,basic");
                    set_key(conf, "keytab", bad.keytab);
                    set_key(conf, "service_principal", bad.principal);
                });
            } catch (const cli::ConfigError& e) {
                error = e.what();
            }
            CHECK(error.find(bad.key) != std::string::npos);
            CHECK(error.find(bad.mention) != std::string::npos);
        }
    }

    TEST_CASE("a principal maps to its account name, without the configured realm") {
        CHECK(http::admin_account_for("alice@EXAMPLE.COM", "") == "alice@EXAMPLE.COM");
        CHECK(http::admin_account_for("alice@EXAMPLE.COM", "EXAMPLE.COM") == "alice");
        CHECK(http::admin_account_for("alice@OTHER.COM", "EXAMPLE.COM") == "alice@OTHER.COM");
        CHECK(http::admin_account_for("alice@example.com", "EXAMPLE.COM") == "alice@example.com");
        CHECK_FALSE(http::admin_account_for("HTTP/host@EXAMPLE.COM", "EXAMPLE.COM").has_value());
        CHECK_FALSE(http::admin_account_for("a\\@b@EXAMPLE.COM", "").has_value());
        CHECK_FALSE(
            http::admin_account_for(std::string(70, 'a') + "@EXAMPLE.COM", "EXAMPLE.COM").has_value());
    }
}
