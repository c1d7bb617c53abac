// SPDX-License-Identifier: Apache-2.0
// Rendering the admin page.
#include "http/admin_page.hpp"

#include <sstream>

#include "common/json.hpp"

namespace scepra::http {

namespace {

std::string escape_html(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '&': out += "&amp;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

std::string grouped_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 8) {
        if (!out.empty()) out += ' ';
        out += hex.substr(i, 8);
    }
    return out;
}

std::string render_admin_html(const AdminPageContent& c) {
    std::ostringstream out;
    out << "<HTML><Head><Meta HTTP-Equiv=\"Content-Type\" Content=\"text/html\">"
        << "<Title>Network Device Enrollment Service</Title></Head>\n<Body BgColor=#FFFFFF>\n"
        << "<P> Network Device Enrollment Service allows you to obtain certificates for routers or other network "
           "devices using the Simple Certificate Enrollment Protocol (SCEP).\n";
    switch (c.kind) {
        case AdminPageContent::Kind::password:
            out << "<P> To complete certificate enrollment for your network device you will need the following "
                   "information:\n"
                << "<P> The thumbprint (hash value) for the CA certificate is: <B> "
                << grouped_hex(c.ca_thumbprint_md5) << " </B>\n"
                // Scrapers written for NDES look for exactly this line.
                << "<P> The enrollment challenge password is: <B> " << c.password << " </B>\n"
                << "<P> This password can be used only once and will expire within " << c.validity_minutes
                << " minutes.\n";
            if (c.bound_subject) {
                out << "<P> It is only accepted for a device named <B>" << escape_html(*c.bound_subject) << "</B>.\n";
            }
            if (c.bound_template) {
                out << "<P> It is only accepted for the certificate template <B>" << escape_html(*c.bound_template)
                    << "</B>.\n";
            }
            out << "<P> Each enrollment requires a new challenge password. You can refresh this web page to obtain a "
                   "new challenge password.\n";
            break;
        case AdminPageContent::Kind::cache_full:
            out << "<P> The password cache is full. " << c.password_max
                << " unused passwords are outstanding: use one of them, or wait until one expires, then refresh "
                   "this page.\n";
            break;
        case AdminPageContent::Kind::no_password_needed:
            out << "<P> This server does not require an enrollment challenge password (EnforcePassword is 0).\n";
            break;
        case AdminPageContent::Kind::single_password:
            out << "<P> This server uses a single enrollment challenge password set by its administrator "
                   "(UseSinglePassword is 1); this page does not hand out passwords.\n";
            break;
    }
    out << "<P> The CA certificate thumbprint above is its MD5 hash, as NDES shows it. SHA-256: <B> "
        << grouped_hex(c.ca_thumbprint_sha256) << " </B>\n"
        << "<P> This page is provided by scep-ra.\n</Body></HTML>\n";
    return out.str();
}

std::string render_admin_json(const AdminPageContent& c) {
    const char* mode = "one-time";
    if (c.kind == AdminPageContent::Kind::no_password_needed) mode = "none";
    if (c.kind == AdminPageContent::Kind::single_password) mode = "single";
    JsonObject out;
    out.add("mode", mode).add("ca_thumbprint_md5", c.ca_thumbprint_md5).add("ca_thumbprint_sha256", c.ca_thumbprint_sha256);
    if (c.kind == AdminPageContent::Kind::password) {
        out.add("password", c.password).add("one_time", true).add("validity_minutes", c.validity_minutes);
        out.add("expires_at", c.expires_at).add("bound_subject", c.bound_subject).add("bound_template", c.bound_template);
    }
    if (c.kind == AdminPageContent::Kind::cache_full) {
        out.add("error", "The password cache is full.").add("password_max", c.password_max);
    }
    return out.str() + "\n";
}

std::string to_utf16le(const std::string& utf8) {
    std::string out = "\xFF\xFE";
    auto put = [&out](unsigned unit) {
        out.push_back(static_cast<char>(unit & 0xff));
        out.push_back(static_cast<char>(unit >> 8));
    };
    for (size_t i = 0; i < utf8.size();) {
        unsigned char c = static_cast<unsigned char>(utf8[i]);
        unsigned cp = 0xFFFD;
        size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c >> 5) == 0x6 && i + 1 < utf8.size()) {
            cp = ((c & 0x1Fu) << 6) | (utf8[i + 1] & 0x3F);
            len = 2;
        } else if ((c >> 4) == 0xE && i + 2 < utf8.size()) {
            cp = ((c & 0x0Fu) << 12) | ((utf8[i + 1] & 0x3Fu) << 6) | (utf8[i + 2] & 0x3F);
            len = 3;
        } else if ((c >> 3) == 0x1E && i + 3 < utf8.size()) {
            cp = ((c & 0x07u) << 18) | ((utf8[i + 1] & 0x3Fu) << 12) | ((utf8[i + 2] & 0x3Fu) << 6) |
                 (utf8[i + 3] & 0x3F);
            len = 4;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put(0xD800 + (cp >> 10));
            put(0xDC00 + (cp & 0x3FF));
        } else {
            put(cp);
        }
        i += len;
    }
    return out;
}

}  // namespace scepra::http
