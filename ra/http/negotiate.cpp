// SPDX-License-Identifier: Apache-2.0
#include "http/negotiate.hpp"

#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include <cstring>

#include "http/keytab.hpp"
#include "store/admin_store.hpp"

namespace scepra::http {

namespace {

/// SPNEGO, 1.3.6.1.5.5.2 (RFC 4178); MIT's headers do not name it.
gss_OID_desc spnego_oid{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};

bool same_oid(gss_const_OID a, gss_const_OID b) {
    return a != GSS_C_NO_OID && b != GSS_C_NO_OID && a->length == b->length &&
           std::memcmp(a->elements, b->elements, a->length) == 0;
}

gss::OidSet mechanisms(std::initializer_list<gss_OID> oids) {
    gss::OidSet set;
    OM_uint32 minor = 0;
    if (GSS_ERROR(gss_create_empty_oid_set(&minor, set.out()))) {
        throw std::bad_alloc();
    }
    for (gss_OID oid : oids) {
        if (GSS_ERROR(gss_add_oid_set_member(&minor, oid, set.out()))) {
            throw std::bad_alloc();
        }
    }
    return set;
}

}  // namespace

std::optional<std::string> admin_account_for(const std::string& principal, const std::string& realm) {
    std::string name = principal;
    const size_t at = principal.rfind('@');
    if (!realm.empty() && at != std::string::npos &&
        principal.compare(at + 1, std::string::npos, realm) == 0) {
        name = principal.substr(0, at);
    }
    // Instances ("HTTP/host") and escaped characters ('\') are no account
    // names: a service principal cannot log in as an administrator.
    if (!store::AdminStore::valid_name(name)) {
        return std::nullopt;
    }
    return name;
}

NegotiateAcceptor::NegotiateAcceptor(const NegotiateSettings& settings)
    : m_principal(keytab_principal(settings.keytab, settings.service_principal)) {
    OM_uint32 minor = 0;
    gss::Name name;
    gss_buffer_desc text{m_principal.size(), m_principal.data()};
    if (OM_uint32 major = gss_import_name(&minor, &text, GSS_KRB5_NT_PRINCIPAL_NAME, name.out());
        GSS_ERROR(major)) {
        throw KeytabError("service_principal", "'" + m_principal + "' is not a Kerberos principal: " +
                                                   gss::status_text(major, minor));
    }
    // The keytab comes from the configuration, not from KRB5_KTNAME; the
    // replay cache is the krb5 library's default (KRB5RCACHEDIR, else /var/tmp).
    const std::string keytab = settings.keytab.string();
    gss_key_value_element_desc element{"keytab", keytab.c_str()};
    gss_key_value_set_desc store{1, &element};
    // Kerberos and SPNEGO only: no IAKERB, which would have the server talk
    // to a KDC for the client.
    const gss::OidSet accepted = mechanisms({gss_mech_krb5, &spnego_oid});
    if (OM_uint32 major = gss_acquire_cred_from(&minor, name.get(), GSS_C_INDEFINITE, accepted.get(),
                                                GSS_C_ACCEPT, &store, m_credential.out(), nullptr, nullptr);
        GSS_ERROR(major)) {
        throw KeytabError("keytab", "names " + keytab + ", whose key for " + m_principal +
                                        " cannot be used: " + gss::status_text(major, minor));
    }
    const gss::OidSet inner = mechanisms({gss_mech_krb5});
    if (OM_uint32 major = gss_set_neg_mechs(&minor, m_credential.get(), inner.get()); GSS_ERROR(major)) {
        throw KeytabError("keytab",
                          "SPNEGO cannot be limited to Kerberos: " + gss::status_text(major, minor));
    }
}

std::optional<NegotiateAcceptor::Accepted> NegotiateAcceptor::accept(ByteView token,
                                                                     std::string& reason) const {
    if (token.empty() || token.size() > kMaxTokenBytes) {
        reason = "Negotiate token of " + std::to_string(token.size()) + " bytes refused (1-" +
                 std::to_string(kMaxTokenBytes) + ")";
        return std::nullopt;
    }
    gss::Context context;
    gss::Name client;
    gss::Buffer output;
    gss_OID mechanism = GSS_C_NO_OID;  // static storage: not freed
    OM_uint32 minor = 0;
    gss_buffer_desc input{token.size(), const_cast<std::uint8_t*>(token.data())};
    // No delegated credential is asked for: a forwarded TGT would be dropped anyway.
    const OM_uint32 major =
        gss_accept_sec_context(&minor, context.out(), m_credential.get(), &input, GSS_C_NO_CHANNEL_BINDINGS,
                               client.out(), &mechanism, output.out(), nullptr, nullptr, nullptr);
    if (GSS_ERROR(major)) {
        reason = "Kerberos token refused: " + gss::status_text(major, minor);
        return std::nullopt;
    }
    if ((major & GSS_S_CONTINUE_NEEDED) != 0) {
        // A SPNEGO offer whose first mechanism is not Kerberos: the client
        // would need a second leg, which this one-round-trip acceptor refuses.
        reason = "Negotiate token needs another round trip (no Kerberos ticket in it)";
        return std::nullopt;
    }
    if (!same_oid(mechanism, gss_mech_krb5)) {
        reason = "Negotiate token of a mechanism other than Kerberos";
        return std::nullopt;
    }
    gss::Buffer name;
    if (OM_uint32 status = gss_display_name(&minor, client.get(), name.out(), nullptr); GSS_ERROR(status)) {
        reason = "Kerberos client name unreadable: " + gss::status_text(status, minor);
        return std::nullopt;
    }
    return Accepted{name.text(), Bytes(output.data(), output.data() + output.size())};
}

}  // namespace scepra::http
