// SPDX-License-Identifier: Apache-2.0
// NDES chooses the certificate template from the key usage the CSR asks for.
#pragma once

#include <string>

#include "crypto/handles.hpp"
#include "scep/csr.hpp"

namespace scepra::core {

/// The template NDES installs for all three usages, and scep-ra's default for each.
inline constexpr const char* default_template_name = "IPSECIntermediateOffline";

/// The three NDES template names (registry SignatureTemplate, EncryptionTemplate, GeneralPurposeTemplate).
struct TemplateNames {
    std::string signature = default_template_name;
    std::string encryption = default_template_name;
    std::string general_purpose = default_template_name;
};

/// digitalSignature (or nonRepudiation) alone -> signature template;
/// keyEncipherment (or dataEncipherment/keyAgreement) alone -> encryption
/// template; both, or no keyUsage extension at all (NDES treats that as
/// 0xA0) -> general-purpose template. Other bits (keyCertSign, cRLSign, ...)
/// do not select anything.
std::string select_template(const scep::Csr& csr, const TemplateNames& names);

/// The same choice from the keyUsage a certificate carries: the template a
/// renewal keeps when the RA has no record of the certificate it renews.
std::string select_template(X509& cert, const TemplateNames& names);

}  // namespace scepra::core
