// SPDX-License-Identifier: Apache-2.0
// The NDES admin page (/certsrv/mscep_admin/) content: HTML in NDES's words
// where scrapers depend on them, JSON for automation, UTF-16LE on request.
#pragma once

#include <optional>
#include <string>

namespace scepra::http {

/// What one visit to the admin page shows.
struct AdminPageContent {
    enum class Kind { password, cache_full, no_password_needed, single_password } kind = Kind::password;
    std::string ca_thumbprint_md5;     ///< 32 hex digits (NDES shows the CA hash as 4 groups of 8)
    std::string ca_thumbprint_sha256;  ///< 64 hex digits
    std::string password;              ///< when kind == password
    int validity_minutes = 60;
    std::string expires_at;            ///< UTC, when kind == password
    int password_max = 5;              ///< for the cache-full explanation
    std::optional<std::string> bound_subject, bound_template;
};

std::string render_admin_html(const AdminPageContent& content);
std::string render_admin_json(const AdminPageContent& content);
/// UTF-8 to UTF-16LE with a byte order mark, as NDES serves the page.
std::string to_utf16le(const std::string& utf8);
/// "A656FA66 AB12B433 A2DA5CF7 CC153D9A": hex in groups of 8, NDES style.
std::string grouped_hex(const std::string& hex);

}  // namespace scepra::http
