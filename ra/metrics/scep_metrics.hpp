// SPDX-License-Identifier: Apache-2.0
// The series scep-ra's request path records: SCEP requests by operation,
// message type and outcome, enrolment latency, and calls to the CA backend.
// Every label value comes from a fixed set, whatever a client sends.
#pragma once

#include <string>
#include <string_view>

#include "metrics/registry.hpp"

namespace scepra::metrics {

/// One answered SCEP request.
struct RequestSample {
    std::string_view operation;     ///< as the client named it
    std::string_view message_type;  ///< PKIOperation only
    std::string_view outcome;       ///< success | pending | failure | malformed | refused | error
    std::string_view fail_info;     ///< with failure
    double seconds = 0;
};

class ScepMetrics {
  public:
    explicit ScepMetrics(Registry& registry);

    void request(const RequestSample& sample);
    /// One call to the CA backend: which, what it asked, how it ended, how long it took.
    void backend_call(std::string_view backend, std::string_view call, std::string_view outcome,
                      double seconds);

  private:
    Counter& m_requests;
    Histogram& m_enrolment_seconds;
    Counter& m_backend_calls;
    Histogram& m_backend_seconds;
};

/// The operation as a label: a SCEP operation scep-ra knows, or "other".
std::string operation_label(std::string_view operation);
/// The message type as a label: a SCEP message type name, "" for none, or "other".
std::string message_type_label(std::string_view message_type);
/// The failInfo as a label: one of RFC 8894's five names, "" for none, or "other".
std::string fail_info_label(std::string_view fail_info);

}  // namespace scepra::metrics
