// SPDX-License-Identifier: Apache-2.0
// HTTP <-> ScepService for the SCEP endpoints.
#include "http/scep_site.hpp"

#include <httplib.h>

#include <chrono>

#include "http/transport.hpp"

namespace scepra::http {

namespace {

// What NDES shows when mscep.dll is browsed without an operation.
constexpr const char* info_page =
    "<html><head><title>Network Device Enrollment Service</title></head><body>"
    "<p>Network Device Enrollment Service allows you to obtain certificates for routers or other network "
    "devices using the Simple Certificate Enrollment Protocol (SCEP).</p>"
    "<p>This URL is used by network devices to submit certificate requests.</p>"
    "<p>To obtain an enrollment challenge password, go to the admin URL. By default, the admin URL is "
    "/certsrv/mscep_admin</p><p>This service is provided by scep-ra.</p></body></html>\n";

core::ScepRequest to_scep_request(const httplib::Request& req) {
    core::ScepRequest out;
    out.peer = req.remote_addr;
    // Many CAs ignore `operation` on POST (RFC 8894 §4.3); a POST body is always a pkiMessage.
    out.operation = raw_query_param(req.target, "operation").value_or("");
    if (req.method == "POST") {
        if (out.operation.empty()) {
            out.operation = "PKIOperation";
        }
        out.message = Bytes(req.body.begin(), req.body.end());
    } else if (out.operation == "PKIOperation") {
        // GET: standard base64, percent-escaped; decoded from the raw target
        // because the form decoder would turn '+' into ' '.
        if (auto text = raw_query_param(req.target, "message")) {
            out.message = decode_base64(*text);
        }
    }
    // GetCACert/GetCACaps `message` (a CA identifier) is accepted and ignored, as NDES does.
    return out;
}

}  // namespace

bool ScepSite::handles(std::string_view path) const { return is_scep_path(path); }

Served ScepSite::serve(const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" && raw_query_param(req.target, "operation").value_or("").empty()) {
        res.status = 200;
        res.set_content(info_page, "text/html");
        return "info page";
    }
    const auto started = std::chrono::steady_clock::now();
    const core::ScepRequest request = to_scep_request(req);
    auto seconds = [&started] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    core::ScepResponse out;
    try {
        out = m_service.handle(request);
    } catch (...) {
        if (m_metrics) {
            m_metrics->request({request.operation, "", "error", "", seconds()});
        }
        throw;
    }
    // Only a PKIOperation says how it ended; the others succeed or are refused at the HTTP level.
    const std::string outcome = !out.outcome.empty() ? out.outcome
                                : out.status < 400   ? "success"
                                : out.status < 500   ? "refused"
                                                     : "error";
    if (m_metrics) {
        m_metrics->request({request.operation, out.message_type, outcome, out.fail_info, seconds()});
    }
    res.status = out.status;
    res.set_content(out.body, out.content_type);
    Served served(std::move(out.log));
    served.operation = request.operation;
    served.message_type = std::move(out.message_type);
    served.transaction_id = std::move(out.transaction_id);
    served.outcome = outcome;
    served.fail_info = std::move(out.fail_info);
    if (!served.message_type.empty()) {
        served.backend = m_backend;
    }
    return served;
}

}  // namespace scepra::http
