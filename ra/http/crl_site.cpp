// SPDX-License-Identifier: Apache-2.0
// Serving the CRL (DER, application/pkix-crl, RFC 5280 §4.2.1.13).
#include "http/crl_site.hpp"

#include <httplib.h>

namespace scepra::http {

Served CrlSite::serve(const httplib::Request& request, httplib::Response& response) {
    if (request.method != "GET") {
        response.status = 405;
        response.set_content("use GET\n", "text/plain");
        return "CRL: method not allowed";
    }
    std::optional<Bytes> crl;
    try {
        crl = m_backend.crl();
    } catch (const std::exception& e) {
        // The CA's trouble, not the client's: relying parties retry a 503.
        response.status = 503;
        response.set_header("Retry-After", "60");
        response.set_content("the CA is unavailable; try again later\n", "text/plain");
        return std::string("CRL: CA unavailable: ") + e.what();
    }
    if (!crl) {
        response.status = 404;
        response.set_content("this CA publishes no CRL\n", "text/plain");
        return "CRL: none";
    }
    response.status = 200;
    response.set_content(std::string(crl->begin(), crl->end()), "application/pkix-crl");
    return "CRL " + std::to_string(crl->size()) + " bytes";
}

}  // namespace scepra::http
