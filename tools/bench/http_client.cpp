// SPDX-License-Identifier: Apache-2.0
// Creates the HTTP clients scep-bench uses and runs its untimed set-up GETs.
#include "bench/http_client.hpp"

#include <stdexcept>

namespace scepra::bench {

std::unique_ptr<httplib::Client> make_client(const TargetUrl& target) {
    auto client = std::make_unique<httplib::Client>(target.host, target.port);
    client->set_keep_alive(true);
    // Request headers and body are separate writes; with Nagle on, the body
    // could wait for a delayed ACK and every POST would gain ~40 ms.
    client->set_tcp_nodelay(true);
    // SCEP clients do not ask for compressed replies.
    client->set_decompress(false);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(30, 0);
    client->set_write_timeout(30, 0);
    return client;
}

std::string transport_error(const httplib::Result& result) {
    return "connection: " + httplib::to_string(result.error());
}

httplib::Response get_operation(httplib::Client& client, const TargetUrl& target,
                                const std::string& operation) {
    httplib::Result res = client.Get(target.path + "?operation=" + operation);
    if (!res) {
        throw std::runtime_error(operation + " failed: " + transport_error(res));
    }
    if (res->status != 200) {
        throw std::runtime_error(operation + " answered HTTP " + std::to_string(res->status));
    }
    return *res;
}

}  // namespace scepra::bench
