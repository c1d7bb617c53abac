// SPDX-License-Identifier: Apache-2.0
// Template selection by the keyUsage a CSR requests.
#include "core/template_selection.hpp"

#include <openssl/x509v3.h>

namespace scepra::core {

namespace {
std::string template_for_usage(long ku, const TemplateNames& names) {
    if (ku < 0) {
        return names.general_purpose;
    }
    const bool sign = (ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) != 0;
    const bool encrypt = (ku & (KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT)) != 0;
    if (sign && !encrypt) {
        return names.signature;
    }
    if (encrypt && !sign) {
        return names.encryption;
    }
    return names.general_purpose;
}
}  // namespace

std::string select_template(const scep::Csr& csr, const TemplateNames& names) {
    const std::optional<unsigned> ku = csr.requested_key_usage();
    return template_for_usage(ku ? static_cast<long>(*ku) : -1, names);
}

std::string select_template(X509& cert, const TemplateNames& names) {
    // X509_get_key_usage() reads the KU_* bits (and caches the extensions).
    const bool has_key_usage = (X509_get_extension_flags(&cert) & EXFLAG_KUSAGE) != 0;
    return template_for_usage(has_key_usage ? static_cast<long>(X509_get_key_usage(&cert) & 0xff) : -1,
                              names);
}

}  // namespace scepra::core
