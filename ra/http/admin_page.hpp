// SPDX-License-Identifier: Apache-2.0
// The NDES admin page (/certsrv/mscep_admin/) content: NDES's markup and
// sentences where readers depend on them, JSON for automation, and the
// encoding NDES serves it in (UTF-16LE, the BOM a setting).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace scepra::http {

/// How the HTML page is encoded: [admin] utf16 and utf16_bom.
struct PageEncoding {
    bool utf16 = true;  ///< UTF-16LE like NDES; false = UTF-8
    bool bom = true;    ///< with UTF-16LE: start with the byte order mark FF FE
};

/// How the admin page authenticates: [admin] auth, in the order offered.
enum class AuthScheme { negotiate, ntlm, basic };

/// [admin] keytab, service_principal and kerberos_realm: Negotiate/Kerberos.
struct NegotiateSettings {
    std::filesystem::path keytab;
    std::string service_principal;  ///< empty: the keytab's first principal
    std::string kerberos_realm;     ///< principals of this realm log in without "@REALM"; empty = none
};

/// The admin page's settings from [admin] (utf16, utf16_bom, auth, keytab...)
/// and the key NT hashes are sealed under ([password] hmac_key).
struct AdminPageSettings {
    PageEncoding encoding;
    std::vector<AuthScheme> auth{AuthScheme::basic};
    std::filesystem::path ntlm_key_file;  ///< needed when auth has ntlm
    NegotiateSettings negotiate;          ///< needed when auth has negotiate
};

/// What one visit to the admin page shows.
struct AdminPageContent {
    enum class Kind {
        password,            ///< a fresh one-time password
        cache_full,          ///< PasswordMax unused passwords are outstanding
        no_password_needed,  ///< EnforcePassword = 0
        single_password,     ///< UseSinglePassword = 1 (stored hashed: not shown)
        permission_denied,   ///< the account may view but not issue (role view)
    } kind = Kind::password;
    std::string ca_thumbprint_md5;     ///< 32 hex digits (NDES shows the CA hash as 4 groups of 8)
    std::string ca_thumbprint_sha256;  ///< 64 hex digits
    std::string password;              ///< when kind == password
    int validity_minutes = 60;
    std::string expires_at;  ///< UTC, when kind == password
    int password_max = 5;    ///< for the cache-full explanation
    std::optional<std::string> bound_subject, bound_template;
};

/// The page in NDES's markup; charset names the encoding in its <Meta> tag.
std::string render_admin_html(const AdminPageContent& content, const std::string& charset);
std::string render_admin_json(const AdminPageContent& content);

/// The HTML page encoded as asked, with the Content-Type that names it.
struct EncodedPage {
    std::string body;
    std::string content_type;
};
EncodedPage encode_admin_html(const AdminPageContent& content, PageEncoding encoding);

/// UTF-8 to UTF-16LE (no byte order mark); invalid UTF-8 becomes U+FFFD.
std::string to_utf16le(const std::string& utf8);
/// "A656FA66 AB12B433 A2DA5CF7 CC153D9A": hex in groups of 8, NDES style.
std::string grouped_hex(const std::string& hex);

}  // namespace scepra::http
