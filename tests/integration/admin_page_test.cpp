// SPDX-License-Identifier: Apache-2.0
// The admin page over the real HTTPS listener: authentication, throttling,
// the NDES markup, JSON, UTF-16LE, binding, and where it is (not) served.
#include <doctest/doctest.h>

#include <functional>
#include <regex>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/ndes_page_readers.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
namespace readers = scepra::test::readers;

namespace {

const std::regex password_markup("The enrollment challenge password is: <B> ([0-9A-F]{16}) </B>");

/// The password on the page (UTF-16LE by default, or UTF-8), empty if none.
std::string password_in(const std::string& body) {
    const std::string html = readers::page_text(body);
    std::smatch m;
    return std::regex_search(html, m, password_markup) ? m[1].str() : std::string();
}

}  // namespace

TEST_SUITE("http.admin") {
    TEST_CASE("the admin page needs an admin account and answers over verified TLS") {
        ServerFixture server;
        const std::string secret = server.add_admin("alice");
        auto c = server.admin_client();
        SUBCASE("fail/no-credentials") {
            auto res = c->Get("/certsrv/mscep_admin/");
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK(res->get_header_value("WWW-Authenticate").find("Basic realm=") == 0);
            CHECK(password_in(res->body).empty());
        }
        SUBCASE("fail/wrong-password") {
            c->set_basic_auth("alice", "not-the-password");
            CHECK(c->Get("/certsrv/mscep_admin/")->status == 401);
            CHECK(server.sql("SELECT count(*) FROM admin_logins WHERE success = 0 AND name = 'alice'") ==
                  "1");
        }
        SUBCASE("ok/ndes-page") {
            c->set_basic_auth("alice", secret.c_str());
            auto res = c->Get("/certsrv/mscep_admin/");
            REQUIRE(res);
            CHECK(res->status == 200);
            CHECK(res->get_header_value("Cache-Control") == "no-store");
            const std::string pw = password_in(res->body);
            CHECK(pw.size() == 16);
            const std::string text = readers::page_text(res->body);
            CHECK(text.find("This password can be used only once and will expire within 60 minutes.") !=
                  std::string::npos);
            CHECK(text.find("The thumbprint (hash value) for the CA certificate is: <B> ") !=
                  std::string::npos);
            CHECK(server.sql("SELECT issued_by || '@' || issued_from FROM challenges") == "alice@127.0.0.1");
            CHECK(server.sql("SELECT count(*) FROM admin_logins WHERE success = 1") == "1");
            CHECK(server.log().find(pw) == std::string::npos);  // never logged
            // The password works once.
            Device device(0, "from-admin-page");
            auto csr = device.csr(pw);
            auto req =
                scep::build_pki_request({scep::MessageType::pkcs_req, "TX-ADMIN", {}}, crypto::csr_der(*csr),
                                        server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                        std::chrono::system_clock::now());
            auto view = scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                                            device.recipient());
            CHECK(view.status == scep::PkiStatus::success);
        }
    }

    TEST_CASE(
        "without the trailing slash: 401 until authenticated, then 301 to the slash URL, as IIS answers") {
        ServerFixture server;
        const std::string secret = server.add_admin("ivan");
        auto c = server.admin_client();
        SUBCASE("fail/no-credentials") {
            auto res = c->Get("/certsrv/mscep_admin");
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK_FALSE(res->has_header("Location"));
        }
        SUBCASE("fail/wrong-password") {
            c->set_basic_auth("ivan", "not-the-password");
            auto res = c->Get("/certsrv/mscep_admin");
            REQUIRE(res);
            CHECK(res->status == 401);
            CHECK_FALSE(res->has_header("Location"));
        }
        SUBCASE("ok/redirect-then-page") {
            c->set_basic_auth("ivan", secret.c_str());
            for (const std::string path : {"/certsrv/mscep_admin", "/CertSrv/MSCEP_ADMIN"}) {
                CAPTURE(path);
                auto res = c->Get(path);
                REQUIRE(res);
                CHECK(res->status == 301);
                CHECK(res->get_header_value("Location") == path + "/");
            }
            auto with_query = c->Get("/certsrv/mscep_admin?format=json");
            REQUIRE(with_query);
            CHECK(with_query->status == 301);
            CHECK(with_query->get_header_value("Location") == "/certsrv/mscep_admin/?format=json");
            CHECK(server.sql("SELECT count(*) FROM challenges") == "0");  // a redirect issues nothing
            c->set_follow_location(true);
            auto page = c->Get("/certsrv/mscep_admin");
            REQUIRE(page);
            CHECK(page->status == 200);
            CHECK(password_in(page->body).size() == 16);
        }
    }

    TEST_CASE("HEAD answers as a GET would but issues no password, so probes cannot fill PasswordMax") {
        ServerFixture server;  // PasswordMax 5
        const std::string secret = server.add_admin("probe");
        auto c = server.admin_client();
        c->set_basic_auth("probe", secret.c_str());
        for (int i = 0; i < 5; ++i) {
            auto head = c->Head("/certsrv/mscep_admin/");
            REQUIRE(head);
            CHECK(head->status == 200);
            CHECK(head->get_header_value("Cache-Control") == "no-store");
            CHECK(head->get_header_value("Content-Type").find("text/html") == 0);
        }
        CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
        auto page = c->Get("/certsrv/mscep_admin/");
        REQUIRE(page);
        CHECK(page->status == 200);
        CHECK(password_in(page->body).size() == 16);
        CHECK(server.sql("SELECT count(*) FROM challenges") == "1");
    }

    TEST_CASE("a GET from another site's page or for an embedded resource issues no password") {
        ServerFixture server;
        const std::string secret = server.add_admin("carol");
        auto c = server.admin_client();
        c->set_basic_auth("carol", secret.c_str());
        for (const auto& fetch : std::vector<std::pair<std::string, std::string>>{
                 {"cross-site", "document"},  // a link on another site
                 {"cross-site", "empty"},     // fetch() from another site
                 {"Cross-Site", "image"},     // <img> on another site
                 {"same-site", "image"},      // <img> on a sibling host
                 {"same-origin", "iframe"},
                 {"none", "script"}}) {
            const std::string& site = fetch.first;
            const std::string& destination = fetch.second;
            CAPTURE(site);
            CAPTURE(destination);
            auto res =
                c->Get("/certsrv/mscep_admin/", {{"Sec-Fetch-Site", site}, {"Sec-Fetch-Dest", destination}});
            REQUIRE(res);
            CHECK(res->status == 403);
            CHECK(res->body.find("Open /certsrv/mscep_admin/ directly") != std::string::npos);
            CHECK(password_in(res->body).empty());
        }
        auto no_dest = c->Get("/certsrv/mscep_admin/", {{"Sec-Fetch-Site", "cross-site"}});
        REQUIRE(no_dest);
        CHECK(no_dest->status == 403);
        CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
        CHECK(server.sql("SELECT count(*) FROM admin_logins") == "0");  // refused before the login
        // Typed or bookmarked, a request from the page itself, and clients without Sec-Fetch headers.
        for (const auto& headers :
             std::vector<httplib::Headers>{{{"Sec-Fetch-Site", "none"}, {"Sec-Fetch-Dest", "document"}},
                                           {{"Sec-Fetch-Site", "same-origin"}, {"Sec-Fetch-Dest", "empty"}},
                                           {}}) {
            auto res = c->Get("/certsrv/mscep_admin/", headers);
            REQUIRE(res);
            CHECK(res->status == 200);
            CHECK(password_in(res->body).size() == 16);
        }
        CHECK(server.sql("SELECT count(*) FROM challenges") == "3");
    }

    TEST_CASE("failed logins are throttled per address") {
        ServerFixture server;
        const std::string secret = server.add_admin("bob");
        auto c = server.admin_client();
        c->set_basic_auth("bob", "guess-guess-guess");
        for (int i = 0; i < 5; ++i) {
            CHECK(c->Get("/certsrv/mscep_admin/")->status == 401);
        }
        auto throttled = c->Get("/certsrv/mscep_admin/");
        CHECK(throttled->status == 429);
        CHECK(throttled->has_header("Retry-After"));
        c->set_basic_auth("bob", secret.c_str());
        CHECK(c->Get("/certsrv/mscep_admin/")->status == 429);  // even the right password waits
        server.clock().advance(std::chrono::minutes(16));
        CHECK(c->Get("/certsrv/mscep_admin/")->status == 200);
    }

    TEST_CASE("JSON for automation, the cache-full text, and binding by POST") {
        ServerFixture server([](std::string& conf) { set_key(conf, "PasswordMax", "2"); });
        const std::string secret = server.add_admin("robot");
        auto c = server.admin_client();
        c->set_basic_auth("robot", secret.c_str());
        httplib::Headers json{{"Accept", "application/json"}};
        auto first =
            c->Post("/certsrv/mscep_admin/",
                    R"({"subject": "router-*", "template": "IPSECIntermediateOffline", "validity": 15})",
                    "application/json");
        REQUIRE(first);
        CHECK(first->status == 200);
        CHECK(first->get_header_value("Content-Type") == "application/json");
        CHECK(std::regex_search(first->body, std::regex("\"password\":\"[0-9A-F]{16}\"")));
        CHECK(first->body.find("\"validity_minutes\":15") != std::string::npos);
        CHECK(first->body.find("\"bound_subject\":\"router-*\"") != std::string::npos);
        CHECK(server.sql("SELECT expected_subject || '|' || template FROM challenges") ==
              "router-*|IPSECIntermediateOffline");
        CHECK(c->Get("/certsrv/mscep_admin/")->status == 200);
        auto full_json = c->Get("/certsrv/mscep_admin/", json);
        CHECK(full_json->status == 409);
        CHECK(full_json->body.find("The password cache is full.") != std::string::npos);
        auto full_html = c->Get("/certsrv/mscep_admin/");
        CHECK(full_html->status == 200);
        CHECK(readers::page_text(full_html->body).find("The password cache is full.") != std::string::npos);
        CHECK(password_in(full_html->body).empty());
        CHECK(c->Post("/certsrv/mscep_admin/", R"({"validity": 0})", "application/json")->status == 400);
    }

    TEST_CASE("a bound validity may shorten a password's life but not outlive PasswordValidity") {
        ServerFixture server([](std::string& conf) { set_key(conf, "PasswordValidity", "30"); });
        const std::string secret = server.add_admin("dave");
        auto c = server.admin_client();
        c->set_basic_auth("dave", secret.c_str());
        for (const char* longer : {R"({"validity": 31})", R"({"validity": 525600})"}) {
            CAPTURE(longer);
            auto res = c->Post("/certsrv/mscep_admin/", longer, "application/json");
            REQUIRE(res);
            CHECK(res->status == 400);
            CHECK(res->body.find("at most 30 minutes") != std::string::npos);
            CHECK(res->body.find("PasswordValidity") != std::string::npos);
        }
        CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
        for (const char* within : {R"({"validity": 30})", R"({"validity": 5})"}) {
            CAPTURE(within);
            auto res = c->Post("/certsrv/mscep_admin/", within, "application/json");
            REQUIRE(res);
            CHECK(res->status == 200);
        }
        CHECK(server.sql("SELECT count(*) FROM challenges") == "2");
    }

    TEST_CASE("binding parameters are refused anywhere but in a POSTed JSON body") {
        ServerFixture server;
        const std::string secret = server.add_admin("mallory-target");
        auto c = server.admin_client();
        c->set_basic_auth("mallory-target", secret.c_str());
        const std::string page = "/certsrv/mscep_admin/";
        SUBCASE("fail/get-with-parameters") {
            // What a cross-site <img> would send with the browser's cached credentials.
            for (const char* query :
                 {"?subject=*&validity=525600", "?template=Any", "?validity=525600&format=json"}) {
                CAPTURE(query);
                auto res = c->Get(page + query, {{"Accept", "application/json"}});
                REQUIRE(res);
                CHECK(res->status == 400);
                CHECK(res->body.find("POST with Content-Type: application/json") != std::string::npos);
            }
        }
        SUBCASE("fail/cors-simple-post") {
            // Types a cross-site form or fetch can send without a preflight.
            for (const char* type : {"application/x-www-form-urlencoded", "text/plain"}) {
                CAPTURE(type);
                auto res = c->Post(page, R"({"subject": "*", "validity": 525600})", type);
                REQUIRE(res);
                CHECK(res->status == 415);
            }
            // httplib itself refuses a multipart body that is not one (400).
            auto multipart = c->Post(page, R"({"subject": "*"})", "multipart/form-data; boundary=x");
            REQUIRE(multipart);
            CHECK((multipart->status == 400 || multipart->status == 415));
        }
        SUBCASE("fail/bad-json") {
            for (const char* body : {"", "{", R"({"subject": ["*"]})", R"({"subject": "*", "subject": "x"})",
                                     R"({"validity": "60"})", R"({"validity": 60.5})", R"({"owner": "me"})",
                                     R"({"subject": ""})", R"({"subject": "a"} trailing)"}) {
                CAPTURE(body);
                auto res = c->Post(page, body, "application/json");
                REQUIRE(res);
                CHECK(res->status == 400);
            }
        }
        CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
        SUBCASE("ok/plain-get-and-json-post") {
            CHECK(password_in(c->Get(page)->body).size() == 16);
            CHECK(c->Get(page + "?format=json")->status == 200);
            CHECK(c->Post(page, R"({"subject":"cam-*"})", "application/json; charset=utf-8")->status == 200);
            CHECK(server.sql("SELECT count(*) FROM challenges") == "3");
        }
    }

    TEST_CASE("the page is UTF-16LE like NDES by default; the BOM and UTF-8 are settings") {
        auto page_with = [](const std::function<void(std::string&)>& edit) {
            ServerFixture server(edit);
            const std::string secret = server.add_admin("carol");
            auto c = server.admin_client();
            c->set_basic_auth("carol", secret.c_str());
            auto res = c->Get("/certsrv/mscep_admin/");
            REQUIRE(res);
            CHECK(res->status == 200);
            return std::make_pair(res->get_header_value("Content-Type"), res->body);
        };
        // Every character of the page is ASCII: UTF-16LE puts a zero after each.
        auto narrow_utf16le = [](const std::string& bytes) {
            std::string narrow;
            for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
                CHECK(bytes[i + 1] == '\0');
                narrow.push_back(bytes[i]);
            }
            return narrow;
        };
        SUBCASE("ok/default-utf16le-with-bom") {
            const auto [type, body] = page_with({});
            CHECK(type == "text/html; charset=utf-16");
            REQUIRE(body.size() > 2);
            CHECK(body.substr(0, 2) == "\xFF\xFE");
            const std::string html = narrow_utf16le(body.substr(2));
            CHECK(html.rfind("<HTML>", 0) == 0);
            CHECK(html.find("charset=UTF-16") != std::string::npos);
            CHECK(password_in(html).size() == 16);
        }
        SUBCASE("ok/utf16le-without-bom") {
            const auto [type, body] = page_with([](std::string& conf) { set_key(conf, "utf16_bom", "0"); });
            CHECK(type == "text/html; charset=utf-16le");
            CHECK(body.substr(0, 2) == std::string("<\0", 2));
            CHECK(password_in(narrow_utf16le(body)).size() == 16);
        }
        SUBCASE("ok/utf8-when-utf16-is-0") {
            const auto [type, body] = page_with([](std::string& conf) { set_key(conf, "utf16", "0"); });
            CHECK(type == "text/html; charset=utf-8");
            CHECK(body.find('\0') == std::string::npos);
            CHECK(body.rfind("<HTML>", 0) == 0);
            CHECK(body.find("charset=UTF-8") != std::string::npos);
            CHECK(password_in(body).size() == 16);
        }
    }

    TEST_CASE("the SCEP listener serves the admin page only when configured to") {
        SUBCASE("fail/not-by-default") {
            ServerFixture server;
            server.add_admin("dave");
            CHECK(server.client().Get("/certsrv/mscep_admin/")->status == 404);
        }
        SUBCASE("ok/on_scep_listener-with-allow_plaintext") {
            ServerFixture server([](std::string& conf) {
                set_key(conf, "on_scep_listener", "1");
                set_key(conf, "allow_plaintext", "1");
            });
            const std::string secret = server.add_admin("dave");
            auto c = server.client();
            CHECK(c.Get("/certsrv/mscep_admin/")->status == 401);
            c.set_basic_auth("dave", secret);
            c.set_follow_location(true);
            CHECK(password_in(c.Get("/CertSrv/mscep_admin")->body).size() == 16);
        }
    }

    TEST_CASE("admin passwords over plain HTTP need allow_plaintext") {
        auto config_error = [](const std::function<void(std::string&)>& edit) {
            try {
                ServerFixture server(edit);
            } catch (const cli::ConfigError& e) {
                return std::string(e.what());
            }
            return std::string();
        };
        SUBCASE("fail/on_scep_listener") {
            const std::string error =
                config_error([](std::string& conf) { set_key(conf, "on_scep_listener", "1"); });
            CHECK(error.find("scep-ra.conf: [admin] on_scep_listener") != std::string::npos);
            CHECK(error.find("allow_plaintext = 1") != std::string::npos);
        }
        SUBCASE("fail/admin-listener-without-tls") {
            const std::string error = config_error([](std::string& conf) {
                set_key(conf, "tls_cert", "");
                set_key(conf, "tls_key", "");
            });
            CHECK(error.find("scep-ra.conf: [admin] tls_cert") != std::string::npos);
        }
        SUBCASE("ok/admin-listener-without-tls-when-allowed") {
            ServerFixture server([](std::string& conf) {
                set_key(conf, "tls_cert", "");
                set_key(conf, "tls_key", "");
                set_key(conf, "allow_plaintext", "1");
            });
            const std::string secret = server.add_admin("frank");
            httplib::Client c("127.0.0.1", server.admin_port());
            c.set_basic_auth("frank", secret);
            CHECK(password_in(c.Get("/certsrv/mscep_admin/")->body).size() == 16);
        }
        SUBCASE("fail/plain-listener-made-without-the-file") {
            // As `serve --admin-listen` does when the file names no admin listener.
            ServerFixture server;
            const std::string secret = server.add_admin("grace");
            http::ListenOptions plain;
            plain.port = 0;
            std::ostringstream log;
            http::Listener listener(plain, {&server.instance().admin_site()}, log);
            const int port = listener.bind();
            std::thread runner([&] { listener.run(); });
            httplib::Client c("127.0.0.1", port);
            c.set_basic_auth("grace", secret);
            auto res = c.Get("/certsrv/mscep_admin/");
            listener.stop();
            runner.join();
            REQUIRE(res);
            CHECK(res->status == 403);
            CHECK(password_in(res->body).empty());
            CHECK(server.sql("SELECT count(*) FROM admin_logins") == "0");
        }
    }

    TEST_CASE("the page follows the password mode") {
        ServerFixture server([](std::string& conf) { set_key(conf, "EnforcePassword", "0"); });
        const std::string secret = server.add_admin("erin");
        auto c = server.admin_client();
        c->set_basic_auth("erin", secret.c_str());
        auto res = c->Get("/certsrv/mscep_admin/", {{"Accept", "application/json"}});
        CHECK(res->body.find("\"mode\":\"none\"") != std::string::npos);
        CHECK(res->body.find("\"password\"") == std::string::npos);
        CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
    }
}
