// SPDX-License-Identifier: Apache-2.0
// The SCEP endpoints on the NDES and RFC 8894 paths.
#pragma once

#include "core/scep_service.hpp"
#include "http/listener.hpp"
#include "metrics/scep_metrics.hpp"

namespace scepra::http {

class ScepSite final : public Site {
  public:
    /// metrics, when given, counts every answered request; backend names the
    /// CA backend in the request log.
    explicit ScepSite(core::ScepService& service, metrics::ScepMetrics* metrics = nullptr,
                      std::string backend = {})
        : m_service(service), m_metrics(metrics), m_backend(std::move(backend)) {}
    bool handles(std::string_view path) const override;
    Served serve(const httplib::Request& request, httplib::Response& response) override;

  private:
    core::ScepService& m_service;
    metrics::ScepMetrics* m_metrics;
    std::string m_backend;
};

}  // namespace scepra::http
