// SPDX-License-Identifier: Apache-2.0
// Serving the CRL (DER, application/pkix-crl, RFC 5280 §4.2.1.13).
#include "http/crl_site.hpp"

#include <httplib.h>

namespace scepra::http {

std::string CrlSite::serve(const httplib::Request& request, httplib::Response& response) {
    if (request.method != "GET") {
        response.status = 405;
        response.set_content("use GET\n", "text/plain");
        return "CRL: method not allowed";
    }
    auto crl = m_backend.crl();
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
