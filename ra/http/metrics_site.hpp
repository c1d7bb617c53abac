// SPDX-License-Identifier: Apache-2.0
// /metrics in the Prometheus text format, for a listener of its own
// ([metrics] listen): plain HTTP, no login, so nothing secret is in it.
#pragma once

#include "http/listener.hpp"
#include "metrics/registry.hpp"

namespace scepra::http {

class MetricsSite final : public Site {
  public:
    explicit MetricsSite(const metrics::Registry& registry) : m_registry(registry) {}
    bool handles(std::string_view path) const override { return path == "/metrics"; }
    Served serve(const httplib::Request& request, httplib::Response& response) override;

  private:
    const metrics::Registry& m_registry;
};

/// The options of the metrics listener at this address: few workers, tiny bodies.
ListenOptions metrics_listen_options(ListenOptions address);

}  // namespace scepra::http
