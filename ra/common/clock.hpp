// SPDX-License-Identifier: Apache-2.0
// Injectable time source: only main() builds a SystemClock; tests use a FixedClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>

namespace scepra {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
  public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that stands still until a test moves it.
class FixedClock final : public Clock {
  public:
    explicit FixedClock(TimePoint t) : m_now(t.time_since_epoch().count()) {}
    TimePoint now() const override { return TimePoint(TimePoint::duration(m_now.load())); }
    void set(TimePoint t) { m_now = t.time_since_epoch().count(); }
    template <class D>
    void advance(D d) {
        set(now() + std::chrono::duration_cast<TimePoint::duration>(d));
    }

  private:
    std::atomic<TimePoint::rep> m_now;
};

inline std::int64_t unix_seconds(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// "YYYY-MM-DD HH:MM:SS" in UTC: SQLite's own datetime() format, so stored
/// times compare correctly with datetime('now', ...) in operators' queries.
inline std::string sql_time(TimePoint t) {
    std::time_t tt = static_cast<std::time_t>(unix_seconds(t));
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

/// sql_time() text back to a time point. Throws std::runtime_error on other text.
inline TimePoint parse_sql_time(const std::string& text) {
    std::tm tm{};
    int consumed = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
        static_cast<size_t>(consumed) != text.size()) {
        throw std::runtime_error("bad time in the database: '" + text + "'");
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace scepra
