// SPDX-License-Identifier: Apache-2.0
// How a client is known by address: the key of the per-address caps, the
// login throttles and the log lines.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/client_key.hpp"
#include "common/unique_fd.hpp"
#include "http/connection.hpp"

using namespace scepra;

TEST_SUITE("http.client_address") {
    TEST_CASE("caps and throttles count an IPv6 client by its /64, an IPv4 client by its address") {
        CHECK(client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
        CHECK(client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff::9"));
        CHECK(client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1"));
        CHECK(client_key("::1") == "::/64");
        CHECK(client_key("192.0.2.10") == "192.0.2.10");
        CHECK(client_key("") == "");
        CHECK(client_key("not an address") == "not an address");
    }

    TEST_CASE("an IPv4 client of a dual-stack listener is known by its IPv4 address, not ::ffff:a.b.c.d") {
        // An IPv6 socket that takes IPv4 too, listening on the IPv4-mapped loopback only.
        UniqueFd listener(::socket(AF_INET6, SOCK_STREAM, 0));
        REQUIRE(listener.get() >= 0);
        const int off = 0;
        REQUIRE(::setsockopt(listener.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0);
        sockaddr_in6 at{};
        at.sin6_family = AF_INET6;
        REQUIRE(::inet_pton(AF_INET6, "::ffff:127.0.0.1", &at.sin6_addr) == 1);
        REQUIRE(::bind(listener.get(), reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
        REQUIRE(::listen(listener.get(), 1) == 0);
        socklen_t length = sizeof at;
        REQUIRE(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&at), &length) == 0);

        UniqueFd client(::socket(AF_INET, SOCK_STREAM, 0));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = at.sin6_port;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
        UniqueFd accepted(::accept(listener.get(), nullptr, nullptr));
        REQUIRE(accepted.get() >= 0);

        sockaddr_in from{};
        length = sizeof from;
        REQUIRE(::getsockname(client.get(), reinterpret_cast<sockaddr*>(&from), &length) == 0);
        const http::Endpoint peer = http::peer_of(accepted.get());
        CHECK(peer.ip == "127.0.0.1");
        CHECK(peer.port == ntohs(from.sin_port));
    }
}
