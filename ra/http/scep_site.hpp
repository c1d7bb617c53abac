// SPDX-License-Identifier: Apache-2.0
// The SCEP endpoints on the NDES and RFC 8894 paths.
#pragma once

#include "core/scep_service.hpp"
#include "http/listener.hpp"

namespace scepra::http {

class ScepSite final : public Site {
public:
    explicit ScepSite(core::ScepService& service) : m_service(service) {}
    bool handles(std::string_view path) const override;
    std::string serve(const httplib::Request& request, httplib::Response& response) override;

private:
    core::ScepService& m_service;
};

}  // namespace scepra::http
