// SPDX-License-Identifier: Apache-2.0
#include "validators/intune/service_discovery.hpp"

#include <string_view>

#include "common/ascii.hpp"
#include "validators/intune/bounded_json.hpp"
#include "validators/intune/intune_answers.hpp"
#include "validators/intune/intune_errors.hpp"
#include "validators/intune/request_id.hpp"

namespace scepra::validators::intune {

namespace {

constexpr std::size_t max_endpoints_answer = 512 * 1024;
constexpr std::size_t max_listed_endpoints = 1000;
constexpr std::size_t max_uri_length = 2048;
constexpr const char* endpoints_path =
    "v1.0/servicePrincipals/appId=0000000a-0000-0000-c000-000000000000/endpoints";

std::string without_trailing_slash(std::string url) {
    while (!url.empty() && url.back() == '/') {
        url.pop_back();
    }
    return url;
}

}  // namespace

std::string detail::read_endpoints_answer(const std::string& body) {
    const auto parsed = parse_bounded(body);
    if (!parsed || !parsed->is_object() || !parsed->contains("value") || !(*parsed)["value"].is_array()) {
        throw IntuneUnavailable("Graph's list of Intune endpoints is not {\"value\": [...]}");
    }
    const auto& entries = (*parsed)["value"];
    if (entries.size() > max_listed_endpoints) {
        throw IntuneUnavailable("Graph listed more than " + std::to_string(max_listed_endpoints) +
                                " Intune endpoints");
    }
    for (const auto& entry : entries) {
        // The library takes providerName, and serviceName when there is none.
        auto name = string_member(entry, "providerName", 256);
        if (!name) {
            name = string_member(entry, "serviceName", 256);
        }
        if (!name || !equal_ignoring_ascii_case(*name, validation_service_name)) {
            continue;
        }
        auto uri = string_member(entry, "uri", max_uri_length);
        if (!uri) {
            throw IntuneUnavailable("Graph's ScepRequestValidationFEService entry has no usable uri");
        }
        try {
            backend::http::parse_base_url(*uri, "Intune");  // https only, no query, user info or fragment
        } catch (const std::invalid_argument&) {
            throw IntuneUnavailable("Graph's ScepRequestValidationFEService uri is not an https URL: " +
                                    printable(*uri, 200));
        }
        return without_trailing_slash(*uri);
    }
    throw IntuneUnavailable(
        "Graph lists no ScepRequestValidationFEService for this tenant (is Intune licensed and the "
        "application granted Intune's scep_challenge_provider permission?)");
}

ServiceDiscovery::ServiceDiscovery(const IntuneSettings& settings, TokenClient& tokens)
    : m_tokens(tokens),
      m_graph_scope(without_trailing_slash(settings.graph_url) + "/.default"),
      m_graph({"Graph", settings.graph_url, {}, {}, settings.server_ca, settings.timeout_seconds}) {}

std::string ServiceDiscovery::endpoint() {
    {
        std::lock_guard lock(m_mutex);
        if (m_endpoint) {
            return *m_endpoint;
        }
    }
    // Requests arriving during a discovery share its answer, or its failure.
    return m_discoveries.run("endpoints", [&] {
        std::string found = discover();
        std::lock_guard lock(m_mutex);
        m_endpoint = found;
        return found;
    });
}

void ServiceDiscovery::forget() {
    std::lock_guard lock(m_mutex);
    m_endpoint.reset();
}

std::string ServiceDiscovery::discover() {
    // A refused token (401) is fetched once more: it may have been revoked early.
    for (int attempt = 0; attempt < 2; ++attempt) {
        const backend::http::Headers headers{{"Authorization", "Bearer " + m_tokens.token(m_graph_scope)},
                                             {"client-request-id", new_request_id()}};
        backend::http::HttpAnswer answer;
        try {
            answer = m_graph.get_with(endpoints_path, headers, max_endpoints_answer);
        } catch (const backend::http::TransportError& e) {
            throw IntuneUnavailable(std::string("cannot ask Graph for Intune's endpoints: ") + e.what());
        }
        if (answer.status == 401 && attempt == 0) {
            m_tokens.forget(m_graph_scope);
            continue;
        }
        if (answer.status != 200) {
            throw IntuneUnavailable("Graph answered HTTP " + std::to_string(answer.status) +
                                    " when asked for Intune's endpoints");
        }
        return detail::read_endpoints_answer(answer.body);
    }
    throw IntuneUnavailable("Graph refused a fresh token for Intune's endpoints (HTTP 401)");
}

}  // namespace scepra::validators::intune
