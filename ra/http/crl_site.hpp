// SPDX-License-Identifier: Apache-2.0
// The CA's CRL over plain HTTP, so it can be the CRL distribution point of
// the certificates the RA issues.
#pragma once

#include <string>

#include "api/ca_backend.hpp"
#include "http/listener.hpp"

namespace scepra::http {

class CrlSite final : public Site {
  public:
    CrlSite(std::string path, backend::CaBackend& backend) : m_path(std::move(path)), m_backend(backend) {}
    bool handles(std::string_view path) const override { return !m_path.empty() && path == m_path; }
    Served serve(const httplib::Request& request, httplib::Response& response) override;

  private:
    std::string m_path;
    backend::CaBackend& m_backend;
};

}  // namespace scepra::http
