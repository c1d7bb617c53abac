// SPDX-License-Identifier: Apache-2.0
// NTLM on the admin listener ([admin] auth = ntlm,basic): curl --ntlm against
// the real server, a wrong password, an AUTHENTICATE on another connection,
// NTLMv1 refused, throttling, and the NT hash sealed at rest.
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.hpp"
#include "crypto/encoding.hpp"
#include "http/ntlm.hpp"
#include "http/ntlm_challenges.hpp"
#include "http/transport.hpp"
#include "integration/ndes_page_readers.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
namespace readers = scepra::test::readers;
namespace ntlm = scepra::http::ntlm;

namespace {

const std::string kPassword = "ntlm-password-0123";

/// A server offering NTLM then Basic, with `alice` made by `scep-ra admin add`
/// (which stores the sealed NT hash).
struct NtlmServer {
    ServerFixture server{[](std::string& conf) { set_key(conf, "auth", "ntlm,basic"); }};
    TempDir files;

    NtlmServer() { add("alice", "issue"); }

    void add(const std::string& name, const std::string& role) {
        crypto::write_file(files.file("pw-" + name), kPassword + "\n", 0600, true);
        std::ostringstream quiet;
        auto* old = std::cout.rdbuf(quiet.rdbuf());
        const int rc = cli::admin_command({"add", name, "--role", role, "--config",
                                           server.instance_dir() + "/scep-ra.conf", "--password-file",
                                           files.file("pw-" + name)});
        std::cout.rdbuf(old);
        REQUIRE(rc == 0);
    }

    /// curl --ntlm: the HTTP status; the page in *body.
    int curl(const std::string& user, const std::string& password, std::string* body = nullptr) {
        const std::string out = files.file("page.bin");
        std::remove(out.c_str());
        const std::string cmd =
            "curl -sk --ntlm -u '" + user + ":" + password + "' -o " + out +
            " -w '%{http_code}' https://127.0.0.1:" + std::to_string(server.admin_port()) +
            "/certsrv/mscep_admin/ > " + files.file("status") + " 2>&1";
        REQUIRE(std::system(cmd.c_str()) == 0);
        if (body) *body = crypto::read_file(out);
        return std::stoi(crypto::read_file(files.file("status")));
    }
};

std::string header(const std::string& message) { return "NTLM " + ntlm::base64(as_bytes(message)); }
std::string header(const Bytes& message) { return "NTLM " + ntlm::base64(message); }

/// NEGOTIATE on this client's connection; the CHALLENGE message.
Bytes negotiate(httplib::SSLClient& c) {
    const Bytes type1 =
        *http::decode_base64("TlRMTVNTUAABAAAABoIIAAAAAAAAAAAAAAAAAAAAAAA=");  // what curl sends
    auto res = c.Get("/certsrv/mscep_admin/", {{"Authorization", header(type1)}});
    REQUIRE(res);
    REQUIRE(res->status == 401);
    const std::string www = res->get_header_value("WWW-Authenticate");
    REQUIRE(www.rfind("NTLM ", 0) == 0);
    auto challenge = http::decode_base64(www.substr(5));
    REQUIRE(challenge);
    REQUIRE(ntlm::message_type(*challenge) == 2);
    return *challenge;
}

}  // namespace

TEST_SUITE("http.admin.ntlm") {
    TEST_CASE("curl --ntlm gets the page; a wrong password gets 401; both are in the login trail") {
        NtlmServer s;
        std::string body;
        CHECK(s.curl("alice", kPassword, &body) == 200);
        const auto fleet = readers::fleet_read(body, "text/html");
        CHECK(fleet.kind == readers::FleetResult::Kind::password);
        CHECK(s.server.sql("SELECT issued_by FROM challenges") == "alice");
        CHECK(s.curl("DOMAIN\\alice", kPassword) == 200);  // ManageEngine's DOMAIN\user form

        CHECK(s.curl("alice", "not-the-password") == 401);
        CHECK(s.curl("nobody", kPassword) == 401);
        CHECK(s.server.sql("SELECT count(*) FROM admin_logins WHERE success = 1 AND name = 'alice'") == "2");
        CHECK(s.server.sql("SELECT count(*) FROM admin_logins WHERE success = 0") == "2");
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "2");
    }

    TEST_CASE("401 offers NTLM then Basic, and Basic still works") {
        NtlmServer s;
        auto c = s.server.admin_client();
        auto res = c->Get("/certsrv/mscep_admin/");
        REQUIRE(res);
        CHECK(res->status == 401);
        REQUIRE(res->get_header_value_count("WWW-Authenticate") == 2);
        CHECK(res->get_header_value("WWW-Authenticate", 0) == "NTLM");
        CHECK(res->get_header_value("WWW-Authenticate", 1).rfind("Basic realm=", 0) == 0);
        c->set_basic_auth("alice", kPassword.c_str());
        CHECK(c->Get("/certsrv/mscep_admin/")->status == 200);
    }

    TEST_CASE("the AUTHENTICATE must arrive on the connection its CHALLENGE went out on") {
        NtlmServer s;
        auto a = s.server.admin_client();
        a->set_keep_alive(true);
        SUBCASE("fail/another-connection") {
            const Bytes challenge = negotiate(*a);
            const Bytes type3 = ntlm::authenticate_message(challenge, "alice", "", kPassword);
            auto b = s.server.admin_client();  // a connection of its own
            auto res = b->Get("/certsrv/mscep_admin/", {{"Authorization", header(type3)}});
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK(s.server.log().find("NTLM AUTHENTICATE without a CHALLENGE on this connection") !=
                  std::string::npos);
            // Nor can it be used afterwards on its own connection: a challenge answers once.
            CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
        }
        SUBCASE("ok/same-connection-once") {
            const Bytes challenge = negotiate(*a);
            const Bytes type3 = ntlm::authenticate_message(challenge, "alice", "", kPassword);
            auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(type3)}});
            REQUIRE(res);
            CHECK(res->status == 200);
            auto replay = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(type3)}});
            REQUIRE(replay);
            CHECK(replay->status == 401);
            CHECK(s.server.sql("SELECT count(*) FROM challenges") == "1");
        }
    }

    TEST_CASE("an NTLM login meant for another service (relayed from a file share) is refused") {
        NtlmServer s;
        auto a = s.server.admin_client();
        a->set_keep_alive(true);
        // The right password, but the client meant to reach a file share: an attacker who made a
        // victim authenticate to it forwards the login to the admin page.
        const Bytes relayed =
            ntlm::authenticate_message(negotiate(*a), "alice", "", kPassword, "cifs/fileserver");
        auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(relayed)}});
        REQUIRE(res);
        CHECK(res->status == 401);
        CHECK(s.server.log().find("NTLM login meant for cifs/fileserver refused") != std::string::npos);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
        // Meant for an HTTP service, as a browser's login is: the page.
        const Bytes meant =
            ntlm::authenticate_message(negotiate(*a), "alice", "", kPassword, "HTTP/ndes.example.com");
        auto page = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(meant)}});
        REQUIRE(page);
        CHECK(page->status == 200);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "1");
    }

    TEST_CASE("NTLMv1 and malformed AUTHENTICATE messages are refused") {
        NtlmServer s;
        auto a = s.server.admin_client();
        a->set_keep_alive(true);
        SUBCASE("fail/ntlmv1-length-response") {
            Bytes type3 = ntlm::authenticate_message(negotiate(*a), "alice", "", kPassword);
            type3[20] = 24;  // NtChallengeResponse length of an NTLMv1 answer
            type3[21] = 0;
            auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(type3)}});
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK(s.server.log().find("NTLMv1 or LM response refused") != std::string::npos);
        }
        SUBCASE("fail/offset-outside-the-message") {
            Bytes type3 = ntlm::authenticate_message(negotiate(*a), "alice", "", kPassword);
            type3[36 + 4] = 0xF0;  // UserName offset far past the end
            type3[36 + 5] = 0xFF;
            auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(type3)}});
            REQUIRE(res);
            CHECK(res->status == 401);
        }
        SUBCASE("fail/truncated-and-garbage") {
            for (const std::string& token :
                 {std::string("NTLMSSP\0\3\0\0\0", 12), std::string("hello"), std::string()}) {
                negotiate(*a);
                auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", header(token)}});
                REQUIRE(res);
                CHECK(res->status == 401);
            }
            auto res = a->Get("/certsrv/mscep_admin/", {{"Authorization", "NTLM !!!not-base64!!!"}});
            REQUIRE(res);
            CHECK(res->status == 401);
        }
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
    }

    TEST_CASE("failed NTLM logins are throttled like Basic ones") {
        NtlmServer s;
        for (int i = 0; i < 5; ++i) {
            CHECK(s.curl("alice", "guess-guess-guess") == 401);
        }
        CHECK(s.curl("alice", kPassword) == 429);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
    }

    TEST_CASE("the NT hash is sealed at rest; an account without one cannot use NTLM") {
        NtlmServer s;
        const std::string nt_hex = to_hex(ntlm::nt_hash(kPassword));
        CHECK(nt_hex.size() == 32);
        const std::string sealed =
            s.server.sql("SELECT hex(nt_hash_sealed) FROM admins WHERE name = 'alice'");
        CHECK(sealed.size() == 88);  // nonce, ciphertext, tag
        CHECK(sealed.find(nt_hex) == std::string::npos);
        // Sealed for alice: moved to another account it does not open.
        s.add("bob", "issue");
        s.server.instance().database().write([](store::Database& db) {
            db.prepare(
                  "UPDATE admins SET nt_hash_sealed = (SELECT nt_hash_sealed FROM admins WHERE name = "
                  "'alice') "
                  "WHERE name = 'bob'")
                .run();
        });
        CHECK(s.curl("bob", kPassword) == 401);
        // An account made without the command (no NT hash) is Basic-only.
        s.server.add_admin("carol");
        CHECK(s.curl("carol", "admin-password-carol-0123") == 401);
        CHECK(s.curl("alice", kPassword) == 200);
    }

    TEST_CASE("a view account over NTLM gets the permission page") {
        NtlmServer s;
        s.add("watcher", "view");
        std::string body;
        CHECK(s.curl("watcher", kPassword, &body) == 200);
        CHECK(readers::fleet_read(body, "text/html").kind ==
              readers::FleetResult::Kind::insufficient_permissions);
        CHECK(s.server.sql("SELECT count(*) FROM challenges") == "0");
    }

    TEST_CASE("the NT hash is MD4 of the UTF-16LE password ([MS-NLMP] NTOWFv1)") {
        CHECK(to_hex(ntlm::nt_hash("password")) == "8846F7EAEE8FB117AD06BDD830B7586C");
        CHECK(to_hex(ntlm::nt_hash("")) == "31D6CFE0D16AE931B73C59D7E0C089C0");
    }

    TEST_CASE("pending NTLM challenges are bounded, single-use and per connection") {
        http::NtlmChallenges pending;
        const int total = static_cast<int>(http::NtlmChallenges::kMaxPending) + 100;
        for (int port = 1; port <= total; ++port) {
            pending.issue("192.0.2." + std::to_string(port % 200 + 1), port);
        }
        CHECK_FALSE(pending.take("192.0.2.2", 1).has_value());  // the oldest were dropped
        CHECK_FALSE(pending.take("192.0.2.101", 100).has_value());
        CHECK_FALSE(pending.take("192.0.2.250", total).has_value());  // another peer, same port
        const std::string last_peer = "192.0.2." + std::to_string(total % 200 + 1);
        const auto last = pending.take(last_peer, total);
        REQUIRE(last.has_value());
        CHECK(last->size() == 8);
        CHECK_FALSE(pending.take(last_peer, total).has_value());  // once
    }

    TEST_CASE("a flood of NEGOTIATEs from one address drops its own challenges, not another client's") {
        http::NtlmChallenges pending;
        pending.issue("192.0.2.7", 50000);  // a browser's handshake, waiting for its AUTHENTICATE
        for (int port = 1; port <= static_cast<int>(http::NtlmChallenges::kMaxPending) * 3; ++port) {
            pending.issue("192.0.2.66", port);
        }
        CHECK(pending.take("192.0.2.7", 50000).has_value());
        const int newest = static_cast<int>(http::NtlmChallenges::kMaxPending) * 3;
        const int kept = static_cast<int>(http::NtlmChallenges::kMaxPendingPerAddress);
        CHECK(pending.take("192.0.2.66", newest).has_value());
        CHECK(pending.take("192.0.2.66", newest - kept + 1).has_value());
        CHECK_FALSE(pending.take("192.0.2.66", newest - kept).has_value());
    }

    TEST_CASE(
        "NEGOTIATEs from many addresses of one IPv6 /64 drop that /64's challenges, not another client's") {
        http::NtlmChallenges pending;
        pending.issue("2001:db8:1::10", 50000);  // a browser in another /64, waiting for its AUTHENTICATE
        pending.issue("192.0.2.7", 50001);
        const int flood = static_cast<int>(http::NtlmChallenges::kMaxPending) * 3;
        for (int i = 1; i <= flood; ++i) {
            // A new source address of the attacker's /64 for every NEGOTIATE.
            pending.issue("2001:db8:66:0:" + std::to_string(i % 9000 + 1) + "::1", i);
        }
        CHECK(pending.take("2001:db8:1::10", 50000).has_value());
        CHECK(pending.take("192.0.2.7", 50001).has_value());
        // The /64 keeps only its newest few, whichever of its addresses they came from.
        const int kept = static_cast<int>(http::NtlmChallenges::kMaxPendingPerAddress);
        const auto address = [](int i) { return "2001:db8:66:0:" + std::to_string(i % 9000 + 1) + "::1"; };
        CHECK(pending.take(address(flood), flood).has_value());
        CHECK(pending.take(address(flood - kept + 1), flood - kept + 1).has_value());
        CHECK_FALSE(pending.take(address(flood - kept), flood - kept).has_value());
    }

    TEST_CASE("[admin] auth names only negotiate, ntlm and basic, each once") {
        for (const char* bad : {"negotiate,ntlm,negotiate", "basic,basic", "", "kerberos", "ntlm,digest"}) {
            CAPTURE(bad);
            std::string error;
            try {
                ServerFixture server([&](std::string& conf) { set_key(conf, "auth", bad); });
            } catch (const cli::ConfigError& e) {
                error = e.what();
            }
            CHECK(error.find("[admin] auth") != std::string::npos);
        }
    }
}
