// SPDX-License-Identifier: Apache-2.0
#include "store/database.hpp"

#include <cstdlib>
#include <utility>

#include "store/migrations.hpp"

namespace scepra::store {

namespace {
[[noreturn]] void fail(sqlite3& db, const std::string& what, int rc) {
    throw DbError(what + ": " + sqlite3_errmsg(&db), rc);
}

// FULL syncs the WAL at every commit: an issued certificate, a used password
// or a claim that was committed survives a power loss (NORMAL may lose the last
// ones, and a device re-sending would get a second certificate). The
// environment variable exists for the A/B benchmark in BENCHMARKS.md only.
const char* synchronous_mode() {
    const char* chosen = std::getenv("SCEP_RA_SQLITE_SYNCHRONOUS");
    if (chosen == nullptr || std::string_view(chosen) == "FULL") {
        return "FULL";
    }
    if (std::string_view(chosen) == "NORMAL") {
        return "NORMAL";
    }
    throw DbError("SCEP_RA_SQLITE_SYNCHRONOUS must be FULL or NORMAL", SQLITE_MISUSE);
}

/// The database whose batch this thread is running, if any: a write() from
/// inside a write closure would wait for itself.
thread_local const Database* t_running_batch_of = nullptr;

/// A failure several writers of a batch share (BEGIN or COMMIT failed, or the
/// transaction was lost), as an exception object of this writer's own: each
/// writer rethrows it on its own thread, and one object read and destroyed in
/// several threads at once is synchronised only by libstdc++'s uninstrumented
/// reference count (ThreadSanitizer reported it; TESTING.md Findings). A
/// DbError, what SQLite's failures are, is copied with a message of its own;
/// anything else stays shared.
std::exception_ptr own_copy(const std::exception_ptr& shared) noexcept {
    try {
        std::rethrow_exception(shared);
    } catch (const DbError& e) {
        try {
            return std::make_exception_ptr(DbError(std::string(e.what()), e.code()));
        } catch (...) {
            return shared;
        }
    } catch (...) {
        return shared;
    }
}

/// Marks this thread as running a batch of `db` for as long as it lives.
class RunningBatch {
  public:
    explicit RunningBatch(const Database& db) { t_running_batch_of = &db; }
    ~RunningBatch() { t_running_batch_of = nullptr; }
    RunningBatch(const RunningBatch&) = delete;
    RunningBatch& operator=(const RunningBatch&) = delete;
};

}  // namespace

Statement::Statement(sqlite3& db, std::string_view sql) : m_db(db), m_stmt(nullptr, Release{nullptr}) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(&db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    m_stmt.reset(stmt);
    if (rc != SQLITE_OK) {
        fail(db, "prepare '" + std::string(sql.substr(0, 60)) + "'", rc);
    }
}

Statement::Statement(sqlite3& db, sqlite3_stmt* cached, bool* in_use)
    : m_db(db), m_stmt(cached, Release{in_use}) {}

Statement Database::prepare(std::string_view sql) {
    CachedStatement& entry = m_cache[std::string(sql)];
    if (entry.in_use) {
        return Statement(*m_db, sql);
    }
    if (entry.stmt == nullptr) {
        int rc = sqlite3_prepare_v3(m_db.get(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &entry.stmt, nullptr);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(entry.stmt);
            entry.stmt = nullptr;
            fail(*m_db, "prepare '" + std::string(sql.substr(0, 60)) + "'", rc);
        }
    }
    entry.in_use = true;
    return Statement(*m_db, entry.stmt, &entry.in_use);
}

Statement& Statement::bind(int index, std::int64_t value) {
    int rc = sqlite3_bind_int64(m_stmt.get(), index, value);
    if (rc != SQLITE_OK) fail(m_db, "bind", rc);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    int rc = sqlite3_bind_text(m_stmt.get(), index, value.data(), static_cast<int>(value.size()),
                               SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) fail(m_db, "bind", rc);
    return *this;
}

Statement& Statement::bind(int index, ByteView value) {
    int rc = sqlite3_bind_blob(m_stmt.get(), index, value.data(), static_cast<int>(value.size()),
                               SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) fail(m_db, "bind", rc);
    return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
    int rc = sqlite3_bind_null(m_stmt.get(), index);
    if (rc != SQLITE_OK) fail(m_db, "bind", rc);
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(m_stmt.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(m_db, "step", rc);
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(m_stmt.get());
    sqlite3_clear_bindings(m_stmt.get());
}

bool Statement::is_null(int col) const { return sqlite3_column_type(m_stmt.get(), col) == SQLITE_NULL; }

std::int64_t Statement::column_int(int col) const { return sqlite3_column_int64(m_stmt.get(), col); }

std::string Statement::column_text(int col) const {
    const unsigned char* text = sqlite3_column_text(m_stmt.get(), col);
    int len = sqlite3_column_bytes(m_stmt.get(), col);
    return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(len)) : std::string();
}

std::optional<std::string> Statement::column_optional_text(int col) const {
    if (is_null(col)) return std::nullopt;
    return column_text(col);
}

Bytes Statement::column_blob(int col) const {
    const void* data = sqlite3_column_blob(m_stmt.get(), col);
    int len = sqlite3_column_bytes(m_stmt.get(), col);
    const auto* p = static_cast<const std::uint8_t*>(data);
    return data ? Bytes(p, p + len) : Bytes();
}

std::unique_ptr<Database> Database::open(const std::filesystem::path& file, bool create) {
    if (!create && !std::filesystem::exists(file)) {
        throw DbError("database " + file.string() + " does not exist (run 'scep-ra init' first)",
                      SQLITE_CANTOPEN);
    }
    sqlite3* raw = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close_v2(raw);
        throw DbError("cannot open database " + file.string() + ": " + msg, rc);
    }
    std::unique_ptr<Database> db(new Database(raw, file));
    sqlite3_busy_timeout(raw, 5000);
    db->exec_unlocked("PRAGMA journal_mode=WAL");
    db->exec_unlocked(std::string("PRAGMA synchronous=") + synchronous_mode());
    db->exec_unlocked("PRAGMA foreign_keys=ON");
    db->migrate();
    return db;
}

Database::Database(sqlite3* db, std::filesystem::path file) : m_db(db), m_file(std::move(file)) {}

Database::~Database() {
    for (auto& [sql, entry] : m_cache) {
        sqlite3_finalize(entry.stmt);
    }
}

void Database::exec_unlocked(std::string_view sql) {
    char* raw_error = nullptr;
    int rc = sqlite3_exec(m_db.get(), std::string(sql).c_str(), nullptr, nullptr, &raw_error);
    const SqliteText err(raw_error);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err.get() : sqlite3_errmsg(m_db.get());
        throw DbError(m_file.string() + ": " + msg, rc);
    }
}

void Database::run_cached_unlocked(std::string_view sql) { prepare(sql).step(); }

void Database::commit_unlocked() {
    run_cached_unlocked("COMMIT");
    ++m_commits;
}

std::size_t Database::writes_waiting() const {
    std::lock_guard queue(m_queue_mutex);
    return m_waiting.size();
}

void Database::commit_with_others(PendingWrite& job) {
    if (t_running_batch_of == this) {
        throw std::logic_error(m_file.string() + ": write() inside a write() on the same database");
    }
    // Allocated before the job is queued: nothing below may throw while it is.
    std::vector<PendingWrite*> batch;
    batch.reserve(max_batch_writes);
    std::unique_lock queue(m_queue_mutex);
    m_waiting.push_back(&job);
    while (!job.done) {
        if (m_committing) {
            m_batch_done.wait(queue);
            continue;
        }
        // No commit under way: this writer leads the next one, for whoever is queued by then.
        m_committing = true;
        queue.unlock();
        batch.clear();
        {
            std::lock_guard connection(m_mutex);
            {
                // Taken once the connection is ours: writers that queued while
                // a read held it join this commit.
                std::lock_guard taking(m_queue_mutex);
                while (!m_waiting.empty() && batch.size() < max_batch_writes) {
                    batch.push_back(m_waiting.front());
                    m_waiting.pop_front();
                }
            }
            run_batch(batch);
        }
        queue.lock();
        for (PendingWrite* taken : batch) {
            taken->done = true;
        }
        m_committing = false;
        m_batch_done.notify_all();
    }
    queue.unlock();
    if (job.error) {
        std::rethrow_exception(job.error);
    }
}

void Database::run_batch(const std::vector<PendingWrite*>& batch) noexcept {
    const RunningBatch running(*this);
    // Writers whose changes the open transaction holds: the COMMIT's fate is theirs.
    std::vector<PendingWrite*> held;
    held.reserve(batch.size());
    auto fail_held = [&held](const std::exception_ptr& why) {
        for (PendingWrite* w : held) {
            w->error = own_copy(why);
        }
        held.clear();
    };
    std::size_t next = 0;
    while (next < batch.size()) {
        try {
            run_cached_unlocked("BEGIN IMMEDIATE");
        } catch (...) {
            const std::exception_ptr why = std::current_exception();
            for (; next < batch.size(); ++next) {
                batch[next]->error = own_copy(why);
            }
            return;
        }
        for (; next < batch.size(); ++next) {
            PendingWrite& w = *batch[next];
            try {
                run_cached_unlocked("SAVEPOINT one_write");
                w.run(w.body, *this);
                run_cached_unlocked("RELEASE one_write");
                held.push_back(&w);
                continue;
            } catch (...) {
                w.error = std::current_exception();
            }
            // This writer's changes are undone; the others' stay, unless SQLite
            // abandoned the whole transaction (SQLITE_FULL, SQLITE_IOERR, ...).
            bool transaction_lost = sqlite3_get_autocommit(m_db.get()) != 0;
            if (!transaction_lost) {
                transaction_lost = sqlite3_exec(m_db.get(), "ROLLBACK TO one_write; RELEASE one_write",
                                                nullptr, nullptr, nullptr) != SQLITE_OK;
            }
            if (transaction_lost) {
                try_rollback();
                fail_held(w.error);
                ++next;
                break;  // the rest of the batch in a transaction of its own
            }
        }
        if (sqlite3_get_autocommit(m_db.get()) != 0) {
            continue;
        }
        if (held.empty()) {  // every writer undid its own changes: nothing to commit
            try_rollback();
            continue;
        }
        try {
            commit_unlocked();
            held.clear();
        } catch (...) {
            try_rollback();
            fail_held(std::current_exception());
        }
    }
}

void Database::try_rollback() noexcept { sqlite3_exec(m_db.get(), "ROLLBACK", nullptr, nullptr, nullptr); }

int Database::schema_version() {
    Statement st(*m_db, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.column_int(0));
}

void Database::migrate() {
    std::lock_guard lock(m_mutex);
    exec_unlocked("BEGIN IMMEDIATE");
    try {
        int current = schema_version();
        int newest = migrations().empty() ? 0 : migrations().back().version;
        if (current > newest) {
            throw DbError(m_file.string() + ": schema version " + std::to_string(current) +
                              " is newer than this scep-ra knows (" + std::to_string(newest) + ")",
                          SQLITE_MISMATCH);
        }
        for (const auto& m : migrations()) {
            if (m.version <= current) continue;
            exec_unlocked(m.sql);
            exec_unlocked("PRAGMA user_version = " + std::to_string(m.version));
        }
        exec_unlocked("COMMIT");
    } catch (...) {
        try_rollback();
        throw;
    }
}

}  // namespace scepra::store
