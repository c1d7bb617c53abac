// SPDX-License-Identifier: Apache-2.0
// The admin page as the products that scrape NDES read it (Fleet, ManageEngine,
// Zentral, PSNDESEnrollment; see ndes_page_readers.hpp), on the bytes the real
// server sends, with the byte order mark on and off and as UTF-8.
#include <doctest/doctest.h>

#include <functional>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "integration/ndes_page_readers.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;
namespace readers = scepra::test::readers;
using readers::FleetResult;

namespace {

struct Page {
    std::string content_type;
    std::string body;
};

Page admin_page(ServerFixture& server, const std::string& account = "reader") {
    static int n = 0;
    const std::string name = account + std::to_string(++n);
    const std::string secret = server.add_admin(name);
    auto c = server.admin_client();
    c->set_basic_auth(name.c_str(), secret.c_str());
    auto res = c->Get("/certsrv/mscep_admin/");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    return {res->get_header_value("Content-Type"), res->body};
}

/// The password enrols a device: it is the one the server issued.
bool enrols_with(ServerFixture& server, const std::string& password, const std::string& cn) {
    Device device(0, cn);
    auto csr = device.csr(password);
    auto req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-" + cn, {}}, crypto::csr_der(*csr),
                                       server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                       std::chrono::system_clock::now());
    auto view = scep::read_cert_rep(as_bytes(send_pki(server, req).body), server.ra_signing_cert(),
                                    device.recipient());
    return view.status == scep::PkiStatus::success;
}

std::function<void(std::string&)> bom(bool on) {
    return [on](std::string& conf) { set_key(conf, "utf16_bom", on ? "1" : "0"); };
}

}  // namespace

TEST_SUITE("http.admin.readers") {
    TEST_CASE("every NDES reader finds the same one-time password, with or without the BOM") {
        for (const bool with_bom : {true, false}) {
            CAPTURE(with_bom);
            ServerFixture server(bom(with_bom));
            const Page page = admin_page(server);
            CHECK(readers::starts_with(page.body, "\xFF\xFE") == with_bom);

            const FleetResult fleet = readers::fleet_read(page.body, page.content_type);
            REQUIRE(fleet.kind == FleetResult::Kind::password);
            const std::string password = fleet.password;
            CHECK(password.size() == 16);
            CHECK(readers::manageengine_read(page.body) == password);
            CHECK(readers::psndes_read(page.body) == password);
            if (with_bom) {
                CHECK(readers::zentral_read(page.body) == password);
            } else {
                // Zentral decodes "utf-16", which needs the BOM (README says so).
                CHECK_FALSE(readers::zentral_read(page.body).has_value());
            }
            CHECK(enrols_with(server, password, with_bom ? "reader-bom" : "reader-no-bom"));
        }
    }

    TEST_CASE("the CA thumbprint is NDES's MD5 in groups of 8, before the password") {
        ServerFixture server;
        const std::string text = readers::page_text(admin_page(server).body);
        const std::string md5 = to_hex(crypto::digest("MD5", crypto::cert_der(server.ca_cert())));
        std::string grouped;
        for (size_t i = 0; i < md5.size(); i += 8) {
            grouped += (i ? " " : "") + md5.substr(i, 8);
        }
        const size_t thumbprint = text.find("The thumbprint (hash value) for the CA certificate is: <B> " +
                                            grouped + " </B> <P> The enrollment challenge password is: <B> ");
        CHECK(thumbprint != std::string::npos);
        // One line, as ManageEngine's markers and Fleet's regex expect.
        CHECK(text.find('\n', thumbprint) > text.find("This password can be used only once", thumbprint));
        CHECK(text.find("BgColor=#008080") < thumbprint);  // NDES's teal title bar
    }

    TEST_CASE("the cache-full page: Fleet recognises it, no reader takes a password from it") {
        for (const bool with_bom : {true, false}) {
            CAPTURE(with_bom);
            ServerFixture server([&](std::string& conf) {
                bom(with_bom)(conf);
                set_key(conf, "PasswordMax", "1");
            });
            const Page first = admin_page(server);
            REQUIRE(readers::fleet_read(first.body, first.content_type).kind == FleetResult::Kind::password);
            const Page full = admin_page(server);
            CHECK(readers::fleet_read(full.body, full.content_type).kind == FleetResult::Kind::cache_full);
            CHECK_FALSE(readers::manageengine_read(full.body).has_value());
            CHECK_FALSE(readers::psndes_read(full.body).has_value());
            CHECK_FALSE(readers::zentral_read(full.body).has_value());
            CHECK(server.sql("SELECT count(*) FROM challenges") == "1");
        }
    }

    TEST_CASE("a view account gets NDES's permission page: Fleet recognises it, no password is made") {
        for (const bool with_bom : {true, false}) {
            CAPTURE(with_bom);
            ServerFixture server(bom(with_bom));
            const std::string secret = "viewer-password-0123";
            server.instance().admins().add("viewer", secret, store::AdminRole::view);
            auto c = server.admin_client();
            c->set_basic_auth("viewer", secret.c_str());
            auto res = c->Get("/certsrv/mscep_admin/");
            REQUIRE(res);
            CHECK(res->status == 200);  // as NDES: the page says it
            CHECK(readers::fleet_read(res->body, res->get_header_value("Content-Type")).kind ==
                  FleetResult::Kind::insufficient_permissions);
            CHECK_FALSE(readers::manageengine_read(res->body).has_value());
            CHECK_FALSE(readers::psndes_read(res->body).has_value());
            CHECK_FALSE(readers::zentral_read(res->body).has_value());
            auto json = c->Get("/certsrv/mscep_admin/", {{"Accept", "application/json"}});
            REQUIRE(json);
            CHECK(json->status == 403);
            CHECK(json->body.find("\"password\"") == std::string::npos);
            auto bound = c->Post("/certsrv/mscep_admin/", R"({"subject":"cam-*"})", "application/json");
            REQUIRE(bound);
            CHECK(bound->status == 403);
            CHECK(server.sql("SELECT count(*) FROM challenges") == "0");
            CHECK(server.sql("SELECT count(*) FROM admin_logins WHERE name = 'viewer' AND success = 1") ==
                  "3");
            CHECK(server.log().find("may not issue passwords (role view)") != std::string::npos);
        }
    }

    TEST_CASE("single-password mode: the password is not on the page and nothing passes for it") {
        ServerFixture server([](std::string& conf) { set_key(conf, "UseSinglePassword", "1"); });
        const Page page = admin_page(server);
        CHECK(readers::page_text(page.body).find(
                  "This password can be used multiple times and will not expire.") != std::string::npos);
        CHECK(readers::fleet_read(page.body, page.content_type).kind == FleetResult::Kind::not_found);
        CHECK_FALSE(readers::manageengine_read(page.body).has_value());
        CHECK_FALSE(readers::zentral_read(page.body).has_value());
        CHECK_FALSE(readers::psndes_read(page.body).has_value());
    }

    TEST_CASE("served as UTF-8 (utf16 = 0), Fleet and ManageEngine still read it") {
        ServerFixture server([](std::string& conf) { set_key(conf, "utf16", "0"); });
        const Page page = admin_page(server);
        const FleetResult fleet = readers::fleet_read(page.body, page.content_type);
        REQUIRE(fleet.kind == FleetResult::Kind::password);
        CHECK(readers::manageengine_read(page.body) == fleet.password);
        CHECK(enrols_with(server, fleet.password, "reader-utf8"));
    }
}
