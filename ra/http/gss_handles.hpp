// SPDX-License-Identifier: Apache-2.0
// Owning handles for the MIT Kerberos and GSSAPI objects the Negotiate code
// holds: every handle is released by its own destructor, never by hand.
#pragma once

#include <gssapi/gssapi.h>
#include <krb5/krb5.h>

#include <string>
#include <utility>

namespace scepra::http::gss {

/// One GSSAPI handle (gss_name_t, gss_cred_id_t, gss_ctx_id_t); Release is
/// the gss_release_* / gss_delete_sec_context call that frees it.
template <class Handle, auto Release, Handle None>
class Owned {
  public:
    Owned() = default;
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    Owned(Owned&& other) noexcept : m_handle(std::exchange(other.m_handle, None)) {}
    Owned& operator=(Owned&& other) noexcept {
        std::swap(m_handle, other.m_handle);
        return *this;
    }
    ~Owned() {
        if (m_handle != None) {
            OM_uint32 minor = 0;
            Release(&minor, &m_handle);
        }
    }
    Handle get() const { return m_handle; }
    /// For the out-parameter of the call that creates the handle.
    Handle* out() { return &m_handle; }

  private:
    Handle m_handle = None;
};

inline OM_uint32 delete_context(OM_uint32* minor, gss_ctx_id_t* context) {
    return gss_delete_sec_context(minor, context, GSS_C_NO_BUFFER);
}

using Name = Owned<gss_name_t, &gss_release_name, GSS_C_NO_NAME>;
using Credential = Owned<gss_cred_id_t, &gss_release_cred, GSS_C_NO_CREDENTIAL>;
using Context = Owned<gss_ctx_id_t, &delete_context, GSS_C_NO_CONTEXT>;
using OidSet = Owned<gss_OID_set, &gss_release_oid_set, GSS_C_NO_OID_SET>;

/// A buffer GSSAPI allocated (an output token, a displayed name).
class Buffer {
  public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() {
        OM_uint32 minor = 0;
        gss_release_buffer(&minor, &m_buffer);
    }
    gss_buffer_t out() { return &m_buffer; }
    std::string text() const {
        return std::string(static_cast<const char*>(m_buffer.value), m_buffer.length);
    }
    std::size_t size() const { return m_buffer.length; }
    const unsigned char* data() const { return static_cast<const unsigned char*>(m_buffer.value); }

  private:
    gss_buffer_desc m_buffer{0, nullptr};
};

/// A krb5 library context (thread's own: contexts are not shared).
class Krb5Context {
  public:
    /// Throws std::runtime_error when the library cannot start (a broken krb5.conf).
    Krb5Context();
    Krb5Context(const Krb5Context&) = delete;
    Krb5Context& operator=(const Krb5Context&) = delete;
    ~Krb5Context() { krb5_free_context(m_context); }
    krb5_context get() const { return m_context; }
    /// The library's message for a krb5 error code.
    std::string message(krb5_error_code code) const;

  private:
    krb5_context m_context = nullptr;
};

/// An open keytab of a context (closed before the context is freed).
class Keytab {
  public:
    Keytab(const Krb5Context& context, krb5_keytab keytab) : m_context(context), m_keytab(keytab) {}
    Keytab(const Keytab&) = delete;
    Keytab& operator=(const Keytab&) = delete;
    ~Keytab() { krb5_kt_close(m_context.get(), m_keytab); }
    krb5_keytab get() const { return m_keytab; }

  private:
    const Krb5Context& m_context;
    krb5_keytab m_keytab;
};

/// GSSAPI's major and minor status as text, for logs and errors.
std::string status_text(OM_uint32 major, OM_uint32 minor);

}  // namespace scepra::http::gss
