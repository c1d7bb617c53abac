// SPDX-License-Identifier: Apache-2.0
// subjectAltName entries as typed values.
#include "crypto/alt_names.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "common/ascii.hpp"

namespace scepra::crypto {

namespace {

constexpr size_t max_described_chars = 64;

AltNames alt_names_in(const STACK_OF(X509_EXTENSION) * extensions) {
    AltNames out;
    const int index = X509v3_get_ext_by_NID(extensions, NID_subject_alt_name, -1);
    if (index < 0) {
        return out;
    }
    // Two subjectAltName extensions make "the" names ambiguous: refuse, never pick one.
    if (X509v3_get_ext_by_NID(extensions, NID_subject_alt_name, index) >= 0) {
        out.error = "subjectAltName appears more than once";
        return out;
    }
    out.names.reset(static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(X509v3_get_ext(extensions, index))));
    if (!out.names) {
        ERR_clear_error();
        out.error = "the subjectAltName cannot be decoded";
    }
    return out;
}

std::string printable_ia5(const ASN1_STRING& s) {
    const auto* data = ASN1_STRING_get0_data(&s);
    const size_t len = static_cast<size_t>(std::max(0, ASN1_STRING_length(&s)));
    std::string out;
    for (size_t i = 0; i < len && out.size() < max_described_chars; ++i) {
        const unsigned char c = data[i];
        out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
    }
    if (len > max_described_chars) {
        out += "...";
    }
    return out;
}

std::string ip_text(const ASN1_OCTET_STRING& ip) {
    const auto* b = ASN1_STRING_get0_data(&ip);
    char buf[48];
    if (ASN1_STRING_length(&ip) == 4) {
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        return buf;
    }
    if (ASN1_STRING_length(&ip) == 16) {
        std::string out;
        for (int i = 0; i < 16; i += 2) {
            std::snprintf(buf, sizeof buf, "%s%x", i == 0 ? "" : ":", (b[i] << 8) | b[i + 1]);
            out += buf;
        }
        return out;
    }
    return "(" + std::to_string(ASN1_STRING_length(&ip)) + " bytes)";
}

}  // namespace

int AltNames::count() const { return names ? sk_GENERAL_NAME_num(names.get()) : 0; }

const GENERAL_NAME& AltNames::at(int i) const { return *sk_GENERAL_NAME_value(names.get(), i); }

AltNames request_alt_names(X509_REQ& csr) {
    X509ExtensionStackPtr extensions(X509_REQ_get_extensions(&csr));
    if (!extensions) {
        ERR_clear_error();
        AltNames out;
        out.error = "the request's extensions cannot be decoded";
        return out;
    }
    return alt_names_in(extensions.get());
}

AltNames certificate_alt_names(const X509& cert) { return alt_names_in(X509_get0_extensions(&cert)); }

bool same_alt_name(const GENERAL_NAME& a, const GENERAL_NAME& b) {
    if (a.type == GEN_DNS && b.type == GEN_DNS) {
        const ASN1_IA5STRING& x = *a.d.dNSName;
        const ASN1_IA5STRING& y = *b.d.dNSName;
        auto text = [](const ASN1_IA5STRING& s) {
            return std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(&s)),
                                    static_cast<std::size_t>(ASN1_STRING_length(&s)));
        };
        return equal_ignoring_ascii_case(text(x), text(y));
    }
    // GENERAL_NAME_cmp does not modify its arguments; OpenSSL 3.0 declares them non-const.
    return GENERAL_NAME_cmp(const_cast<GENERAL_NAME*>(&a), const_cast<GENERAL_NAME*>(&b)) == 0;
}

bool contains_alt_name(const AltNames& names, const GENERAL_NAME& name) {
    for (int i = 0; i < names.count(); ++i) {
        if (same_alt_name(names.at(i), name)) {
            return true;
        }
    }
    return false;
}

std::optional<std::string> dns_or_email(const GENERAL_NAME& name) {
    if (name.type != GEN_DNS && name.type != GEN_EMAIL) {
        return std::nullopt;
    }
    const ASN1_IA5STRING& s = *name.d.ia5;
    const auto* data = ASN1_STRING_get0_data(&s);
    return std::string(reinterpret_cast<const char*>(data),
                       static_cast<size_t>(std::max(0, ASN1_STRING_length(&s))));
}

std::string describe_alt_name(const GENERAL_NAME& name) {
    switch (name.type) {
        case GEN_DNS:
            return "DNS:" + printable_ia5(*name.d.dNSName);
        case GEN_EMAIL:
            return "email:" + printable_ia5(*name.d.rfc822Name);
        case GEN_URI:
            return "URI:" + printable_ia5(*name.d.uniformResourceIdentifier);
        case GEN_IPADD:
            return "IP:" + ip_text(*name.d.iPAddress);
        case GEN_OTHERNAME:
            return OBJ_obj2nid(name.d.otherName->type_id) == NID_ms_upn ? "otherName (UPN)" : "otherName";
        case GEN_DIRNAME:
            return "directoryName";
        case GEN_RID:
            return "registeredID";
        case GEN_X400:
            return "x400Address";
        case GEN_EDIPARTY:
            return "ediPartyName";
        default:
            return "an unknown name type";
    }
}

}  // namespace scepra::crypto
