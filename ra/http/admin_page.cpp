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
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// NDES's sentences that MDM products match word for word (Fleet, ManageEngine).
constexpr const char* kOneTimeSentence = "This password can be used only once and will expire within ";
constexpr const char* kMultipleUseSentence = "This password can be used multiple times and will not expire.";
constexpr const char* kCacheFullSentence = "The password cache is full.";
constexpr const char* kPermissionSentence = "You do not have sufficient permission to enroll with SCEP.";

/// NDES's page head: the certsrv pages' teal (#008080) title bar.
void page_head(std::ostringstream& out, const std::string& charset) {
    out << "<HTML><Head><Meta HTTP-Equiv=\"Content-Type\" Content=\"text/html; charset=" << charset << "\">"
        << "<Title>Network Device Enrollment Service</Title></Head>\r\n"
        << "<Body BgColor=#FFFFFF><Font ID=locPageFont Face=\"Arial\">\r\n"
        << "<Table Border=0 CellSpacing=0 CellPadding=4 Width=100% BgColor=#008080>\r\n"
        << "<TR><TD><Font Face=\"Arial\" Size=-1 Color=#FFFFFF><LocID ID=locMSCertSrv>"
        << "<B>Network Device Enrollment Service</B></LocID></Font></TD></TR>\r\n</Table>\r\n"
        << "<P ID=locPageTitle> Network Device Enrollment Service allows you to obtain certificates for "
           "routers or "
           "other network devices using the Simple Certificate Enrollment Protocol (SCEP). </P>\r\n";
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

std::string render_admin_html(const AdminPageContent& c, const std::string& charset) {
    std::ostringstream out;
    page_head(out, charset);
    // Readers take the password between "<B> " and " </B> <P> This password
    // can be used ...", and PSNDESEnrollment takes the first run of 16 hex
    // digits on the page: the thumbprint before it stays in groups of 8.
    switch (c.kind) {
        case AdminPageContent::Kind::password:
            out << "<P> To complete certificate enrollment for your network device you will need the "
                   "following "
                   "information: <P> The thumbprint (hash value) for the CA certificate is: <B> "
                << grouped_hex(c.ca_thumbprint_md5) << " </B> <P> The enrollment challenge password is: <B> "
                << c.password << " </B> <P> " << kOneTimeSentence << c.validity_minutes << " minutes. <P> ";
            if (c.bound_subject) {
                out << "It is only accepted for a device named <B>" << escape_html(*c.bound_subject)
                    << "</B>. <P> ";
            }
            if (c.bound_template) {
                out << "It is only accepted for the certificate template <B>"
                    << escape_html(*c.bound_template) << "</B>. <P> ";
            }
            out << "Each enrollment requires a new challenge password. You can refresh this web page to "
                   "obtain a new "
                   "challenge password. </P>\r\n";
            break;
        case AdminPageContent::Kind::cache_full:
            out << "<P> " << kCacheFullSentence
                << " <P> Network Device Enrollment Service stores unused passwords "
                << "for later use: " << c.password_max
                << " are outstanding. Use one of them, or wait until one expires, then refresh this web "
                   "page. </P>\r\n";
            break;
        case AdminPageContent::Kind::permission_denied:
            out << "<P> " << kPermissionSentence << " Please contact your system administrator. </P>\r\n";
            break;
        case AdminPageContent::Kind::no_password_needed:
            out << "<P> The thumbprint (hash value) for the CA certificate is: <B> "
                << grouped_hex(c.ca_thumbprint_md5)
                << " </B> <P> This server does not require an enrollment challenge password (EnforcePassword "
                   "is 0). "
                   "</P>\r\n";
            break;
        case AdminPageContent::Kind::single_password:
            // NDES shows the single password itself; scep-ra keeps only its
            // scrypt hash, so there is nothing to show, and no reader must
            // mistake anything here for it.
            out << "<P> The thumbprint (hash value) for the CA certificate is: <B> "
                << grouped_hex(c.ca_thumbprint_md5)
                << " </B> <P> This server uses a single enrollment challenge password. "
                << kMultipleUseSentence
                << " <P> It is stored hashed, so this page cannot show it: ask the administrator who set it. "
                   "</P>\r\n";
            break;
    }
    out << "<P> The thumbprint above is the MD5 hash of the CA certificate, as NDES shows it. Its SHA-256 "
           "hash is: <B> "
        << grouped_hex(c.ca_thumbprint_sha256) << " </B> </P>\r\n"
        << "</Font></Body></HTML>\r\n";
    return out.str();
}

std::string render_admin_json(const AdminPageContent& c) {
    const char* mode = "one-time";
    if (c.kind == AdminPageContent::Kind::no_password_needed) mode = "none";
    if (c.kind == AdminPageContent::Kind::single_password) mode = "single";
    JsonObject out;
    out.add("mode", mode)
        .add("ca_thumbprint_md5", c.ca_thumbprint_md5)
        .add("ca_thumbprint_sha256", c.ca_thumbprint_sha256);
    if (c.kind == AdminPageContent::Kind::password) {
        out.add("password", c.password).add("one_time", true).add("validity_minutes", c.validity_minutes);
        out.add("expires_at", c.expires_at)
            .add("bound_subject", c.bound_subject)
            .add("bound_template", c.bound_template);
    }
    if (c.kind == AdminPageContent::Kind::cache_full) {
        out.add("error", kCacheFullSentence).add("password_max", c.password_max);
    }
    if (c.kind == AdminPageContent::Kind::permission_denied) {
        out.add("error", kPermissionSentence);
    }
    return out.str() + "\n";
}

EncodedPage encode_admin_html(const AdminPageContent& content, PageEncoding encoding) {
    if (!encoding.utf16) {
        return {render_admin_html(content, "UTF-8"), "text/html; charset=utf-8"};
    }
    // "utf-16" promises a BOM (RFC 2781 §4.3); without one the label must say
    // the byte order.
    std::string body = encoding.bom ? "\xFF\xFE" : "";
    body += to_utf16le(render_admin_html(content, "UTF-16"));
    return {std::move(body), encoding.bom ? "text/html; charset=utf-16" : "text/html; charset=utf-16le"};
}

std::string to_utf16le(const std::string& utf8) {
    std::string out;
    out.reserve(utf8.size() * 2);
    auto put = [&out](unsigned unit) {
        out.push_back(static_cast<char>(unit & 0xff));
        out.push_back(static_cast<char>(unit >> 8));
    };
    auto continuation = [&utf8](size_t at) {
        return at < utf8.size() && (static_cast<unsigned char>(utf8[at]) & 0xC0) == 0x80;
    };
    for (size_t i = 0; i < utf8.size();) {
        const unsigned char c = static_cast<unsigned char>(utf8[i]);
        size_t len = 1;
        unsigned cp = 0;
        if (c < 0x80) {
            cp = c;
        } else if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            len = 0;  // a stray continuation byte or an invalid lead
        }
        for (size_t k = 1; k < len; ++k) {
            if (!continuation(i + k)) {
                len = 0;
                break;
            }
            cp = (cp << 6) | (static_cast<unsigned char>(utf8[i + k]) & 0x3Fu);
        }
        const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
        if (len == 0 || overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            put(0xFFFD);
            i += 1;
            continue;
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
