// SPDX-License-Identifier: Apache-2.0
// The SCEP endpoints on the NDES and RFC 8894 paths.
#pragma once

#include "core/scep_service.hpp"
#include "http/listener.hpp"
#include "metrics/scep_metrics.hpp"

namespace scepra::http {

class ScepSite final : public Site {
public:
    /// metrics, when given, counts every answered request.
    explicit ScepSite(core::ScepService& service, metrics::ScepMetrics* metrics = nullptr)
        : m_service(service), m_metrics(metrics) {}
    bool handles(std::string_view path) const override;
    std::string serve(const httplib::Request& request, httplib::Response& response) override;

private:
    core::ScepService& m_service;
    metrics::ScepMetrics* m_metrics;
};

}  // namespace scepra::http
