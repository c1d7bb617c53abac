// SPDX-License-Identifier: Apache-2.0
// `scep-ra lockout`, `scep-ra audit purge`, the text output of `scep-ra audit`
// and the server's retention task, run as real processes.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/clock.hpp"
#include "crypto/encoding.hpp"
#include "store/audit_log.hpp"
#include "store/database.hpp"
#include "store/throttle_store.hpp"
#include "support/scep_ra_process.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

struct Output {
    int status;
    std::string out;
    std::string err;
};

/// An instance made by the real `scep-ra init` (a copy of its template), and the binary run against it.
struct CliInstance {
    test::TempDir dir;
    std::string path = dir.file("ra");
    std::string conf = path + "/scep-ra.conf";

    CliInstance() { test::init_from_template(path, "--admin-listen none"); }

    Output run(const std::string& args, bool with_config = true) const {
        const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
        const std::string cmd = std::string(SCEPRA_BINARY) + " " + args +
                                (with_config ? " --config " + conf : "") + " >" + out + " 2>" + err +
                                " </dev/null";
        const int rc = std::system(cmd.c_str());
        return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, crypto::read_file(out), crypto::read_file(err)};
    }

    std::unique_ptr<store::Database> db() const { return store::Database::open(path + "/scep-ra.db", false); }
};

std::int64_t count(store::Database& db, const std::string& sql) {
    return db.read([&](store::Database& d) {
        auto st = d.prepare(sql);
        st.step();
        return st.column_int(0);
    });
}

void exec(store::Database& db, const std::string& sql) {
    db.write([&](store::Database& d) { d.exec(sql); });
}

/// Rows from 2001 in the tables retention covers, one used password an old
/// audit row refers to, and one a recent audit row refers to.
void seed_old_rows(store::Database& db) {
    exec(db,
         "INSERT INTO challenges (id, hash, created_at, expires_at, issued_by, used_at) VALUES "
         "(101, x'0101', '2001-01-01 00:00:00', '2001-01-01 01:00:00', 'cli', '2001-01-01 00:10:00'),"
         "(102, x'0102', '2001-01-01 00:00:00', '2001-01-01 01:00:00', 'cli', '2001-01-01 00:10:00')");
    exec(db,
         "INSERT INTO audit_events (at, peer, operation, decision, challenge_id) VALUES "
         "('2001-01-01 00:10:00', 'p', 'PKIOperation', 'issued', 101),"
         "('2001-01-01 00:10:00', 'p', 'PKIOperation', 'issued', 102),"
         "(datetime('now'), 'p', 'PKIOperation', 'issued', 102)");
    exec(db,
         "INSERT INTO admin_logins (at, peer, name, success) VALUES ('2001-01-01 00:00:00', 'p', 'a', 0)");
    exec(db,
         "INSERT INTO password_events (at, challenge_id, event) VALUES ('2001-01-01 00:00:00', 101, "
         "'issued')");
    exec(db,
         "INSERT INTO challenge_failures (kind, key, failures, window_start, last_failure) VALUES "
         "('address', '192.0.2.9', 1, '2001-01-01 00:00:00', '2001-01-01 00:00:00')");
}

std::int64_t old_rows(store::Database& db) {
    return count(db,
                 "SELECT (SELECT count(*) FROM audit_events WHERE at < '2002') + "
                 "(SELECT count(*) FROM admin_logins WHERE at < '2002') + "
                 "(SELECT count(*) FROM password_events WHERE at < '2002') + "
                 "(SELECT count(*) FROM challenge_failures WHERE last_failure < '2002') + "
                 "(SELECT count(*) FROM challenges WHERE id = 101)");
}

}  // namespace

TEST_SUITE("cli.lockout") {
    TEST_CASE("lockout list shows locked addresses and subjects, lockout clear lifts them") {
        CliInstance i;
        {
            auto db = i.db();
            SystemClock clock;
            store::ThrottleStore throttle(
                *db, clock,
                {.max_failures = 2, .window = std::chrono::minutes(15), .lockout = std::chrono::minutes(15)});
            throttle.record_failure("192.0.2.7", "CN=a");
            throttle.record_failure("192.0.2.7", "CN=b\x1b[31m");
            throttle.record_failure("192.0.2.8", "CN=c");
        }
        Output list = i.run("lockout list");
        CHECK(list.status == 0);
        CHECK(list.out.find("address\t192.0.2.7\tlocked until ") == 0);
        CHECK(list.out.find("CN=b\\x1b[31m\t1 failures") !=
              std::string::npos);  // no raw escape reaches the terminal
        Output json = i.run("lockout list --json");
        CHECK(json.out.find("{\"kind\":\"address\",\"key\":\"192.0.2.7\",\"locked\":true,") == 0);
        CHECK(json.out.find("\"key\":\"CN=b\\u001b[31m\"") != std::string::npos);

        CHECK(i.run("lockout clear").status == 2);
        CHECK(i.run("lockout clear --address 192.0.2.7 --subject CN=a").status == 2);
        CHECK(i.run("lockout clear --address 192.0.2.99").status == 1);
        CHECK(i.run("lockout").status == 2);
        CHECK(i.run("lockout clear --address 192.0.2.7").status == 0);
        CHECK(i.run("lockout list").out.find("192.0.2.7") == std::string::npos);
        Output all = i.run("lockout clear --all");
        CHECK(all.status == 0);
        CHECK(all.out == "cleared 4 entries\n");
        CHECK(i.run("lockout list").out.empty());
    }
}

TEST_SUITE("cli.audit") {
    TEST_CASE("audit prints control characters and invalid UTF-8 escaped, in text and in JSON") {
        CliInstance i;
        {
            auto db = i.db();
            SystemClock clock;
            store::AuditLog log(*db, clock);
            log.record({.peer = "10.0.0.1",
                        .operation = "PKIOperation",
                        .message_type = "PKCSReq",
                        .transaction_id = "T\x1b]0;owned\x07\n2029-01-01\tforged",
                        .subject = "CN=\x01\x7f\xc3\xa9\xff\xc2\x9b",
                        .decision = "rejected",
                        .fail_info = "badRequest",
                        .detail = "d"});
        }
        Output text = i.run("audit");
        CHECK(text.status == 0);
        CHECK(text.out.find("T\\x1b]0;owned\\x07\\x0a2029-01-01\\x09forged") != std::string::npos);
        CHECK(text.out.find("CN=\\x01\\x7f\xc3\xa9\\xff\\xc2\\x9b") != std::string::npos);
        CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 1);
        CHECK(std::count(text.out.begin(), text.out.end(), '\t') == 7);
        Output json = i.run("audit --json");
        CHECK(json.out.find("\"transaction_id\":\"T\\u001b]0;owned\\u0007\\n2029-01-01\\tforged\"") !=
              std::string::npos);
        // DEL and the C1 CSI escaped too: JSON allows them raw, a terminal obeys them.
        CHECK(json.out.find("\"subject\":\"CN=\\u0001\\u007f\xc3\xa9\\ufffd\\u009b\"") != std::string::npos);
        for (unsigned char c : json.out.substr(0, json.out.size() - 1)) {
            CHECK(c >= 0x20);
            CHECK(c != 0x7f);
        }
        CHECK(json.out.find("\xc2\x9b") == std::string::npos);
    }

    TEST_CASE("audit purge deletes rows older than the retention period and keeps rows still referred to") {
        CliInstance i;
        seed_old_rows(*i.db());
        CHECK(i.run("audit purge --before yesterday").status == 2);
        Output purge = i.run("audit purge");
        CHECK(purge.status == 0);
        CHECK(purge.out.find(
                  "2 audit events, 1 admin logins, 1 password events, 1 one-time passwords, 1 throttle") !=
              std::string::npos);
        auto db = i.db();
        CHECK(old_rows(*db) == 0);
        CHECK(count(*db, "SELECT count(*) FROM challenges WHERE id = 102") ==
              1);  // a recent audit row refers to it
        CHECK(count(*db, "SELECT count(*) FROM audit_events") == 1);
        CHECK(i.run("audit purge --before '2999-01-01'").status == 0);
        CHECK(count(*db, "SELECT count(*) FROM audit_events") == 0);
    }

    TEST_CASE("serve applies the retention period at start and stops cleanly") {
        CliInstance i;
        seed_old_rows(*i.db());
        test::ServeProcess server(i.dir, i.conf);
        auto db = i.db();
        for (int n = 0; n < 400 && old_rows(*db) > 0; ++n) {
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        CHECK(old_rows(*db) == 0);
        CHECK(count(*db, "SELECT count(*) FROM challenges WHERE id = 102") == 1);
        server.stop();  // SIGTERM, and it exits
        const std::string log = server.log();
        CHECK(log.find("scep-ra retention: deleted 5 records from before ") != std::string::npos);
        CHECK(log.find("scep-ra stopped") != std::string::npos);
    }
}
