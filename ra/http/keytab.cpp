// SPDX-License-Identifier: Apache-2.0
#include "http/keytab.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "http/gss_handles.hpp"

namespace scepra::http {

namespace {

/// Entries read from one keytab at most: a keytab holds a few keys per
/// principal; a file with more is not one an operator made.
constexpr int kMaxEntries = 4096;

class Principal {
  public:
    explicit Principal(const gss::Krb5Context& context) : m_context(context) {}
    Principal(const Principal&) = delete;
    Principal& operator=(const Principal&) = delete;
    ~Principal() { krb5_free_principal(m_context.get(), m_principal); }
    krb5_principal* out() { return &m_principal; }
    krb5_principal get() const { return m_principal; }

  private:
    const gss::Krb5Context& m_context;
    krb5_principal m_principal = nullptr;
};

/// A keytab entry's contents, freed with it.
class Entry {
  public:
    explicit Entry(const gss::Krb5Context& context) : m_context(context) {}
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() { krb5_free_keytab_entry_contents(m_context.get(), &m_entry); }
    krb5_keytab_entry* out() { return &m_entry; }

  private:
    const gss::Krb5Context& m_context;
    krb5_keytab_entry m_entry{};
};

/// A sequential read of a keytab, ended with it.
class Cursor {
  public:
    Cursor(const gss::Krb5Context& context, const gss::Keytab& keytab)
        : m_context(context), m_keytab(keytab) {}
    Cursor(const Cursor&) = delete;
    Cursor& operator=(const Cursor&) = delete;
    krb5_error_code start() {
        const krb5_error_code code = krb5_kt_start_seq_get(m_context.get(), m_keytab.get(), &m_cursor);
        m_started = code == 0;
        return code;
    }
    ~Cursor() {
        if (m_started) {
            krb5_kt_end_seq_get(m_context.get(), m_keytab.get(), &m_cursor);
        }
    }
    krb5_kt_cursor* get() { return &m_cursor; }

  private:
    const gss::Krb5Context& m_context;
    const gss::Keytab& m_keytab;
    krb5_kt_cursor m_cursor{};
    bool m_started = false;
};

std::string unparse(const gss::Krb5Context& context, krb5_const_principal principal) {
    char* text = nullptr;
    if (krb5_unparse_name(context.get(), principal, &text) != 0) {
        return "?";
    }
    std::string out = text;
    krb5_free_unparsed_name(context.get(), text);
    return out;
}

/// The file itself: there, a regular file, readable by us and by no one else.
void check_file(const std::filesystem::path& keytab) {
    struct stat info {};
    if (::stat(keytab.c_str(), &info) != 0) {
        throw KeytabError("keytab",
                          "names " + keytab.string() + ", which cannot be read: " + std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        throw KeytabError("keytab", "names " + keytab.string() + ", which is not a regular file");
    }
    // Its keys let anyone who reads them pose as the service (and forge any
    // user's ticket to it): the file must not be readable by every user.
    if ((info.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        throw KeytabError("keytab", "names " + keytab.string() +
                                        ", which every user may read or write; chmod 600 (or 640 for the "
                                        "service's group)");
    }
    if (!std::ifstream(keytab)) {
        throw KeytabError("keytab", "names " + keytab.string() + ", which this user cannot read");
    }
}

}  // namespace

std::string keytab_principal(const std::filesystem::path& keytab, const std::string& service_principal) {
    check_file(keytab);
    gss::Krb5Context context;
    krb5_keytab raw = nullptr;
    const std::string name = "FILE:" + keytab.string();
    if (const krb5_error_code code = krb5_kt_resolve(context.get(), name.c_str(), &raw); code != 0) {
        throw KeytabError("keytab",
                          "names " + keytab.string() + ", which is not a keytab: " + context.message(code));
    }
    gss::Keytab table(context, raw);

    Principal wanted(context);
    if (!service_principal.empty()) {
        if (const krb5_error_code code =
                krb5_parse_name(context.get(), service_principal.c_str(), wanted.out());
            code != 0) {
            throw KeytabError(
                "service_principal",
                "'" + service_principal + "' is not a Kerberos principal: " + context.message(code));
        }
    }

    Cursor cursor(context, table);
    if (const krb5_error_code code = cursor.start(); code != 0) {
        throw KeytabError("keytab",
                          "names " + keytab.string() + ", which is not a keytab: " + context.message(code));
    }
    std::vector<std::string> held;
    for (int i = 0; i < kMaxEntries; ++i) {
        Entry entry(context);
        const krb5_error_code code =
            krb5_kt_next_entry(context.get(), table.get(), entry.out(), cursor.get());
        if (code == KRB5_KT_END) {
            break;
        }
        if (code != 0) {
            throw KeytabError("keytab", "names " + keytab.string() +
                                            ", which cannot be read as a keytab: " + context.message(code));
        }
        const std::string principal = unparse(context, entry.out()->principal);
        if (service_principal.empty()) {
            return principal;  // the keytab's first
        }
        if (krb5_principal_compare(context.get(), entry.out()->principal, wanted.get())) {
            return principal;
        }
        if (held.size() < 8 && std::find(held.begin(), held.end(), principal) == held.end()) {
            held.push_back(principal);
        }
    }
    if (held.empty()) {
        throw KeytabError("keytab", "names " + keytab.string() + ", which holds no keys");
    }
    std::string list;
    for (const auto& principal : held) {
        list += (list.empty() ? "" : ", ") + principal;
    }
    throw KeytabError("service_principal", "'" + unparse(context, wanted.get()) + "' has no key in " +
                                               keytab.string() + " (it holds " + list + ")");
}

}  // namespace scepra::http
