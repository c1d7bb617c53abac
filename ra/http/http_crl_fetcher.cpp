// SPDX-License-Identifier: Apache-2.0
#include "http/http_crl_fetcher.hpp"

#include <httplib.h>

#include <stdexcept>

#include "common/call_deadline.hpp"

namespace scepra::http {

Bytes HttpCrlFetcher::fetch(const std::string& url) {
    // http://HOST[:PORT]/PATH; the authority is everything up to the first '/'.
    const std::string rest = url.substr(7);
    const size_t slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    if (url.rfind("http://", 0) != 0 || authority.empty() || authority.find('@') != std::string::npos) {
        throw std::runtime_error("not an http:// URL: " + url);
    }
    httplib::Client client("http://" + authority);
    client.set_connection_timeout(m_timeout);
    client.set_read_timeout(m_timeout);
    client.set_write_timeout(m_timeout);
    Bytes body;
    bool too_big = false;
    bool out_of_time = false;
    auto result = [&] {
        // Connect, send and read, each within the timeout: three of them in all,
        // however the server paces its answer.
        const CallDeadline deadline([&client] { client.stop(); }, 3 * m_timeout);
        auto answer = client.Get(path, [&](const char* data, size_t length) {
            if (body.size() + length > m_max_bytes) {
                too_big = true;
                return false;
            }
            body.insert(body.end(), data, data + length);
            return true;
        });
        out_of_time = !answer && deadline.expired();
        return answer;
    }();
    if (out_of_time) {
        throw std::runtime_error("fetching " + url + " took longer than " +
                                 std::to_string(3 * m_timeout.count()) + " s");
    }
    if (too_big) {
        throw std::runtime_error("the CRL at " + url + " is larger than " + std::to_string(m_max_bytes) +
                                 " bytes");
    }
    if (!result) {
        throw std::runtime_error("cannot fetch " + url + ": " + httplib::to_string(result.error()));
    }
    if (result->status != 200) {
        throw std::runtime_error("fetching " + url + " answered HTTP " + std::to_string(result->status));
    }
    return body;
}

}  // namespace scepra::http
