// SPDX-License-Identifier: Apache-2.0
#include "metrics/scep_metrics.hpp"

#include <array>

namespace scepra::metrics {

namespace {

// Enrolments wait for RSA operations and the CA; CA calls may cross a network.
const std::vector<double> latency_bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

template <size_t N>
std::string one_of(std::string_view value, const std::array<std::string_view, N>& known) {
    for (std::string_view k : known) {
        if (value == k) {
            return std::string(k);
        }
    }
    return "other";
}

}  // namespace

std::string operation_label(std::string_view operation) {
    static constexpr std::array<std::string_view, 4> known{"GetCACert", "GetCACaps", "GetNextCACert",
                                                           "PKIOperation"};
    return operation.empty() ? "none" : one_of(operation, known);
}

std::string message_type_label(std::string_view message_type) {
    static constexpr std::array<std::string_view, 7> known{"",        "PKCSReq", "RenewalReq", "CertPoll",
                                                           "GetCert", "GetCRL",  "CertRep"};
    return one_of(message_type, known);
}

std::string fail_info_label(std::string_view fail_info) {
    static constexpr std::array<std::string_view, 6> known{"",           "badAlg",  "badMessageCheck",
                                                           "badRequest", "badTime", "badCertId"};
    return one_of(fail_info, known);
}

ScepMetrics::ScepMetrics(Registry& registry)
    : m_requests(registry.counter(
          "scep_ra_requests_total",
          "SCEP requests answered, by operation, PKIOperation message type, outcome and failInfo",
          {"operation", "message_type", "outcome", "fail_info"})),
      m_enrolment_seconds(
          registry.histogram("scep_ra_enrolment_duration_seconds",
                             "Time to answer a PKCSReq or RenewalReq, from the request to the reply",
                             {"message_type", "outcome"}, latency_bounds)),
      m_backend_calls(registry.counter("scep_ra_backend_calls_total",
                                       "Calls to the CA backend, by backend, call and outcome",
                                       {"backend", "call", "outcome"})),
      m_backend_seconds(registry.histogram("scep_ra_backend_call_duration_seconds",
                                           "Duration of calls to the CA backend", {"backend", "call"},
                                           latency_bounds)) {}

void ScepMetrics::request(const RequestSample& sample) {
    static constexpr std::array<std::string_view, 6> outcomes{"success",   "pending", "failure",
                                                              "malformed", "refused", "error"};
    const std::string type = message_type_label(sample.message_type);
    const std::string outcome = one_of(sample.outcome, outcomes);
    m_requests.add({operation_label(sample.operation), type, outcome, fail_info_label(sample.fail_info)});
    if (type == "PKCSReq" || type == "RenewalReq") {
        m_enrolment_seconds.observe({type, outcome}, sample.seconds);
    }
}

void ScepMetrics::backend_call(std::string_view backend, std::string_view call, std::string_view outcome,
                               double seconds) {
    // Backend, call and outcome names come from scep-ra's code, never from a client.
    m_backend_calls.add({std::string(backend), std::string(call), std::string(outcome)});
    m_backend_seconds.observe({std::string(backend), std::string(call)}, seconds);
}

}  // namespace scepra::metrics
