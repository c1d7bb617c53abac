// SPDX-License-Identifier: Apache-2.0
// Hostile HTTP clients against the real server, over raw loopback sockets:
// bodies without a bound (chunked, no Content-Length, compression bombs, an
// absurd Content-Length), endless heads, slow heads, and control characters
// meant for the log. The server must stay small, answer, and keep serving.
#include <arpa/inet.h>
#include <brotli/encode.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"
#include "support/sanitizer.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

constexpr size_t mib = 1 << 20;
const std::string pki_path = "/certsrv/mscep/mscep.dll?operation=PKIOperation";

/// A raw TCP connection to the loopback server; every wait is bounded.
class RawClient {
  public:
    explicit RawClient(int port) : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        REQUIRE(m_fd >= 0);
        timeval send_timeout{3, 0}, receive_timeout{5, 0};
        ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~RawClient() { ::close(m_fd); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

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
    /// Sends `total` bytes of `unit` repeated, stopping when the server stops
    /// taking them. Returns the bytes sent.
    size_t stream(const std::string& unit, size_t total) {
        size_t sent = 0;
        while (sent < total && send(unit)) {
            sent += unit.size();
        }
        return sent;
    }
    void finish_sending() { ::shutdown(m_fd, SHUT_WR); }
    /// Everything the server sends until it closes (or 5 s of silence), at most 1 MiB.
    std::string receive_all() {
        std::string out;
        char buffer[4096];
        while (out.size() < mib) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            out.append(buffer, static_cast<size_t>(n));
        }
        return out;
    }
    /// True when the server has closed its side (EOF or reset) within 5 s.
    bool closed_by_server() {
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) {
                return true;
            }
            if (n < 0) {
                return false;
            }
        }
    }
    /// Without waiting: has the server closed the connection?
    bool hung_up_now() {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 0) <= 0) {
            return false;
        }
        char buffer[4096];
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
        return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }

  private:
    int m_fd;
    bool m_connected = false;
};

std::string gzip_of_zeros(size_t inflated) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string zeros(mib, '\0'), out, buffer(64 * 1024, '\0');
    for (size_t fed = 0; fed < inflated; fed += zeros.size()) {
        const bool last = fed + zeros.size() >= inflated;
        z.next_in = reinterpret_cast<Bytef*>(zeros.data());
        z.avail_in = static_cast<uInt>(zeros.size());
        do {
            z.next_out = reinterpret_cast<Bytef*>(buffer.data());
            z.avail_out = static_cast<uInt>(buffer.size());
            deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
            out.append(buffer.data(), buffer.size() - z.avail_out);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    return out;
}

std::string brotli_of_zeros(size_t inflated) {
    BrotliEncoderState* state = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    REQUIRE(state);
    std::string zeros(mib, '\0'), out;
    for (size_t fed = 0; fed < inflated; fed += zeros.size()) {
        const bool last = fed + zeros.size() >= inflated;
        size_t available_in = zeros.size();
        auto next_in = reinterpret_cast<const uint8_t*>(zeros.data());
        do {
            size_t available_out = 0;
            BrotliEncoderCompressStream(state, last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS,
                                        &available_in, &next_in, &available_out, nullptr, nullptr);
            size_t size = 0;
            const uint8_t* data = BrotliEncoderTakeOutput(state, &size);
            out.append(reinterpret_cast<const char*>(data), size);
        } while (available_in > 0 || BrotliEncoderHasMoreOutput(state) ||
                 (last && !BrotliEncoderIsFinished(state)));
    }
    BrotliEncoderDestroyInstance(state);
    return out;
}

/// kB from /proc/self/status (the server runs in this process).
long status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            return std::stol(line.substr(field.size() + 1));
        }
    }
    return -1;
}

/// Starts VmHWM (peak RSS) afresh from the current RSS (Linux clear_refs).
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

std::string post_head(const std::string& extra_headers) {
    return "POST " + pki_path +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-pki-message\r\n" + extra_headers +
           "\r\n";
}

struct Bombs {
    std::string gzip, brotli;
};

const Bombs& bombs() {
    // 64 MiB of zeros each: about 64 KiB of gzip, a few hundred bytes of brotli.
    static const Bombs b{gzip_of_zeros(64 * mib), brotli_of_zeros(64 * mib)};
    return b;
}

enum class Attack {
    chunked_endless,
    gzip_bomb,
    brotli_bomb,
    absurd_length,
    no_length,
    endless_headers,
    endless_line
};

/// One hostile request (each streaming kind sends at most 24 MiB); returns the HTTP status answered, 0 for
/// none.
int attack(int port, Attack kind) {
    RawClient c(port);
    const std::string filler(64 * 1024, 'A');
    switch (kind) {
        case Attack::chunked_endless: {
            c.send(post_head("Transfer-Encoding: chunked\r\n"));
            c.stream("10000\r\n" + filler + "\r\n", 24 * mib);
            break;
        }
        case Attack::gzip_bomb:
            c.send(post_head("Content-Encoding: gzip\r\nContent-Length: " +
                             std::to_string(bombs().gzip.size()) + "\r\n") +
                   bombs().gzip);
            break;
        case Attack::brotli_bomb:
            c.send(post_head("Content-Encoding: br\r\nContent-Length: " +
                             std::to_string(bombs().brotli.size()) + "\r\n") +
                   bombs().brotli);
            break;
        case Attack::absurd_length:
            c.send(post_head("Content-Length: 99999999999999999\r\n"));
            c.stream(filler, 24 * mib);
            break;
        case Attack::no_length:
            c.send(post_head(""));
            c.stream(filler, 24 * mib);
            c.finish_sending();
            break;
        case Attack::endless_headers: {
            c.send("GET /certsrv/mscep/mscep.dll?operation=GetCACaps HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            std::string headers;
            for (int i = 0; i < 64; ++i) {
                headers += "X-Padding-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
            }
            c.stream(headers, 24 * mib);
            break;
        }
        case Attack::endless_line:
            c.send("GET /certsrv/mscep/mscep.dll?operation=GetCACaps&x=");
            c.stream(filler, 24 * mib);
            break;
    }
    return status_of(c.receive_all());
}

void check_still_serving(ServerFixture& server) {
    auto res = server.client().Get(server.base_path() + "?operation=GetCACert");
    REQUIRE(res);
    CHECK(res->status == 200);
    Device device(0, "after-the-attack");
    auto csr = device.csr(server.password());
    auto request =
        scep::build_pki_request({scep::MessageType::pkcs_req, "TX-AFTER-ATTACK", {}}, crypto::csr_der(*csr),
                                server.ra_encryption_cert(), {"AES-128-CBC", false}, device.signer(),
                                std::chrono::system_clock::now());
    Reply reply = send_pki(server, request);
    REQUIRE(reply.http_status == 200);
    auto view = scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
    CHECK(view.status == scep::PkiStatus::success);
}

/// One request whose path holds control characters, raw and percent-encoded.
void send_raw_request(int port, const std::string& request_line) {
    RawClient c(port);
    c.send(request_line + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    c.receive_all();
}

}  // namespace

TEST_SUITE("http.hostile") {
    TEST_CASE("64 parallel unbounded bodies and heads leave the server small and serving") {
        ServerFixture server;
        const Bombs& b = bombs();  // built before the peak is measured
        REQUIRE(b.gzip.size() < 2 * mib);
        REQUIRE(b.brotli.size() < 2 * mib);
        reset_peak_rss();
        const long before_kib = status_kib("VmRSS");
        const Attack kinds[] = {Attack::chunked_endless, Attack::gzip_bomb, Attack::brotli_bomb,
                                Attack::absurd_length,   Attack::no_length, Attack::endless_headers,
                                Attack::endless_line};
        std::vector<std::thread> attackers;
        std::vector<int> statuses(64, 0);
        for (size_t i = 0; i < statuses.size(); ++i) {
            attackers.emplace_back(
                [&, i] { statuses[i] = attack(server.port(), kinds[i % std::size(kinds)]); });
        }
        for (auto& t : attackers) {
            t.join();
        }
        const long peak_kib = status_kib("VmHWM");
        MESSAGE("RSS before " << before_kib / 1024 << " MiB, peak during the attack " << peak_kib / 1024
                              << " MiB");
        std::map<int, int> answered;
        for (int s : statuses) {
            ++answered[s];
        }
        for (auto [status, count] : answered) {
            MESSAGE("HTTP " << status << ": " << count << " connections");
            CHECK(status != 200);  // no hostile request was served
        }
        if (!built_with_address_sanitizer) {  // ASan's shadow and quarantine are hundreds of MiB
            CHECK(peak_kib < 96 * 1024);
        }
        check_still_serving(server);
    }

    TEST_CASE("a body scep-ra cannot bound is refused from its head, and the connection closed") {
        ServerFixture server;
        struct Case {
            const char* name;
            std::string head;
            int status;
        };
        const std::vector<Case> cases = {
            {"chunked", post_head("Transfer-Encoding: chunked\r\n"), 411},
            {"chunked beside a length", post_head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
             411},
            {"gzip", post_head("Content-Encoding: gzip\r\nContent-Length: 100\r\n"), 415},
            {"br", post_head("Content-Encoding: br\r\nContent-Length: 100\r\n"), 415},
            {"no length", post_head(""), 411},
            {"absurd length", post_head("Content-Length: 99999999999999999999\r\n"), 400},
            {"length far over the cap", post_head("Content-Length: 8388609\r\n"), 413},
            {"length not a number", post_head("Content-Length: 12, 12\r\n"), 400},
            {"two lengths", post_head("Content-Length: 10\r\nContent-Length: 10\r\n"), 400},
            {"a GET with a body", "GET " + pki_path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n",
             400},
            {"PUT", "PUT " + pki_path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 405},
            {"waits for 100 Continue",
             post_head("Content-Encoding: gzip\r\nContent-Length: 100\r\nExpect: 100-continue\r\n"), 415},
        };
        for (const auto& test : cases) {
            CAPTURE(test.name);
            RawClient c(server.port());
            REQUIRE(c.send(test.head));
            c.send("0123456789");  // the start of a body, which must never count as the next request
            const std::string response = c.receive_all();
            CHECK(status_of(response) == test.status);
            CHECK(response.find("HTTP/1.1 100") == std::string::npos);
            CHECK(response.find("Connection: close") != std::string::npos);
            CHECK(response.find("HTTP/1.1", 1) == std::string::npos);  // one answer, then the end
        }
        // An ordinary POST with Content-Length still works on a kept-alive connection.
        check_still_serving(server);
    }

    TEST_CASE("a request must arrive within its deadline and its head within its budget") {
        struct Hello final : http::Site {
            bool handles(std::string_view path) const override { return path == "/hello"; }
            http::Served serve(const httplib::Request&, httplib::Response& res) override {
                res.set_content("hello\n", "text/plain");
                return "hello";
            }
        } hello;
        http::ListenOptions options;
        options.port = 0;
        options.worker_threads = 2;
        options.limits.read_timeout = std::chrono::milliseconds(1000);
        options.limits.request_deadline = std::chrono::milliseconds(1500);
        std::ostringstream log;
        http::Listener listener(options, {&hello}, log);
        const int port = listener.bind();
        std::thread runner([&] { listener.run(); });

        SUBCASE("fail/slow-head") {
            // One byte every 50 ms: each read is quick, the request never ends.
            RawClient c(port);
            c.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
            size_t trickled = 0;
            bool hung_up = false;
            while (trickled < 400 && !hung_up) {
                c.send("s");
                ++trickled;
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                hung_up = c.hung_up_now();
            }
            CHECK(hung_up);
            CHECK(trickled < 400);
        }
        SUBCASE("fail/head-over-budget") {
            RawClient c(port);
            c.send("GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            const size_t sent = c.stream("X-Many: " + std::string(500, 'm') + "\r\n", 32 * mib);
            CHECK(sent < 32 * mib);  // the server stopped reading (after a bounded lingering drain)
            CHECK(c.closed_by_server());
        }
        SUBCASE("ok/keep-alive-and-pipelining") {
            RawClient c(port);
            std::string requests;
            for (int i = 0; i < 3; ++i) {
                requests += "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
            }
            c.send(requests + "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            const std::string all = c.receive_all();
            size_t answers = 0;
            for (size_t at = all.find("HTTP/1.1 200"); at != std::string::npos;
                 at = all.find("HTTP/1.1 200", at + 1)) {
                ++answers;
            }
            CHECK(answers == 4);
        }
        listener.stop();
        runner.join();
    }

    TEST_CASE("control characters from the client never reach the log raw, one line per request") {
        ServerFixture server;
        const size_t bytes_before = server.log().size();
        send_raw_request(server.port(), "GET /certsrv/%1b[31mred%0d%0aFAKE%20200%20line%00end HTTP/1.1");
        send_raw_request(server.port(),
                         "GET /certsrv/mscep/mscep.dll?operation=%1b[2J%0d%0aGetCACert%00 HTTP/1.1");
        send_raw_request(server.port(), "GET /raw\x1b[31mesc\x7f HTTP/1.1");
        send_raw_request(server.port(), "GET /" + std::string(5000, 'L') + " HTTP/1.1");
        const std::string log = server.log();
        const std::string added = log.substr(bytes_before);
        // One access-log line per request: the escaped CR LF did not start a
        // line of its own. (Other lines, such as a start-up message written
        // late on a loaded machine, are not counted.)
        size_t request_lines = 0;
        for (size_t at = 0, next; at < added.size(); at = next + 1) {
            next = added.find('\n', at);
            const std::string line = added.substr(at, next - at);
            CHECK_MESSAGE(!line.starts_with("FAKE"), "a forged log line: " << line);
            request_lines += line.find(" GET /") != std::string::npos ? 1 : 0;
        }
        CHECK(request_lines == 4);
        for (char c : added) {
            const auto byte = static_cast<unsigned char>(c);
            CHECK_MESSAGE((c == '\n' || (byte >= 0x20 && byte < 0x7f)),
                          "raw byte " << int(byte) << " in the log");
        }
        CHECK(added.find("\\x1b[31mred\\x0d\\x0aFAKE 200 line\\x00end") != std::string::npos);
        size_t longest = 0;
        for (size_t at = 0, next; at < added.size(); at = next + 1) {
            next = added.find('\n', at);
            longest = std::max(longest, next - at);
        }
        CHECK(longest < 1200);  // the 5,000-byte path is cut short
    }
}
