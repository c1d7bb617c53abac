// SPDX-License-Identifier: Apache-2.0
// Overload and slow clients against the real `scep-ra serve` process: idle
// and slow-loris connections from other loopback addresses (as other hosts),
// the connection caps and the bounded request queue, a second server on a
// port already taken, and SIGTERM with a request in flight. Every wait is
// bounded; no assertion is about speed (a generous deadline only proves that
// nothing hung).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "crypto/encoding.hpp"
#include "integration/serve_process.hpp"

using namespace scepra;
using namespace scepra::test;
using scep::PkiStatus;

namespace {

const std::string caps_request =
    "GET /certsrv/mscep/mscep.dll?operation=GetCACaps HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// A raw TCP connection from a chosen loopback source address; every wait is bounded.
class Socket {
  public:
    Socket(int port, const std::string& source) : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        REQUIRE(m_fd >= 0);
        timeval send_timeout{5, 0}, receive_timeout{20, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);
        sockaddr_in from{};
        from.sin_family = AF_INET;
        REQUIRE(::inet_pton(AF_INET, source.c_str(), &from.sin_addr) == 1);
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    }
    ~Socket() { ::close(m_fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool connected() const { return m_connected; }
    bool send(std::string_view data) {
        while (m_connected && !data.empty()) {
            const ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
        return m_connected;
    }
    /// What the server sends until it closes, 20 s of silence, or a whole
    /// response with a Content-Length has arrived.
    std::string receive_response() {
        std::string out;
        char buffer[4096];
        while (out.size() < (1 << 20)) {
            const auto head_end = out.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                const auto at = out.find("Content-Length: ");
                if (at != std::string::npos && at < head_end &&
                    out.size() >= head_end + 4 + std::stoul(out.substr(at + 16))) {
                    break;
                }
            }
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            out.append(buffer, static_cast<size_t>(n));
        }
        return out;
    }

  private:
    int m_fd;
    bool m_connected = false;
};

std::string configured(const TempDir& dir, const std::vector<std::pair<std::string, std::string>>& keys) {
    const std::string conf = init_instance(dir);
    std::string text = crypto::read_file(conf);
    for (const auto& [key, value] : keys) {
        set_key(text, key, value);
    }
    crypto::write_file(conf, text, 0640, true);
    return conf;
}

/// A PKCSReq of `device` as POST bytes, head and body.
std::string pkcs_req_post(const std::string& instance_dir, Device& device, const std::string& challenge,
                          const std::string& transaction_id, crypto::X509Ptr& ra_encryption) {
    ra_encryption = crypto::load_cert_file(instance_dir + "/ra-encryption.pem");
    const Bytes request = scep::build_pki_request(
        {scep::MessageType::pkcs_req, transaction_id, {}}, crypto::csr_der(*device.csr(challenge)),
        *ra_encryption, {"AES-128-CBC", false}, device.signer(), std::chrono::system_clock::now());
    return "POST /certsrv/mscep/mscep.dll?operation=PKIOperation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           "Content-Type: application/x-pki-message\r\nContent-Length: " +
           std::to_string(request.size()) + "\r\n\r\n" + std::string(request.begin(), request.end());
}

}  // namespace

TEST_SUITE("http.overload") {
    TEST_CASE("a second serve on a port already taken refuses to start and says the address is in use") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        ServeProcess first(dir, conf);
        // httplib's default socket options include SO_REUSEPORT: a second
        // server would bind the same port and take half of the connections.
        // Bounded: a second server that did bind would serve until killed (status 124).
        const std::string err_file = dir.file("second.err");
        const int rc = std::system(("timeout 30 " + std::string(SCEPRA_BINARY) + " serve --config " + conf +
                                    " --listen 127.0.0.1:" + std::to_string(first.port()) +
                                    " --metrics-listen 127.0.0.1:0 2>" + err_file)
                                       .c_str());
        const std::string err = crypto::read_file(err_file);
        INFO(err);
        CHECK(WIFEXITED(rc));
        CHECK(WEXITSTATUS(rc) == 1);
        CHECK(err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
        CHECK(err.find("already in use") != std::string::npos);
        // The first one still serves.
        ProcessClient client(dir.file("instance"), first.port());
        CHECK(client.http().Get("/certsrv/mscep/mscep.dll?operation=GetCACaps")->status == 200);
    }

    TEST_CASE("1,000 idle and slow-loris connections from other hosts leave a normal client enrolling") {
        TempDir dir;
        // Few workers: before the connection hub, each of these connections
        // held one of them until its timeout, and the normal client waited.
        const std::string conf = configured(dir, {{"threads", "4"}, {"PasswordMax", "10"}});
        std::vector<std::string> passwords;
        for (int i = 0; i < 3; ++i) {
            passwords.push_back(issue_password(dir, conf));
        }
        ServeProcess server(dir, conf);
        std::vector<std::unique_ptr<Socket>> idle, slow;
        for (int i = 0; i < 1000; ++i) {
            const std::string source = "127.0.0." + std::to_string(2 + i % 10);
            auto socket = std::make_unique<Socket>(server.port(), source);
            REQUIRE(socket->connected());
            if (i % 2 == 0) {
                idle.push_back(std::move(socket));
            } else {
                socket->send(
                    "GET /certsrv/mscep/mscep.dll?operation=GetCACaps HTTP/1.1\r\nHost: x\r\nX-Slow: ");
                slow.push_back(std::move(socket));
            }
        }
        // Slow-loris: each slow connection gets one more byte every 2 s
        // (a tenth of them every 200 ms), for at most 2 minutes.
        std::atomic<bool> done{false};
        std::thread trickle([&] {
            for (size_t round = 0; round < 600 && !done; ++round) {
                for (size_t i = round % 10; i < slow.size(); i += 10) {
                    slow[i]->send("s");
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            }
        });

        ProcessClient client(dir.file("instance"), server.port());
        for (size_t i = 0; i < passwords.size(); ++i) {
            auto http = client.http();
            http.set_read_timeout(20, 0);  // generous: only proves the request was not stuck
            auto caps = http.Get("/certsrv/mscep/mscep.dll?operation=GetCACaps");
            REQUIRE(caps);
            CHECK(caps->status == 200);
            Device device(i, "overload-" + std::to_string(i));
            CHECK(client.enrol(device, passwords[i], "TX-OVERLOAD-" + std::to_string(i)).status ==
                  PkiStatus::success);
        }
        done = true;
        trickle.join();
    }

    TEST_CASE("beyond the connections per address a new one gets a fast 503; other addresses are served") {
        TempDir dir;
        const std::string conf = configured(dir, {{"max_connections_per_address", "5"}});
        ServeProcess server(dir, conf);
        std::vector<std::unique_ptr<Socket>> held;
        for (int i = 0; i < 5; ++i) {
            held.push_back(std::make_unique<Socket>(server.port(), "127.0.0.2"));
            REQUIRE(held.back()->connected());
        }
        Socket sixth(server.port(), "127.0.0.2");
        sixth.send(caps_request);
        const std::string refused = sixth.receive_response();
        CHECK(status_of(refused) == 503);
        CHECK(refused.find("too many connections from this address") != std::string::npos);

        Socket other(server.port(), "127.0.0.3");
        other.send(caps_request);
        CHECK(status_of(other.receive_response()) == 200);
        // A held connection still gets its answer.
        held.front()->send(caps_request);
        CHECK(status_of(held.front()->receive_response()) == 200);
        CHECK(server.log().find("refused: too many connections from this address") != std::string::npos);
    }

    TEST_CASE("slow bodies from one address hold only its share of the workers; other addresses are served") {
        TempDir dir;
        const std::string conf =
            configured(dir, {{"threads", "4"}, {"max_active_requests_per_address", "2"}});
        ServeProcess server(dir, conf);
        const std::string slow_post =
            "POST /certsrv/mscep/mscep.dll?operation=PKIOperation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 100\r\n\r\nhalf";
        // Two bodies that do not come: each holds a worker.
        std::vector<std::unique_ptr<Socket>> slow;
        for (int i = 0; i < 2; ++i) {
            slow.push_back(std::make_unique<Socket>(server.port(), "127.0.0.2"));
            REQUIRE(slow.back()->send(slow_post));
        }
        // A third request from that address is refused at once, once the hub has
        // read the two heads (bounded retries: it reads them as they arrive).
        std::string refused;
        for (int attempt = 0; attempt < 50 && status_of(refused) != 503; ++attempt) {
            if (attempt > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            Socket third(server.port(), "127.0.0.2");
            third.send(caps_request);
            refused = third.receive_response();
        }
        CHECK(status_of(refused) == 503);
        CHECK(refused.find("too many requests from this address at once") != std::string::npos);
        // Another host still has workers.
        Socket other(server.port(), "127.0.0.3");
        other.send(caps_request);
        CHECK(status_of(other.receive_response()) == 200);
        // Once one slow request ends, the address gets a worker again.
        slow.front()->send(std::string(96, 'x'));
        CHECK(status_of(slow.front()->receive_response()) == 400);
        int again = 0;
        for (int attempt = 0; attempt < 50 && again != 200; ++attempt) {
            if (attempt > 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            Socket next(server.port(), "127.0.0.2");
            next.send(caps_request);
            again = status_of(next.receive_response());
        }
        CHECK(again == 200);
        CHECK(server.log().find("refused: too many requests from this address at once") != std::string::npos);
    }

    TEST_CASE("at one request per address, each next request on a new connection is served, not refused") {
        TempDir dir;
        const std::string conf =
            configured(dir, {{"threads", "2"}, {"max_active_requests_per_address", "1"}});
        ServeProcess server(dir, conf);
        // A client that has read its whole answer has no request in flight:
        // its next one must not be counted against the one just answered,
        // however soon it comes (the count drops when the worker has answered).
        int refused = 0, served = 0;
        for (int i = 0; i < 100; ++i) {
            Socket client(server.port(), "127.0.0.4");
            client.send(caps_request);
            const int status = status_of(client.receive_response());
            refused += status == 503;
            served += status == 200;
        }
        CHECK(refused == 0);
        CHECK(served == 100);
    }

    TEST_CASE("requests beyond the queue get a fast 503 while the worker is busy") {
        TempDir dir;
        const std::string conf = configured(dir, {{"threads", "1"}, {"max_queued_requests", "1"}});
        ServeProcess server(dir, conf);
        // The one worker reads a body that does not come.
        Socket busy(server.port(), "127.0.0.2");
        busy.send(
            "POST /certsrv/mscep/mscep.dll?operation=PKIOperation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Length: 100\r\n\r\nhalf");
        std::vector<std::unique_ptr<Socket>> waiting;
        for (int i = 0; i < 3; ++i) {
            waiting.push_back(std::make_unique<Socket>(server.port(), "127.0.0.3"));
            waiting.back()->send(caps_request);
        }
        // The worker and the queue hold two requests at most: of these three
        // at least one is refused at once (more if the worker had not yet
        // taken the busy one).
        std::vector<std::string> answers(3);
        size_t refused = 0;
        busy.send(std::string(96, 'x'));  // the busy request ends (not a pkiMessage: 400)
        CHECK(status_of(busy.receive_response()) == 400);
        for (size_t i = 0; i < 3; ++i) {
            answers[i] = waiting[i]->receive_response();
            const int status = status_of(answers[i]);
            CHECK((status == 200 || status == 503));
            refused += status == 503 ? 1 : 0;
            if (status == 503) {
                CHECK(answers[i].find("too many requests waiting") != std::string::npos);
            }
        }
        CHECK(refused >= 1);
    }

    TEST_CASE("SIGTERM: a request in flight is answered, new connections are refused, the exit code is 0") {
        TempDir dir;
        const std::string conf = init_instance(dir);
        const std::string password = issue_password(dir, conf);
        ServeProcess server(dir, conf);
        const int port = server.port();

        Device device(0, "drained");
        crypto::X509Ptr ra_encryption;
        const std::string request =
            pkcs_req_post(dir.file("instance"), device, password, "TX-DRAIN", ra_encryption);
        Socket in_flight(port, "127.0.0.1");
        const size_t half = request.size() - 200;
        REQUIRE(in_flight.send(request.substr(0, half)));
        // Let the server start reading it (the head is complete, the body is not).
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        REQUIRE(::kill(server.pid(), SIGTERM) == 0);

        bool refused = false;
        for (int i = 0; i < 200 && !refused; ++i) {
            Socket probe(port, "127.0.0.1");
            refused = !probe.connected();
            if (!refused) {
                std::this_thread::sleep_for(std::chrono::milliseconds(25));
            }
        }
        CHECK(refused);

        REQUIRE(in_flight.send(request.substr(half)));
        const std::string response = in_flight.receive_response();
        REQUIRE(status_of(response) == 200);
        const std::string body = response.substr(response.find("\r\n\r\n") + 4);
        auto ra_signing = crypto::load_cert_file(dir.file("instance/ra-signing.pem"));
        CHECK(scep::read_cert_rep(as_bytes(body), *ra_signing, device.recipient()).status ==
              PkiStatus::success);

        const std::optional<int> exit_status = server.wait_exit();
        INFO(server.log());
        REQUIRE(exit_status);
        CHECK(*exit_status == 0);
    }
}
