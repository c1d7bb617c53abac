// SPDX-License-Identifier: Apache-2.0
// NDES chooses the certificate template from the key usage the CSR asks for.
#pragma once

#include <string>

#include "crypto/handles.hpp"

namespace scepra::core {

/// The three NDES template names (registry SignatureTemplate, EncryptionTemplate, GeneralPurposeTemplate).
struct TemplateNames {
    std::string signature = "IPSECIntermediateOffline";
    std::string encryption = "IPSECIntermediateOffline";
    std::string general_purpose = "IPSECIntermediateOffline";
};

/// digitalSignature (or nonRepudiation) alone -> signature template;
/// keyEncipherment (or dataEncipherment/keyAgreement) alone -> encryption
/// template; both, or no keyUsage extension at all (NDES treats that as
/// 0xA0) -> general-purpose template. Other bits (keyCertSign, cRLSign, ...)
/// do not select anything.
std::string select_template(X509_REQ& csr, const TemplateNames& names);

/// The same choice from the keyUsage a certificate carries: the template a
/// renewal keeps when the RA has no record of the certificate it renews.
std::string select_template(X509& cert, const TemplateNames& names);

}  // namespace scepra::core
