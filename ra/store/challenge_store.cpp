// SPDX-License-Identifier: Apache-2.0
// NDES-style one-time challenge passwords, stored only as keyed hashes.
#include "store/challenge_store.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "common/unique_fd.hpp"
#include "crypto/digest.hpp"

namespace scepra::store {

namespace {

constexpr std::size_t kKeyFileSize = 32;
constexpr std::size_t kMinKeySize = 16;
constexpr int kMaxLengthBytes = 64;
constexpr int kUniqueAttempts = 16;

// Outstanding = could still enrol a device.
constexpr std::string_view kOutstandingWhere = "used_at IS NULL AND revoked_at IS NULL AND expires_at > ?1";

std::string normalise(std::string_view password) {
    std::string out(password);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

int count_outstanding(Database& db, const std::string& now_text) {
    auto st = db.prepare("SELECT COUNT(*) FROM challenges WHERE " + std::string(kOutstandingWhere));
    st.bind(1, now_text);
    st.step();
    return static_cast<int>(st.column_int(0));
}

// Expired unused passwords are deleted, except those an audit event points to
// (kept so the audit trail and its foreign key stay intact).
int purge(Database& db, const std::string& now_text) {
    // The lifecycle trail keeps the fact after the row is gone.
    auto trail = db.prepare(
        "INSERT INTO password_events (at, challenge_id, event) SELECT ?1, id, 'expired' FROM challenges "
        "WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at <= ?1 "
        "AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.challenge_id = challenges.id)");
    trail.bind(1, now_text);
    trail.run();
    auto st = db.prepare(
        "DELETE FROM challenges WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at <= ?1 "
        "AND NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.challenge_id = challenges.id)");
    st.bind(1, now_text);
    st.run();
    return db.changes();
}

bool hash_exists(Database& db, const Bytes& hash) {
    auto st = db.prepare("SELECT 1 FROM challenges WHERE hash = ?1");
    st.bind(1, hash);
    return st.step();
}

struct Row {
    std::int64_t id;
    bool used;
    bool revoked;
    bool expired;
    ChallengeBinding binding;
};

std::optional<Row> find_row(Database& db, const Bytes& hash, const std::string& now_text) {
    auto st = db.prepare(
        "SELECT id, used_at IS NOT NULL, revoked_at IS NOT NULL, expires_at <= ?2, expected_subject, "
        "template "
        "FROM challenges WHERE hash = ?1");
    st.bind(1, hash).bind(2, now_text);
    if (!st.step()) {
        return std::nullopt;
    }
    return Row{st.column_int(0), st.column_int(1) != 0, st.column_int(2) != 0, st.column_int(3) != 0,
               ChallengeBinding{st.column_optional_text(4), st.column_optional_text(5), std::nullopt}};
}

void record_event(Database& db, const std::string& at, std::optional<std::int64_t> challenge_id,
                  const char* event, const std::optional<std::string>& actor,
                  const std::optional<std::string>& peer, const std::optional<std::string>& transaction_id) {
    auto st = db.prepare(
        "INSERT INTO password_events (at, challenge_id, event, actor, peer, transaction_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    st.bind(1, at).bind(2, challenge_id).bind(3, event).bind(4, actor).bind(5, peer).bind(6, transaction_id);
    st.run();
}

/// Revokes one password not used or revoked yet, with its event; false when it was.
bool revoke_in(Database& db, std::int64_t id, const std::string& actor, const std::string& now_text) {
    auto st = db.prepare(
        "UPDATE challenges SET revoked_at = ?2 WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL");
    st.bind(1, id).bind(2, now_text);
    st.run();
    if (db.changes() != 1) {
        return false;
    }
    record_event(db, now_text, id, "revoked", actor, std::nullopt, std::nullopt);
    return true;
}

void validate(const ChallengePolicy& policy) {
    if (policy.max_outstanding < 1) {
        throw std::invalid_argument("challenge policy: max_outstanding must be at least 1");
    }
    if (policy.length_bytes < 1 || policy.length_bytes > kMaxLengthBytes) {
        throw std::invalid_argument("challenge policy: length_bytes must be between 1 and " +
                                    std::to_string(kMaxLengthBytes));
    }
    if (policy.validity <= std::chrono::minutes::zero()) {
        throw std::invalid_argument("challenge policy: validity must be positive");
    }
}

[[noreturn]] void fail_file(const std::filesystem::path& file, const std::string& what, int err) {
    throw std::runtime_error("key file " + file.string() + ": " + what + ": " + std::strerror(err));
}

// nullopt when the file does not exist.
std::optional<Bytes> read_key_file(const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return std::nullopt;
        }
        fail_file(file, "cannot open", errno);
    }
    Bytes out;
    std::uint8_t buf[256];
    while (out.size() <= kKeyFileSize) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail_file(file, "cannot read", errno);
        }
        if (n == 0) {
            break;
        }
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

// nullopt when another process created the file first.
std::optional<Bytes> create_key_file(const std::filesystem::path& file) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) {
        if (errno == EEXIST) {
            return std::nullopt;
        }
        fail_file(file, "cannot create", errno);
    }
    Bytes key = crypto::random_bytes(kKeyFileSize);
    std::size_t done = 0;
    while (done < key.size()) {
        ssize_t n = ::write(fd.get(), key.data() + done, key.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            int err = errno;
            ::unlink(file.c_str());
            fail_file(file, "cannot write", err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0 || ::close(fd.release()) != 0) {
        int err = errno;
        ::unlink(file.c_str());
        fail_file(file, "cannot write", err);
    }
    return key;
}

}  // namespace

ChallengeStore::ChallengeStore(Database& db, Bytes hmac_key, const Clock& clock)
    : m_db(db), m_key(std::move(hmac_key)), m_clock(clock) {
    if (m_key.size() < kMinKeySize) {
        throw std::invalid_argument("challenge HMAC key must be at least " + std::to_string(kMinKeySize) +
                                    " bytes");
    }
}

ChallengeStore::~ChallengeStore() { OPENSSL_cleanse(m_key.data(), m_key.size()); }

Bytes ChallengeStore::hash_password(std::string_view normalised) const {
    return crypto::hmac_sha256(m_key, as_bytes(normalised));
}

IssuedChallenge ChallengeStore::issue(const ChallengePolicy& policy, const std::string& issued_by,
                                      const std::optional<std::string>& issued_from,
                                      const ChallengeBinding& binding) {
    validate(policy);
    if (binding.validity && *binding.validity <= std::chrono::minutes::zero()) {
        throw std::invalid_argument("challenge validity must be positive");
    }
    const TimePoint now = std::chrono::floor<std::chrono::seconds>(m_clock.now());
    const TimePoint expires = now + binding.validity.value_or(policy.validity);
    const std::string now_text = sql_time(now);
    const std::string expires_text = sql_time(expires);

    // Purge, count and insert in one write transaction so concurrent issuers
    // (threads or processes) cannot overshoot max_outstanding.
    auto issued = m_db.write([&](Database& db) -> std::optional<IssuedChallenge> {
        purge(db, now_text);
        if (count_outstanding(db, now_text) >= policy.max_outstanding) {
            return std::nullopt;
        }
        for (int attempt = 0; attempt < kUniqueAttempts; ++attempt) {
            Bytes raw = crypto::random_bytes(static_cast<std::size_t>(policy.length_bytes));
            std::string password = to_hex(raw);
            OPENSSL_cleanse(raw.data(), raw.size());
            const Bytes hash = hash_password(password);
            if (hash_exists(db, hash)) {
                continue;
            }
            auto st = db.prepare(
                "INSERT INTO challenges (hash, created_at, expires_at, issued_by, issued_from, "
                "expected_subject, "
                "template) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            st.bind(1, hash).bind(2, now_text).bind(3, expires_text).bind(4, issued_by).bind(5, issued_from);
            st.bind(6, binding.expected_subject).bind(7, binding.template_name);
            st.run();
            const std::int64_t id = db.last_insert_rowid();
            record_event(db, now_text, id, "issued", issued_by, issued_from, std::nullopt);
            return IssuedChallenge{id, std::move(password), expires};
        }
        throw std::runtime_error(
            "cannot generate an unused challenge password; increase the password length");
    });
    if (!issued) {
        throw ChallengeCacheFull();
    }
    return std::move(*issued);
}

ChallengeOutcome ChallengeStore::consume(std::string_view password, const std::string& transaction_id,
                                         const BindingCheck& check, const OnConsumed& on_consumed) {
    const Bytes hash = hash_password(normalise(password));
    const std::string now_text = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        const auto row = find_row(db, hash, now_text);
        if (!row) {
            return ChallengeOutcome{ChallengeCheck::unknown, std::nullopt, {}};
        }
        // A usable password that the request does not match stays unused.
        if (check && !row->used && !row->revoked && !row->expired) {
            if (auto why = check(row->binding)) {
                return ChallengeOutcome{ChallengeCheck::binding_mismatch, row->id, *why};
            }
        }
        // The conditional UPDATE is the single point of truth: only the
        // caller whose UPDATE changes the row has used the password.
        auto take = db.prepare(
            "UPDATE challenges SET used_at = ?2, used_by_transaction = ?3 "
            "WHERE id = ?1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?2");
        take.bind(1, row->id).bind(2, now_text).bind(3, transaction_id);
        take.run();
        if (db.changes() == 1) {
            record_event(db, now_text, row->id, "used", std::nullopt, std::nullopt, transaction_id);
            if (on_consumed) {
                on_consumed(db, row->id);
            }
            return ChallengeOutcome{ChallengeCheck::accepted, row->id, {}};
        }
        if (row->used) {
            return ChallengeOutcome{ChallengeCheck::already_used, row->id, {}};
        }
        if (row->revoked) {
            return ChallengeOutcome{ChallengeCheck::revoked, row->id, {}};
        }
        return ChallengeOutcome{ChallengeCheck::expired, row->id, {}};
    });
}

std::vector<ChallengeInfo> ChallengeStore::list() {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.read([&](Database& db) {
        auto st = db.prepare(
            "SELECT id, CASE WHEN used_at IS NOT NULL THEN 'used' WHEN revoked_at IS NOT NULL THEN 'revoked' "
            "WHEN expires_at <= ?1 THEN 'expired' ELSE 'outstanding' END, created_at, expires_at, issued_by, "
            "issued_from, used_at, used_by_transaction, revoked_at, expected_subject, template "
            "FROM challenges ORDER BY id DESC");
        st.bind(1, now_text);
        std::vector<ChallengeInfo> out;
        while (st.step()) {
            out.push_back({st.column_int(0), st.column_text(1), st.column_text(2), st.column_text(3),
                           st.column_text(4), st.column_optional_text(5), st.column_optional_text(6),
                           st.column_optional_text(7), st.column_optional_text(8), st.column_optional_text(9),
                           st.column_optional_text(10)});
        }
        return out;
    });
}

bool ChallengeStore::revoke(std::int64_t id, const std::string& actor) {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.write([&](Database& db) { return revoke_in(db, id, actor, now_text); });
}

int ChallengeStore::revoke_issued_by(const std::string& issued_by, const std::string& actor) {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.write([&](Database& db) {
        std::vector<std::int64_t> ids;
        auto find = db.prepare("SELECT id FROM challenges WHERE " + std::string(kOutstandingWhere) +
                               " AND issued_by = ?2");
        find.bind(1, now_text).bind(2, issued_by);
        while (find.step()) {
            ids.push_back(find.column_int(0));
        }
        int revoked = 0;
        for (const std::int64_t id : ids) {
            revoked += revoke_in(db, id, actor, now_text) ? 1 : 0;
        }
        return revoked;
    });
}

int ChallengeStore::outstanding() {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.read([&](Database& db) { return count_outstanding(db, now_text); });
}

int ChallengeStore::purge_expired() {
    const std::string now_text = sql_time(m_clock.now());
    return m_db.write([&](Database& db) { return purge(db, now_text); });
}

Bytes ChallengeStore::load_or_create_key(const std::filesystem::path& file) {
    // A process that lost the O_EXCL race may read the file before the winner
    // has written all of it, so short reads are retried for a moment.
    constexpr int kAttempts = 50;
    for (int attempt = 1;; ++attempt) {
        std::optional<Bytes> key = read_key_file(file);
        if (!key) {
            key = create_key_file(file);
            if (key) {
                return std::move(*key);
            }
            if (attempt >= kAttempts) {
                throw std::runtime_error("key file " + file.string() + " keeps appearing and vanishing");
            }
            continue;
        }
        if (key->size() == kKeyFileSize) {
            return std::move(*key);
        }
        if (key->size() > kKeyFileSize || attempt >= kAttempts) {
            std::error_code ec;
            const auto size = std::filesystem::file_size(file, ec);
            throw std::runtime_error("key file " + file.string() + " must hold exactly " +
                                     std::to_string(kKeyFileSize) + " bytes, it holds " +
                                     (ec ? std::to_string(key->size()) : std::to_string(size)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace scepra::store
