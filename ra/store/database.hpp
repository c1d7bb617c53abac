// SPDX-License-Identifier: Apache-2.0
// RAII over SQLite: Database (one connection, serialised by a mutex; writers
// share commits), Statement (typed bind/column), and transactions that roll
// back unless committed. SQL text lives only in ra/store and backends' store files.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"

namespace scepra::store {

/// Text SQLite allocated for the caller (sqlite3_exec's error message).
struct SqliteFree {
    void operator()(char* p) const noexcept { sqlite3_free(p); }
};
using SqliteText = std::unique_ptr<char, SqliteFree>;

class DbError : public std::runtime_error {
  public:
    DbError(const std::string& what, int code) : std::runtime_error(what), m_code(code) {}
    int code() const { return m_code; }

  private:
    int m_code;
};

class Statement {
  public:
    /// A statement of its own, finalized when this object goes.
    Statement(sqlite3& db, std::string_view sql);
    /// A cached statement lent out by Database::prepare: reset and given back
    /// (*in_use = false) when this object goes.
    Statement(sqlite3& db, sqlite3_stmt* cached, bool* in_use);

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, ByteView value);
    Statement& bind(int index, const Bytes& value) { return bind(index, ByteView(value)); }
    Statement& bind(int index, std::nullptr_t);
    /// Binds NULL when the optional is empty.
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind(index, nullptr);
    }

    /// Runs one step: true when a row is available, false when done. Throws DbError.
    bool step();
    /// Steps until done (for statements without results).
    void run();
    void reset();

    bool is_null(int col) const;
    std::int64_t column_int(int col) const;
    std::string column_text(int col) const;
    std::optional<std::string> column_optional_text(int col) const;
    Bytes column_blob(int col) const;

  private:
    /// Finalizes an owned statement; resets and returns a lent one.
    struct Release {
        bool* in_use = nullptr;
        void operator()(sqlite3_stmt* s) const noexcept {
            if (in_use) {
                sqlite3_reset(s);
                sqlite3_clear_bindings(s);
                *in_use = false;
            } else {
                sqlite3_finalize(s);
            }
        }
    };
    sqlite3& m_db;
    std::unique_ptr<sqlite3_stmt, Release> m_stmt;
};

class Database {
  public:
    /// Opens (creating if asked) the database file, sets WAL mode with
    /// synchronous=FULL (every commit durable) and a busy timeout, and applies
    /// pending migrations. Throws DbError naming the file.
    static std::unique_ptr<Database> open(const std::filesystem::path& file, bool create);

    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    /// Runs f(*this) in a transaction and returns once that transaction is
    /// committed (durable). Any exception f throws undoes f's changes only and
    /// propagates to the caller.
    ///
    /// Group commit: writers that arrive while a commit is under way share
    /// the next one. One of them (the leader) takes the queued writers, at
    /// most max_batch_writes, and runs each, in arrival order, inside its own
    /// SAVEPOINT of one BEGIN IMMEDIATE transaction, then COMMITs once (one
    /// fsync). When that COMMIT fails, or SQLite abandons the transaction
    /// (a full disk, an I/O error), every writer whose changes it held gets
    /// the error and none of those changes stays. f may run on another
    /// writer's thread (the caller waits meanwhile); it must not call write()
    /// or read() on this database (write() throws std::logic_error there).
    template <class F>
    auto write(F&& f) {
        using Result = decltype(f(*this));
        if constexpr (std::is_void_v<Result>) {
            auto body = [&f](Database& db) { f(db); };
            PendingWrite job{&run_body<decltype(body)>, &body};
            commit_with_others(job);
        } else {
            std::optional<Result> result;
            auto body = [&f, &result](Database& db) { result.emplace(f(db)); };
            PendingWrite job{&run_body<decltype(body)>, &body};
            commit_with_others(job);
            return std::move(*result);
        }
    }

    /// The most writers one commit takes.
    static constexpr std::size_t max_batch_writes = 32;

    /// Runs f(*this) holding the connection lock (no explicit transaction).
    template <class F>
    auto read(F&& f) {
        std::lock_guard lock(m_mutex);
        return f(*this);
    }

    /// Only valid inside write()/read(). Statements are compiled once per SQL
    /// text and reused (the request path runs the same few statements every
    /// time); a text already lent out gets a statement of its own.
    Statement prepare(std::string_view sql);
    void exec(std::string_view sql) { exec_unlocked(sql); }
    std::int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db.get()); }
    int changes() const { return sqlite3_changes(m_db.get()); }
    int schema_version();
    /// Transactions write() has committed on this connection (each one a
    /// durable commit: an fsync of the WAL with synchronous=FULL), however
    /// many writers each one carried.
    std::uint64_t commits() const { return m_commits.load(); }
    /// Writers queued for a commit and not yet taken into one.
    std::size_t writes_waiting() const;
    const std::filesystem::path& file() const { return m_file; }

  private:
    /// One write() call waiting for its commit; lives on the caller's stack.
    struct PendingWrite {
        void (*run)(void* body, Database& db);
        void* body;
        std::exception_ptr error{};  ///< set by the leader: the caller rethrows it
        bool done = false;           ///< guarded by m_queue_mutex
    };
    template <class Body>
    static void run_body(void* body, Database& db) {
        (*static_cast<Body*>(body))(db);
    }
    /// Queues the write and returns once a commit took it (as leader or follower).
    void commit_with_others(PendingWrite& job);
    /// Runs a batch in one transaction and commits it; every failure is
    /// left in the writers' error (never thrown). Holds the connection lock.
    void run_batch(const std::vector<PendingWrite*>& batch) noexcept;

    Database(sqlite3* db, std::filesystem::path file);
    void exec_unlocked(std::string_view sql);
    /// One statement through the statement cache (BEGIN and COMMIT run on every write).
    void run_cached_unlocked(std::string_view sql);
    void commit_unlocked();
    void try_rollback() noexcept;
    void migrate();

    struct Closer {
        void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
    };
    struct CachedStatement {
        sqlite3_stmt* stmt = nullptr;
        bool in_use = false;
    };
    std::unique_ptr<sqlite3, Closer> m_db;
    std::unordered_map<std::string, CachedStatement> m_cache;  ///< node-based: in_use pointers stay valid
    std::filesystem::path m_file;
    std::mutex m_mutex;  ///< the connection: held by read(), migrate() and the leader of a commit
    std::atomic<std::uint64_t> m_commits{0};
    mutable std::mutex m_queue_mutex;  ///< guards m_waiting, m_committing and PendingWrite::done
    std::condition_variable m_batch_done;
    std::deque<PendingWrite*> m_waiting;
    bool m_committing = false;  ///< a leader is running a batch
};

}  // namespace scepra::store
