// SPDX-License-Identifier: Apache-2.0
// The admin page: authentication, password issue, content negotiation.
#include "http/admin_site.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/admin_page.hpp"
#include "http/transport.hpp"

namespace scepra::http {

namespace {

struct Credentials {
    std::string name;
    std::string password;
};

std::optional<Credentials> basic_credentials(const httplib::Request& req) {
    const std::string header = req.get_header_value("Authorization");
    if (header.size() < 6 || !std::equal(header.begin(), header.begin() + 6, "Basic ", [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
        return std::nullopt;
    }
    auto decoded = decode_base64(header.substr(6));
    if (!decoded) {
        return std::nullopt;
    }
    std::string text = to_string(*decoded);
    size_t colon = text.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    return Credentials{text.substr(0, colon), text.substr(colon + 1)};
}

bool wants_json(const httplib::Request& req) {
    return req.get_header_value("Accept").find("application/json") != std::string::npos ||
           raw_query_param(req.target, "format").value_or("") == "json";
}

void challenge_login(httplib::Response& res) {
    res.status = 401;
    res.set_header("WWW-Authenticate", "Basic realm=\"scep-ra admin\", charset=\"UTF-8\"");
    res.set_content("authentication required\n", "text/plain");
}

std::optional<std::string> nonempty_param(const httplib::Request& req, const char* name) {
    auto v = raw_query_param(req.target, name);
    if (v && !v->empty()) {
        return v;
    }
    return std::nullopt;
}

}  // namespace

AdminSite::AdminSite(AdminSiteOptions options, store::AdminStore& admins, store::ChallengeStore& challenges,
                     core::PasswordModes& modes, X509& ca_cert)
    : m_options(options), m_admins(admins), m_challenges(challenges), m_modes(modes) {
    Bytes der = crypto::cert_der(ca_cert);
    m_md5 = to_hex(crypto::digest("MD5", der));
    m_sha256 = to_hex(crypto::sha256(der));
}

bool AdminSite::handles(std::string_view path) const {
    std::string p(path);
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
    return p == "/certsrv/mscep_admin" || p == "/certsrv/mscep_admin/" || p == "/certsrv/mscep_admin/default.asp";
}

std::string AdminSite::serve(const httplib::Request& req, httplib::Response& res) {
    auto creds = basic_credentials(req);
    if (!creds) {
        challenge_login(res);
        return "admin page: no credentials";
    }
    switch (m_admins.login(req.remote_addr, creds->name, creds->password)) {
        case store::AdminStore::LoginResult::ok:
            break;
        case store::AdminStore::LoginResult::bad_credentials:
            challenge_login(res);
            return "admin page: login failed";
        case store::AdminStore::LoginResult::throttled:
            res.status = 429;
            res.set_header("Retry-After", "300");
            res.set_content("too many failed logins from this address; try again later\n", "text/plain");
            return "admin page: login throttled";
    }
    if (req.method != "GET") {
        res.status = 405;
        res.set_content("use GET\n", "text/plain");
        return "admin page: method not allowed";
    }

    const core::PasswordSettings settings = m_modes.settings();
    AdminPageContent content;
    content.ca_thumbprint_md5 = m_md5;
    content.ca_thumbprint_sha256 = m_sha256;
    content.password_max = settings.one_time.max_outstanding;
    std::string summary;
    int status = 200;
    if (!settings.enforce_password) {
        content.kind = AdminPageContent::Kind::no_password_needed;
        summary = "admin page: no password needed";
    } else if (settings.use_single_password) {
        content.kind = AdminPageContent::Kind::single_password;
        summary = "admin page: single password mode";
    } else {
        // Beyond NDES: ?subject=GLOB&template=NAME&validity=MINUTES bind the password.
        store::ChallengeBinding binding;
        binding.expected_subject = nonempty_param(req, "subject");
        binding.template_name = nonempty_param(req, "template");
        if (auto v = nonempty_param(req, "validity")) {
            int minutes = 0;
            try {
                minutes = std::stoi(*v);
            } catch (const std::exception&) {
            }
            if (minutes < 1 || minutes > 525600) {
                res.status = 400;
                res.set_content("validity must be a number of minutes between 1 and 525600\n", "text/plain");
                return "admin page: bad validity";
            }
            binding.validity = std::chrono::minutes(minutes);
        }
        try {
            store::IssuedChallenge issued = m_challenges.issue(settings.one_time, creds->name, req.remote_addr, binding);
            content.kind = AdminPageContent::Kind::password;
            content.password = issued.password;
            content.validity_minutes = static_cast<int>(binding.validity.value_or(settings.one_time.validity).count());
            content.expires_at = sql_time(issued.expires_at);
            content.bound_subject = binding.expected_subject;
            content.bound_template = binding.template_name;
            summary = "admin page: " + creds->name + " issued password id=" + std::to_string(issued.id);
        } catch (const store::ChallengeCacheFull&) {
            content.kind = AdminPageContent::Kind::cache_full;
            summary = "admin page: password cache full";
            status = 409;  // JSON only; the HTML page answers 200 like NDES
        }
    }
    res.set_header("Cache-Control", "no-store");
    if (wants_json(req)) {
        res.status = status;
        res.set_content(render_admin_json(content), "application/json");
    } else if (m_options.utf16) {
        res.status = 200;
        res.set_content(to_utf16le(render_admin_html(content)), "text/html; charset=utf-16");
    } else {
        res.status = 200;
        res.set_content(render_admin_html(content), "text/html; charset=utf-8");
    }
    return summary;
}

}  // namespace scepra::http
