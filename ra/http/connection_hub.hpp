// SPDX-License-Identifier: Apache-2.0
// The front of a listener: one thread accepts connections, admits them (caps
// per client address and in all), and holds every connection that is not being
// answered (a new one, a kept-alive one between requests, one whose head is
// still arriving, one being discarded after a refusal) in an epoll set, with
// its deadline. Only a connection whose whole request head has arrived goes to
// a worker, through a bounded queue; beyond it the client gets a fast 503.
// So idle and slow clients (slow-loris) hold a few bytes of memory, not a
// thread; what holds a worker is a request being answered, or a request body
// still arriving (bounded by the request deadline and the caps, and to a few
// workers per client address, so that one host cannot hold them all; a request
// beyond that share waits two seconds for one of them, then gets a 503).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/connection.hpp"
#include "http/guarded_server.hpp"

namespace scepra::http {

class ConnectionHub {
  public:
    /// Called (on the hub's thread) for each connection refused without a
    /// request being read: the client address and why.
    using RefusalLog = std::function<void(const std::string& peer, const std::string& why)>;

    ConnectionHub(RequestServer& server, const ConnectionLimits& limits, size_t workers, RefusalLog refused);
    ~ConnectionHub();
    ConnectionHub(const ConnectionHub&) = delete;
    ConnectionHub& operator=(const ConnectionHub&) = delete;

    /// Serves the listening socket (which it closes) until stop(); then stops
    /// accepting, closes the connections waiting for a request, lets the
    /// requests already read be answered, and returns. False on a failure.
    bool run(int listen_fd);
    /// From any thread (a signal handler's thread too), before or during run().
    void stop();

  private:
    /// held: a whole head from an address at its share of the workers, waiting
    /// a moment for one of them.
    enum class Phase { handshake, idle, head, held, linger };
    struct Parked {
        std::unique_ptr<Connection> connection;
        std::string address;  ///< the client's, for the refusal log
        std::string key;      ///< client_key(address): what the per-address caps count
        Phase phase = Phase::idle;
        SteadyClock::time_point deadline{};
        SteadyClock::time_point linger_end{};  ///< the last moment of a linger, whatever arrives
        size_t discarded = 0;
        bool counted = true;  ///< holds a place in the connection caps
    };
    struct Answered {
        Parked parked;
        AfterRequest next;
    };

    /// False when it must pause (out of file descriptors).
    bool accept_all(int listen_fd);
    void admit(int fd);
    void refuse_connection(int fd, const std::string& address, const std::string& why);
    /// Something happened on a parked connection (or it has just been parked).
    void progress(int fd);
    void read_head(Parked& p);
    void dispatch(Parked& p);
    void hold(Parked& p);
    /// After answers: the held requests whose address has a worker free again go to it.
    void dispatch_held();
    void refuse_held(Parked& p);
    void start_linger(Parked& p);
    void discard(Parked& p);
    void add(Parked p);
    void watch(int fd, unsigned events);
    void close(int fd);
    void forget(const Parked& p);
    void collect_answered();
    void expire(SteadyClock::time_point now);
    void wake();
    void work();

    RequestServer& m_server;
    ConnectionLimits m_limits;
    RefusalLog m_refused;
    int m_epoll = -1;
    int m_wake = -1;  ///< eventfd: stop(), or a worker has answered
    std::atomic<bool> m_stopping{false};

    // The hub thread's own.
    std::unordered_map<int, Parked> m_parked;
    std::unordered_map<std::string, size_t> m_per_address;  ///< by client_key
    size_t m_open = 0;                                      ///< counted connections, parked or with a worker
    size_t m_lingering = 0;  ///< refused at accept, not counted, still discarding
    size_t m_with_workers = 0;

    std::mutex m_mutex;
    std::condition_variable m_work_ready;
    std::deque<Parked> m_queue;  ///< heads waiting for a worker
    /// Requests per client_key queued for or with a worker, until answered.
    std::unordered_map<std::string, size_t> m_active_per_address;
    std::vector<Answered> m_answered;  ///< back from the workers
    bool m_workers_quit = false;
    std::vector<std::thread> m_workers;
};

}  // namespace scepra::http
