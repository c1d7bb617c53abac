// SPDX-License-Identifier: Apache-2.0
#include "store/backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

#include "common/unique_fd.hpp"
#include "store/database.hpp"

namespace scepra::store {

namespace {

struct ConnectionCloser {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

/// Removes the partial file unless the backup got through.
class PartialFile {
  public:
    explicit PartialFile(std::filesystem::path path) : m_path(std::move(path)) {}
    ~PartialFile() {
        if (!m_kept) {
            std::error_code ignored;
            std::filesystem::remove(m_path, ignored);
        }
    }
    PartialFile(const PartialFile&) = delete;
    PartialFile& operator=(const PartialFile&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    void keep() { m_kept = true; }

  private:
    std::filesystem::path m_path;
    bool m_kept = false;
};

Connection open_connection(const std::filesystem::path& file, int flags) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    Connection db(raw);
    if (rc != SQLITE_OK) {
        throw DbError(
            "cannot open " + file.string() + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)), rc);
    }
    sqlite3_busy_timeout(db.get(), 5000);
    return db;
}

void exec(sqlite3& db, const char* sql, const std::filesystem::path& file) {
    char* raw_error = nullptr;
    const int rc = sqlite3_exec(&db, sql, nullptr, nullptr, &raw_error);
    const SqliteText error(raw_error);
    const std::string message = error ? error.get() : sqlite3_errstr(rc);
    if (rc != SQLITE_OK) {
        throw DbError(file.string() + ": " + sql + ": " + message, rc);
    }
}

/// "ok", or the first problem PRAGMA integrity_check reports.
std::string integrity(sqlite3& db) {
    Statement check(db, "PRAGMA integrity_check");
    return check.step() ? check.column_text(0) : "no answer";
}

void sync_file(const std::filesystem::path& file, int flags) {
    UniqueFd fd(::open(file.c_str(), flags | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw std::runtime_error("cannot sync " + file.string());
    }
}

}  // namespace

BackupResult backup_database(const std::filesystem::path& from, const std::filesystem::path& to) {
    if (!std::filesystem::exists(from)) {
        throw std::runtime_error("the database " + from.string() + " does not exist");
    }
    if (std::filesystem::exists(to)) {
        throw std::runtime_error(to.string() + " already exists; the backup never overwrites a file");
    }
    // Created 0600 before SQLite opens it: the copy holds what the database holds.
    PartialFile partial(to.string() + ".partial");
    {
        UniqueFd created(::open(partial.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (created.get() < 0) {
            throw std::runtime_error("cannot create " + partial.path().string() +
                                     " (does the directory exist?)");
        }
    }
    BackupResult result;
    {
        // The source is opened like any other process of the instance (WAL: readers never block the server).
        Connection source = open_connection(from, SQLITE_OPEN_READWRITE);
        Connection copy = open_connection(partial.path(), SQLITE_OPEN_READWRITE);
        sqlite3_backup* backup = sqlite3_backup_init(copy.get(), "main", source.get(), "main");
        if (!backup) {
            throw DbError("backup of " + from.string() + ": " + sqlite3_errmsg(copy.get()),
                          sqlite3_errcode(copy.get()));
        }
        // All pages in one step, inside one read transaction: the copy is one
        // consistent snapshot. BUSY/LOCKED (a checkpoint or a writer holding a
        // lock for a moment) are retried, a bounded number of times.
        int rc = SQLITE_OK;
        for (int attempt = 0; attempt < 100; ++attempt) {
            rc = sqlite3_backup_step(backup, -1);
            if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        result.pages = sqlite3_backup_pagecount(backup);
        const int finished = sqlite3_backup_finish(backup);
        if (rc != SQLITE_DONE || finished != SQLITE_OK) {
            throw DbError("backup of " + from.string() +
                              " failed: " + sqlite3_errstr(rc != SQLITE_DONE ? rc : finished),
                          rc != SQLITE_DONE ? rc : finished);
        }
        if (const std::string verdict = integrity(*copy); verdict != "ok") {
            throw std::runtime_error("the copy of " + from.string() +
                                     " fails its integrity check: " + verdict);
        }
        exec(*copy, "PRAGMA journal_mode=DELETE", partial.path());
    }
    sync_file(partial.path(), O_RDONLY);
    // No overwrite even of a file that appeared meanwhile.
    if (::renameat2(AT_FDCWD, partial.path().c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        throw std::runtime_error("cannot rename the copy to " + to.string() + ": " + std::strerror(errno));
    }
    partial.keep();
    sync_file(to.parent_path().empty() ? "." : to.parent_path(), O_RDONLY | O_DIRECTORY);
    result.bytes = std::filesystem::file_size(to);
    return result;
}

std::string integrity_check(const std::filesystem::path& file) {
    if (!std::filesystem::exists(file)) {
        throw std::runtime_error("the database " + file.string() + " does not exist");
    }
    Connection db = open_connection(file, SQLITE_OPEN_READWRITE);
    return integrity(*db);
}

}  // namespace scepra::store
