// SPDX-License-Identifier: Apache-2.0
// The keytab of the admin page's Negotiate/Kerberos acceptor ([admin] keytab
// and service_principal), checked before it is used: the service's keys are
// as secret as a password, and a keytab without them can never accept.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace scepra::http {

/// A keytab that cannot serve; key() is the [admin] key to fix ("keytab" or
/// "service_principal"), what() says why and names the file.
class KeytabError : public std::runtime_error {
  public:
    KeytabError(std::string key, const std::string& what) : std::runtime_error(what), m_key(std::move(key)) {}
    const std::string& key() const { return m_key; }

  private:
    std::string m_key;
};

/// The principal the acceptor accepts for, canonical ("HTTP/host@REALM"):
/// service_principal when set (it must have a key in the keytab), else the
/// keytab's first principal. Throws KeytabError when the file is missing,
/// unreadable, readable by every user, not a keytab, empty, or lacks the
/// principal.
std::string keytab_principal(const std::filesystem::path& keytab, const std::string& service_principal);

}  // namespace scepra::http
