// SPDX-License-Identifier: Apache-2.0
// `scep-ra doctor` against a real `scep-ra serve`: GetCACaps compared with the
// configuration, and --enroll making a real enrolment, broken one way at a time.
#include <doctest/doctest.h>
#include <httplib.h>

#include <functional>
#include <memory>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/serve_process.hpp"
#include "support/doctor_instance.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

/// An instance made by `scep-ra init` (no admin listener), changed by `edit` before it is served.
class Served : public DoctorInstance {
  public:
    explicit Served(const std::function<void(std::string&)>& edit = {})
        : DoctorInstance("--admin-listen none") {
        if (edit) edit_config(edit);
        server = std::make_unique<ServeProcess>(tmp(), conf());
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(server->port()) + "/certsrv/mscep/mscep.dll";
    }
    /// doctor against the running server (or url_override).
    DoctorRun doctor(const std::string& extra = "", const std::string& url_override = "") const {
        return DoctorInstance::doctor("--url " + (url_override.empty() ? url() : url_override) + " " + extra);
    }

    std::unique_ptr<ServeProcess> server;
};

std::string between(const std::string& text, const std::string& before, char end) {
    const auto start = text.find(before);
    REQUIRE(start != std::string::npos);
    const auto from = start + before.size();
    return text.substr(from, text.find(end, from) - from);
}

}  // namespace

TEST_SUITE("http.doctor") {
    TEST_CASE(
        "doctor --enroll issues a test certificate through the server with one one-time password, checks its "
        "chain, revokes it, and the audit trail names it") {
        Served served;
        const DoctorRun run = served.doctor("--enroll");
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("pass", "GetCACaps").find("advertises") != std::string::npos);
        CHECK(run.line("pass", "test enrolment").find("which chains to the CA") != std::string::npos);
        CHECK(run.line("pass", "test enrolment: consumed").find("one one-time password") !=
              std::string::npos);
        const std::string serial = between(run.out, "issued serial ", ' ');
        const std::string cn = between(run.out, "to CN=", ',');
        CHECK(cn.starts_with("scep-ra-doctor-"));
        CHECK(run.line("pass", "test enrolment: revocation").find("revoked serial " + serial) !=
              std::string::npos);

        std::string out;
        REQUIRE(served.scep_ra("audit --subject CN=" + cn, &out) == 0);
        CHECK(out.find("issued") != std::string::npos);
        // Really revoked: the CA refuses to revoke it again (exit 3).
        CHECK(served.scep_ra("revoke " + serial) == 3);
        // The one-time password it took is used, by the doctor's transaction.
        REQUIRE(served.scep_ra("password list --json", &out) == 0);
        CHECK(out.find("\"state\":\"used\"") != std::string::npos);
        CHECK(out.find("\"issued_by\":\"doctor\"") != std::string::npos);
    }

    TEST_CASE(
        "a server that does not answer fails GetCACaps and --enroll, and the enrolment consumes nothing") {
        Served served;
        const DoctorRun run = served.doctor("--enroll", "http://127.0.0.1:1/certsrv/mscep/mscep.dll");
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK_FALSE(run.line("fail", "GetCACaps").empty());
        CHECK(run.line("fail", "test enrolment").find("no enrolment") != std::string::npos);
        CHECK(run.has("fix: start the server"));
        std::string out;
        REQUIRE(served.scep_ra("password list --json", &out) == 0);
        CHECK(out.find("\"id\"") == std::string::npos);
    }

    TEST_CASE(
        "a server running with another configuration warns: Renewal advertised though disabled, a prepared "
        "rollover not published; allow_single_des = 1 warns") {
        Served served;
        served.edit_config([](std::string& text) {
            set_key(text, "allow_single_des", "1");
            text.replace(text.find("\nenabled = 1\n", text.find("[renewal]")), 13, "\nenabled = 0\n");
        });
        DoctorRun run = served.doctor();
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("warn", "GetCACaps: Renewal").find("advertised, though [renewal] enabled = 0") !=
              std::string::npos);
        CHECK(run.line("warn", "GetCACaps: single DES").find("allow_single_des = 1") != std::string::npos);
        CHECK(run.has("fix: restart it"));
        CHECK(run.out.ends_with("ok, with warnings\n"));

        served.edit_config([](std::string& text) {
            set_key(text, "allow_single_des", "0");
            text.replace(text.find("\nenabled = 0\n", text.find("[renewal]")), 13, "\nenabled = 1\n");
        });
        REQUIRE(served.scep_ra("ra rollover") == 0);
        run = served.doctor();
        CHECK(run.status == 0);
        CHECK(run.line("warn", "GetCACaps: GetNextCACert").find("does not publish it") != std::string::npos);
        CHECK(run.has("fix: `scep-ra reload"));
        CHECK(run.line("warn", "GetCACaps: Renewal").empty());
    }

    TEST_CASE("a full password cache fails --enroll with its fix, and takes no password") {
        Served served;
        for (int i = 0; i < 5; ++i) REQUIRE(served.scep_ra("password issue") == 0);
        const DoctorRun run = served.doctor("--enroll");
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.line("fail", "test enrolment").find("The password cache is full.") != std::string::npos);
        CHECK(run.has("fix: revoke unused ones"));
        CHECK(run.line("pass", "GetCACaps").size() > 0);
    }

    TEST_CASE(
        "in single-password mode --enroll needs the password on stdin; a wrong one fails with the failInfo, "
        "the right one enrols and stays valid") {
        Served served([](std::string& text) { set_key(text, "UseSinglePassword", "1"); });
        const std::string secret = served.tmp().file("single");
        crypto::write_file(secret, "correct horse battery\n", 0600, true);
        REQUIRE(served.scep_ra("password set-single --file " + secret) == 0);

        DoctorRun run = served.doctor("--enroll");
        CAPTURE(run.out);
        CHECK(run.status == 1);
        CHECK(run.line("fail", "test enrolment").find("UseSinglePassword = 1") != std::string::npos);

        crypto::write_file(served.tmp().file("wrong"), "wrong horse\n", 0600, true);
        run = served.doctor("--enroll --single-password-file - <" + served.tmp().file("wrong"));
        CHECK(run.status == 1);
        CHECK(run.line("fail", "test enrolment").find("failInfo badRequest") != std::string::npos);

        run = served.doctor("--enroll --single-password-file - <" + secret);
        CHECK(run.status == 0);
        CHECK(run.line("pass", "test enrolment: consumed").find("the single password (it stays valid)") !=
              std::string::npos);
    }

    TEST_CASE("a template held for manual approval makes --enroll warn PENDING with the deny fix") {
        Served served(
            [](std::string& text) { text += "\n[profile.IPSECIntermediateOffline]\nmanual_approval = 1\n"; });
        const DoctorRun run = served.doctor("--enroll");
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("warn", "test enrolment").find("held PENDING") != std::string::npos);
        CHECK(run.has("fix: deny it: `scep-ra request list` shows the request for CN=scep-ra-doctor-"));
        CHECK(run.line("pass", "test enrolment: consumed").find("one one-time password") !=
              std::string::npos);
        CHECK(run.line("pass", "test enrolment: revocation").empty());
        std::string out;
        REQUIRE(served.scep_ra("request list", &out) == 0);
        CHECK(out.find("CN=scep-ra-doctor-") != std::string::npos);
    }

    TEST_CASE("with EnforcePassword = 0 --enroll consumes no password") {
        Served served([](std::string& text) { set_key(text, "EnforcePassword", "0"); });
        const DoctorRun run = served.doctor("--enroll");
        CAPTURE(run.out);
        CHECK(run.status == 0);
        CHECK(run.line("pass", "test enrolment: consumed").find("no challenge password") !=
              std::string::npos);
    }

    TEST_CASE(
        "a hostile server's endless or unknown GetCACaps answer is a bounded fail, not a hang or a crash") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        httplib::Server hostile;
        const std::string huge(3 << 20, 'A');
        hostile.Get("/certsrv/mscep/mscep.dll", [&](const httplib::Request& req, httplib::Response& res) {
            res.set_content(req.get_param_value("operation") == "GetCACaps"
                                ? std::string("POSTPKIOperation\r\nDES\r\n\x1b]0;owned\x07\r\n")
                                : huge,
                            "application/x-x509-ca-ra-cert");
        });
        const int port = hostile.bind_to_any_port("127.0.0.1");
        std::thread thread([&] { hostile.listen_after_bind(); });
        std::string out;
        const int status = run_scep_ra(dir,
                                       "doctor --enroll --config " + conf + " --url http://127.0.0.1:" +
                                           std::to_string(port) + "/certsrv/mscep/mscep.dll",
                                       &out);
        hostile.stop();
        thread.join();
        CAPTURE(out);
        CHECK(status == 1);
        CHECK(out.find("fail  GetCACaps: DES: single DES is advertised") != std::string::npos);
        CHECK(out.find("fail  GetCACaps: SHA-256: not advertised") != std::string::npos);
        CHECK(out.find("fail  test enrolment: no enrolment: the reply is larger than") != std::string::npos);
        // A keyword made of terminal escapes reaches the terminal escaped.
        CHECK(out.find('\x1b') == std::string::npos);
        CHECK(out.find("warn  GetCACaps: \\x1b]0;owned\\x07: advertised") != std::string::npos);
    }
}
