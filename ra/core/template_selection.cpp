// SPDX-License-Identifier: Apache-2.0
// Template selection by the keyUsage a CSR requests.
#include "core/template_selection.hpp"

#include <openssl/x509v3.h>

namespace scepra::core {

namespace {
/// The keyUsage bits requested in the CSR's extensionRequest, or -1 if none.
long requested_key_usage(X509_REQ& csr) {
    crypto::X509ExtensionStackPtr exts(X509_REQ_get_extensions(&csr));
    if (!exts) {
        return -1;
    }
    int pos = X509v3_get_ext_by_NID(exts.get(), NID_key_usage, -1);
    if (pos < 0) {
        return -1;
    }
    ASN1_BIT_STRING* bits = static_cast<ASN1_BIT_STRING*>(X509V3_EXT_d2i(X509v3_get_ext(exts.get(), pos)));
    if (!bits) {
        return -1;
    }
    long ku = 0;
    // KU_* constants put bit 0 (digitalSignature) at 0x80, bit 7 (encipherOnly) at 0x01.
    for (int bit = 0; bit < 8; ++bit) {
        if (ASN1_BIT_STRING_get_bit(bits, bit)) {
            ku |= 0x80L >> bit;
        }
    }
    ASN1_BIT_STRING_free(bits);
    return ku;
}

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

std::string select_template(X509_REQ& csr, const TemplateNames& names) {
    return template_for_usage(requested_key_usage(csr), names);
}

std::string select_template(X509& cert, const TemplateNames& names) {
    // X509_get_key_usage() reads the KU_* bits (and caches the extensions).
    const bool has_key_usage = (X509_get_extension_flags(&cert) & EXFLAG_KUSAGE) != 0;
    return template_for_usage(has_key_usage ? static_cast<long>(X509_get_key_usage(&cert) & 0xff) : -1, names);
}

}  // namespace scepra::core
