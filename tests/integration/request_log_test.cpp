// SPDX-License-Identifier: Apache-2.0
// The request log of a real `scep-ra serve`: one line per request, as text or
// as JSON lines ([log] format = json), with client text escaped and no secret.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "crypto/encoding.hpp"
#include "integration/serve_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::PkiStatus;

namespace {

struct LoggedRun {
    std::string log;
    std::string password;
};

/// Serves the instance, sends a success, a wrong password, a GetCACaps and a
/// hostile path, stops the server and returns its log.
LoggedRun run_requests(const TempDir& dir, const std::string& conf) {
    std::string password;
    REQUIRE(run_scep_ra(dir, "password issue --config " + conf, &password) == 0);
    password = password.substr(0, password.find('\n'));
    ServeProcess server(dir, conf);
    ProcessClient client(dir.file("instance"), server.port());
    Device good(0, "log-good"), bad(1, "log-bad");
    CHECK(client.enrol(good, password, "TX-LOG-1").status == PkiStatus::success);
    CHECK(client.enrol(bad, "0123456789ABCDEF", "TX-LOG-2").status == PkiStatus::failure);
    auto http = client.http();
    CHECK(http.Get("/certsrv/mscep/mscep.dll?operation=GetCACaps")->status == 200);
    // A terminal escape, a quote and a forged second line in the path.
    CHECK(http.Get("/certsrv/%1b%5b31m%22x%0a2026-01-01T00:00:00.000Z info FORGED")->status == 404);
    server.stop();
    return {server.log(), password};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::string line_with(const std::string& log, const std::string& needle) {
    for (const auto& line : lines_of(log)) {
        if (line.find(needle) != std::string::npos) return line;
    }
    FAIL("no log line with " << needle << " in:\n" << log);
    return {};
}

}  // namespace

TEST_SUITE("http.request_log") {
    TEST_CASE("text log: one line per request with level, peer, outcome, failInfo, duration and backend") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        const LoggedRun run = run_requests(dir, conf);
        CAPTURE(run.log);
        const std::string ok = line_with(run.log, "tx=TX-LOG-1");
        CHECK(ok.find(" info 127.0.0.1 POST /certsrv/mscep/mscep.dll 200 ") != std::string::npos);
        CHECK(ok.find("PKIOperation PKCSReq tx=TX-LOG-1") != std::string::npos);
        CHECK(ok.find(" success") != std::string::npos);
        CHECK(ok.find("ms ") != std::string::npos);
        CHECK(ok.ends_with(" backend=local"));
        const std::string failed = line_with(run.log, "tx=TX-LOG-2");
        CHECK(failed.find(" warn 127.0.0.1 POST ") != std::string::npos);
        CHECK(failed.find("badRequest") != std::string::npos);
        CHECK(line_with(run.log, "GetCACaps").find(" info ") != std::string::npos);
        const std::string hostile = line_with(run.log, "FORGED");
        CHECK(hostile.find(" warn ") != std::string::npos);
        CHECK(hostile.find("\\x1b[31m\"x\\x0a2026-01-01") != std::string::npos);
        for (const auto& line : lines_of(run.log)) {
            CHECK_FALSE(line.starts_with("2026-01-01T00:00:00.000Z"));  // no forged line
            CHECK(line.find('\x1b') == std::string::npos);
        }
        CHECK(run.log.find(run.password) == std::string::npos);
    }

    TEST_CASE("[log] format = json: every request line is a JSON object with the request's fields") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        set_key(text, "format", "json");
        crypto::write_file(conf, text, 0640, true);
        const LoggedRun run = run_requests(dir, conf);
        CAPTURE(run.log);
        std::vector<nlohmann::json> entries;
        for (const auto& line : lines_of(run.log)) {
            if (line.starts_with("scep-ra ")) continue;  // start and stop messages
            CAPTURE(line);
            REQUIRE_NOTHROW(entries.push_back(nlohmann::json::parse(line)));
            REQUIRE(entries.back().is_object());
        }
        REQUIRE(entries.size() == 4);
        auto find = [&](const std::string& key, const std::string& value) {
            for (const auto& e : entries)
                if (e[key].is_string() && e[key].get<std::string>().find(value) != std::string::npos)
                    return e;
            FAIL("no entry with " << key << " " << value);
            return nlohmann::json();
        };
        const auto ok = find("transaction_id", "TX-LOG-1");
        CHECK(ok["level"] == "info");
        CHECK(ok["peer"] == "127.0.0.1");
        CHECK(ok["method"] == "POST");
        CHECK(ok["status"] == 200);
        CHECK(ok["operation"] == "PKIOperation");
        CHECK(ok["message_type"] == "PKCSReq");
        CHECK(ok["outcome"] == "success");
        CHECK(ok["fail_info"].is_null());
        CHECK(ok["backend"] == "local");
        CHECK(ok["duration_ms"].is_number());
        CHECK(ok["duration_ms"].get<double>() >= 0);
        CHECK(ok["time"].get<std::string>().ends_with("Z"));
        const auto failed = find("transaction_id", "TX-LOG-2");
        CHECK(failed["level"] == "warn");
        CHECK(failed["outcome"] == "failure");
        CHECK(failed["fail_info"] == "badRequest");
        const auto caps = find("operation", "GetCACaps");
        CHECK(caps["outcome"] == "success");
        CHECK(caps["backend"].is_null());
        const auto hostile = find("path", "FORGED");
        CHECK(hostile["status"] == 404);
        CHECK(hostile["path"].get<std::string>().find("\\x1b[31m\"x\\x0a") != std::string::npos);
        CHECK(run.log.find(run.password) == std::string::npos);
    }

    TEST_CASE("[log] format other than text or json is a config error naming the section and key") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        set_key(text, "format", "xml");
        crypto::write_file(conf, text, 0640, true);
        std::string out, err;
        CHECK(run_scep_ra(dir, "check-config --config " + conf, &out, &err) == 1);
        CHECK((out + err).find("[log] format must be text or json, not 'xml'") != std::string::npos);
    }
}

TEST_SUITE("http.request_log.format") {
    TEST_CASE("every byte a client can send leaves a JSON line valid, printable ASCII and on one line") {
        std::string hostile;
        for (int b = 0; b < 256; ++b) hostile.push_back(static_cast<char>(b));
        http::RequestLogLine line{"2026-12-02T00:00:00.000Z", hostile, hostile, hostile, 200, 1.5, {hostile}};
        line.served.operation = hostile;
        line.served.message_type = hostile;
        line.served.transaction_id = hostile;
        line.served.outcome = "success";
        for (auto format : {http::LogFormat::json, http::LogFormat::text}) {
            const std::string text = http::format_request_log(format, line);
            for (const char c : text) {
                CHECK((c >= 0x20 && c < 0x7f));
            }
            if (format == http::LogFormat::json) {
                nlohmann::json parsed;
                REQUIRE_NOTHROW(parsed = nlohmann::json::parse(text));
                CHECK(parsed["transaction_id"].get<std::string>().starts_with("\\x00\\x01"));
                CHECK(parsed["duration_ms"] == 1.5);
            }
        }
    }
}
