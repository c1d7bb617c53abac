// SPDX-License-Identifier: Apache-2.0
#include "http/gss_handles.hpp"

#include <stdexcept>

namespace scepra::http::gss {

Krb5Context::Krb5Context() {
    if (const krb5_error_code code = krb5_init_context(&m_context); code != 0) {
        throw std::runtime_error("cannot start the Kerberos library (krb5.conf, KRB5_CONFIG): error " +
                                 std::to_string(code));
    }
}

std::string Krb5Context::message(krb5_error_code code) const {
    const char* text = krb5_get_error_message(m_context, code);
    std::string out = text ? text : "error " + std::to_string(code);
    krb5_free_error_message(m_context, text);
    return out;
}

namespace {

/// Appends every message gss_display_status has for one status code (a
/// handful at most; the loop is bounded all the same).
void append_status(std::string& out, OM_uint32 code, int type) {
    OM_uint32 more = 0;
    for (int i = 0; i < 8; ++i) {
        OM_uint32 minor = 0;
        Buffer text;
        if (GSS_ERROR(gss_display_status(&minor, code, type, GSS_C_NO_OID, &more, text.out()))) {
            return;
        }
        if (!out.empty()) {
            out += "; ";
        }
        out += text.text();
        if (more == 0) {
            return;
        }
    }
}

}  // namespace

std::string status_text(OM_uint32 major, OM_uint32 minor) {
    std::string out;
    append_status(out, major, GSS_C_GSS_CODE);
    if (minor != 0) {
        append_status(out, minor, GSS_C_MECH_CODE);
    }
    return out;
}

}  // namespace scepra::http::gss
