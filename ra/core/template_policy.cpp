// SPDX-License-Identifier: Apache-2.0
// The RA's policy per certificate template (see template_policy.hpp).
#include "core/template_policy.hpp"

#include <strings.h>

#include <algorithm>

namespace scepra::core {

namespace {

bool same_name(const std::string& a, const std::string& b) { return strcasecmp(a.c_str(), b.c_str()) == 0; }

}  // namespace

void TemplatePolicies::set(const std::string& template_name, TemplatePolicy policy) {
    auto found = std::find_if(m_policies.begin(), m_policies.end(),
                              [&](const auto& entry) { return same_name(entry.first, template_name); });
    if (found != m_policies.end()) {
        found->second = policy;
    } else {
        m_policies.emplace_back(template_name, policy);
    }
}

TemplatePolicy TemplatePolicies::of(const std::string& template_name) const {
    auto found = std::find_if(m_policies.begin(), m_policies.end(),
                              [&](const auto& entry) { return same_name(entry.first, template_name); });
    return found != m_policies.end() ? found->second : TemplatePolicy{};
}

}  // namespace scepra::core
