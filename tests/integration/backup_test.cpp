// SPDX-License-Identifier: Apache-2.0
// `scep-ra backup` while a real `scep-ra serve` enrols devices: every copy is
// a consistent database, and an instance restored from one serves its state.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/serve_process.hpp"
#include "store/database.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::PkiStatus;

namespace {

/// What a copy holds, read through scep-ra's own store code (which also
/// applies any migration, as a restored instance would).
struct CopyState {
    std::string integrity;
    std::int64_t issued = 0;
    std::int64_t unfinished = 0;  ///< issued rows without their certificate (a torn copy)
};

CopyState inspect(const std::string& file) {
    auto db = store::Database::open(file, false);
    return db->read([](store::Database& d) {
        CopyState s;
        auto check = d.prepare("PRAGMA integrity_check");
        s.integrity = check.step() ? check.column_text(0) : "";
        auto issued = d.prepare("SELECT count(*) FROM requests WHERE status = 'issued'");
        s.issued = issued.step() ? issued.column_int(0) : -1;
        auto torn = d.prepare("SELECT count(*) FROM requests WHERE status = 'issued' AND cert_der IS NULL");
        s.unfinished = torn.step() ? torn.column_int(0) : -1;
        return s;
    });
}

std::string serial_of(const scep::CertRepView& view) {
    REQUIRE(!view.certs.empty());
    return crypto::serial_hex(*view.certs.front());
}

}  // namespace

TEST_SUITE("http.backup") {
    TEST_CASE(
        "backups taken during enrolments are consistent, and a restored instance answers from its state") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        std::string text = crypto::read_file(conf);
        set_key(text, "EnforcePassword", "0");  // the load needs no passwords
        crypto::write_file(conf, text, 0640, true);
        auto server = std::make_unique<ServeProcess>(dir, conf);
        ProcessClient client(dir.file("instance"), server->port());

        Device first(0, "backup-0");
        const std::string first_serial = serial_of(client.enrol(first, "", "TX-BACKUP-0"));

        constexpr int load = 40;
        std::atomic<int> enrolled{1};
        std::atomic<bool> stop{false};
        std::thread enrolments([&] {
            for (int i = 1; i < load && !stop; ++i) {
                Device device(static_cast<size_t>(i), "backup-" + std::to_string(i));
                if (client.enrol(device, "", "TX-BACKUP-" + std::to_string(i)).status == PkiStatus::success) {
                    ++enrolled;
                }
            }
        });
        std::vector<std::string> copies;
        for (int b = 0; b < 3; ++b) {
            // Each backup starts after a few more enrolments were committed (bounded wait).
            for (int i = 0; i < 2000 && enrolled < 3 + 8 * b && enrolled < load; ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const std::string copy = dir.file("copy-" + std::to_string(b) + ".db");
            std::string out, err;
            CHECK(run_scep_ra(dir, "backup --config " + conf + " --to " + copy, &out, &err) == 0);
            CAPTURE(err);
            CHECK(out.find("integrity ok") != std::string::npos);
            copies.push_back(copy);
        }
        stop = true;
        enrolments.join();
        const int total = enrolled;

        std::int64_t previous = 0;
        for (const auto& copy : copies) {
            CAPTURE(copy);
            REQUIRE(std::filesystem::exists(copy));
            CHECK_FALSE(std::filesystem::exists(copy + ".partial"));
            CHECK_FALSE(std::filesystem::exists(copy + "-wal"));  // one self-contained file
            struct stat st {};
            REQUIRE(::stat(copy.c_str(), &st) == 0);
            CHECK((st.st_mode & 0777) == 0600);
            const CopyState state = inspect(copy);
            CHECK(state.integrity == "ok");
            CHECK(state.unfinished == 0);
            CHECK(state.issued >= previous);  // later copies hold at least as much
            CHECK(state.issued >= 1);
            CHECK(state.issued <= total);
            previous = state.issued;
        }

        // Restore (README): stop the server, put the copy in place of the database, start again.
        server->stop();
        server.reset();
        const std::string db = dir.file("instance/scep-ra.db");
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
        std::filesystem::copy_file(copies.front(), db);
        std::string out, err;
        CHECK(run_scep_ra(dir, "check-config --config " + conf, &out, &err) == 0);
        ServeProcess restored(dir, conf);
        ProcessClient again(dir.file("instance"), restored.port());
        // The device re-sending its first request gets the very certificate the copy recorded.
        Device first_again(0, "backup-0");
        const auto reply = again.enrol(first_again, "", "TX-BACKUP-0");
        CHECK(reply.status == PkiStatus::success);
        CHECK(serial_of(reply) == first_serial);
    }

    TEST_CASE("backup never overwrites a file and fails clearly without a destination directory") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        const std::string existing = dir.file("existing.db");
        crypto::write_file(existing, "precious\n", 0600, true);
        std::string out, err;
        CHECK(run_scep_ra(dir, "backup --config " + conf + " --to " + existing, &out, &err) == 1);
        CHECK(err.find("already exists") != std::string::npos);
        CHECK(crypto::read_file(existing) == "precious\n");

        CHECK(run_scep_ra(dir, "backup --config " + conf + " --to " + dir.file("no/such/dir/copy.db"), &out,
                          &err) == 1);
        CHECK(err.find("does the directory exist") != std::string::npos);
        CHECK_FALSE(std::filesystem::exists(dir.file("no")));

        CHECK(run_scep_ra(dir, "backup --config " + conf, &out, &err) == 2);  // --to is required
    }
}
