// SPDX-License-Identifier: Apache-2.0
#include "http/metrics_site.hpp"

#include <httplib.h>

#include "metrics/text_format.hpp"

namespace scepra::http {

Served MetricsSite::serve(const httplib::Request& request, httplib::Response& response) {
    if (request.method != "GET" && request.method != "HEAD") {
        response.status = 405;
        response.set_header("Allow", "GET, HEAD");
        response.set_content("use GET\n", "text/plain");
        return "metrics: method not allowed";
    }
    response.status = 200;
    response.set_content(m_registry.render(), metrics::text_content_type);
    return "metrics";
}

ListenOptions metrics_listen_options(ListenOptions address) {
    // A scraper every few seconds: two workers are plenty, and no request has
    // a body. Small caps, so that this port cannot take SCEP's file descriptors.
    address.worker_threads = 2;
    address.max_body_bytes = 4096;
    address.limits.max_connections = 64;
    address.limits.max_connections_per_address = 16;
    address.limits.max_queued_requests = 64;
    address.limits.max_active_per_address = 1;
    return address;
}

}  // namespace scepra::http
