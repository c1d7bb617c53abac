// SPDX-License-Identifier: Apache-2.0
// A full disk under a real `scep-ra serve` process (issue 16). The disk is made
// full with RLIMIT_FSIZE, which any user may lower for a process it starts and
// raise again up to the hard limit (prlimit --pid), with SIGXFSZ ignored so a
// write past it fails with EFBIG instead of killing the process: SQLite's WAL
// then cannot grow, exactly as on a full file system. No mount, no root.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>

#include "crypto/encoding.hpp"
#include "integration/database_queries.hpp"
#include "integration/server_fixture.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"
#include "support/scep_ra_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::MessageType;
using scep::PkiStatus;

namespace {

constexpr int devices = 60;
constexpr std::string_view storage_full_text = "the RA cannot store requests now; try again later";

/// `scep-ra serve` whose files may not grow past file_limit bytes (0: no limit), with SIGXFSZ ignored.
ServeOptions limited(const std::string& name, std::uintmax_t file_limit) {
    ServeOptions options{.name = name, .ignored_signals = {SIGXFSZ}};
    if (file_limit != 0) {
        options.wrapper = {"prlimit", "--fsize=" + std::to_string(file_limit) + ":"};
    }
    return options;
}

/// Space returns: the running process may write again.
void lift_limit(const ServeProcess& server) {
    REQUIRE(std::system(("prlimit --pid " + std::to_string(server.pid()) + " --fsize=unlimited:").c_str()) ==
            0);
}

struct FullDiskAttempt {
    std::string transaction_id;
    std::unique_ptr<Device> device;
    Bytes message;
};

enum class Answer { issued, pending, storage_full, other };

Answer send_attempt(int port, FullDiskAttempt& a, X509& ra_signing, std::string* why = nullptr) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    auto res = c.Post("/certsrv/mscep/mscep.dll?operation=PKIOperation",
                      std::string(a.message.begin(), a.message.end()), "application/x-pki-message");
    if (!res || res->status != 200) {
        if (why) *why = res ? "HTTP " + std::to_string(res->status) : "no answer";
        return Answer::other;
    }
    auto view = scep::read_cert_rep(as_bytes(res->body), ra_signing, a.device->recipient());
    if (why) *why = view.fail_info_text.value_or("");
    if (view.status == PkiStatus::success && !view.certs.empty()) return Answer::issued;
    if (view.status == PkiStatus::pending) return Answer::pending;
    if (view.status == PkiStatus::failure && view.fail_info == scep::FailInfo::bad_request &&
        view.fail_info_text == storage_full_text)
        return Answer::storage_full;
    return Answer::other;
}

/// Nothing half-written: a used one-time password always has its claim, a
/// certificate the CA issued always its transaction.
void check_whole(const std::filesystem::path& db_file) {
    CHECK(query_text(db_file, "PRAGMA integrity_check") == "ok");
    CHECK(query_text(db_file,
                     "SELECT count(*) FROM challenges c WHERE used_at IS NOT NULL AND NOT EXISTS "
                     "(SELECT 1 FROM requests r WHERE r.challenge_id = c.id)") == "0");
    CHECK(query_text(
              db_file,
              "SELECT count(*) FROM issued_certs i WHERE i.transaction_id LIKE 'FULL-%' AND (SELECT count(*) "
              "FROM requests r WHERE r.transaction_id = i.transaction_id) != 1") == "0");
    CHECK(query_text(
              db_file,
              "SELECT count(*) FROM requests r WHERE r.status = 'issued' AND NOT EXISTS (SELECT 1 FROM "
              "issued_certs i WHERE i.transaction_id = r.transaction_id AND i.der = r.cert_der)") == "0");
}

}  // namespace

TEST_SUITE("http.disk_full") {
    TEST_CASE(
        "a full disk: a clear FAILURE, nothing half-written, GetCACert still served, and enrolment resumes "
        "when space returns") {
        TempDir dir;
        const std::string inst = dir.file("ra");
        const std::string conf = inst + "/scep-ra.conf";
        const std::filesystem::path db_file = inst + "/scep-ra.db";
        init_from_template(inst, "--admin-listen none");
        auto ra_signing = crypto::load_cert_file(inst + "/ra-signing.pem");
        auto ra_encryption = crypto::load_cert_file(inst + "/ra-encryption.pem");
        std::vector<FullDiskAttempt> attempts(devices);
        {
            auto db = store::Database::open(db_file, false);
            SystemClock clock;
            store::ChallengeStore passwords(
                *db, store::ChallengeStore::load_or_create_key(inst + "/private/challenge-hmac.key"), clock);
            const store::ChallengePolicy policy{devices + 1, 8, std::chrono::minutes(60)};
            for (int i = 0; i < devices; ++i) {
                FullDiskAttempt& a = attempts[static_cast<size_t>(i)];
                a.transaction_id = "FULL-" + std::to_string(i);
                a.device = std::make_unique<Device>(static_cast<size_t>(i), "full-" + std::to_string(i));
                auto csr = a.device->csr(passwords.issue(policy, "cli", std::nullopt).password);
                a.message = scep::build_pki_request(
                    {MessageType::pkcs_req, a.transaction_id, {}}, crypto::csr_der(*csr), *ra_encryption,
                    {"AES-128-CBC", false}, a.device->signer(), std::chrono::system_clock::now());
            }
        }
        // The database file may not grow at all, its write-ahead log only to the same size: a few
        // enrolments fit, then every write fails as on a full disk.
        const auto limit = std::filesystem::file_size(db_file);
        ServeProcess server(dir, conf, limited("full", limit));

        std::vector<size_t> refused;  // the devices told to try again later
        int issued = 0;
        for (size_t i = 0; i < attempts.size() && refused.size() < 3; ++i) {
            CAPTURE(attempts[i].transaction_id);
            std::string why;
            const Answer answer = send_attempt(server.port(), attempts[i], *ra_signing, &why);
            CAPTURE(why);
            CHECK(answer != Answer::other);  // never a crash, an HTTP error or an unclear text
            if (answer == Answer::issued) ++issued;
            if (answer != Answer::issued) refused.push_back(i);
        }
        MESSAGE(issued << " enrolments fitted before the disk was full (limit " << limit << " bytes)");
        if (refused.empty()) MESSAGE(server.log());
        REQUIRE(!refused.empty());
        check_whole(db_file);
        // The service still answers what needs no writing.
        httplib::Client c("127.0.0.1", server.port());
        auto ca = c.Get("/certsrv/mscep/mscep.dll?operation=GetCACert");
        REQUIRE(ca);
        CHECK(ca->status == 200);

        // Space returns: no restart, every refused device sends its request again.
        lift_limit(server);
        std::vector<size_t> still_pending;
        for (size_t i : refused) {
            CAPTURE(attempts[i].transaction_id);
            const Answer answer = send_attempt(server.port(), attempts[i], *ra_signing);
            // A claim committed just before the disk filled, whose outcome could not be stored, is
            // PENDING: this run cannot tell it from one still in flight (resumed after 10 minutes,
            // or at once by the next run of the server).
            CHECK((answer == Answer::issued || answer == Answer::pending));
            if (answer == Answer::pending) still_pending.push_back(i);
        }
        CHECK(send_attempt(server.port(), attempts[refused.back() + 1], *ra_signing) == Answer::issued);
        check_whole(db_file);
        server.kill9();

        ServeProcess restarted(dir, conf, limited("restarted", 0));
        for (size_t i : still_pending) {
            CAPTURE(attempts[i].transaction_id);
            CHECK(send_attempt(restarted.port(), attempts[i], *ra_signing) == Answer::issued);
        }
        check_whole(db_file);
        MESSAGE(refused.size() << " refused while full, " << still_pending.size()
                               << " of them pending until the next start");
    }
}
