// SPDX-License-Identifier: Apache-2.0
// The admin page: authentication, password issue, content negotiation.
#include "http/admin_site.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "common/ascii.hpp"
#include "crypto/digest.hpp"
#include "crypto/encoding.hpp"
#include "http/admin_page.hpp"
#include "http/flat_json.hpp"
#include "http/keytab.hpp"
#include "http/log_text.hpp"
#include "http/negotiate.hpp"
#include "http/ntlm.hpp"
#include "http/transport.hpp"

namespace scepra::http {

namespace {

/// An answer that tells the client when to come back.
void refuse_for_now(httplib::Response& res, int status, int retry_after_seconds, const std::string& text) {
    res.status = status;
    res.set_header("Retry-After", std::to_string(retry_after_seconds));
    res.set_content(text, "text/plain");
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

struct Credentials {
    std::string name;
    std::string password;
};

std::optional<Credentials> basic_credentials(const httplib::Request& req) {
    const std::string header = req.get_header_value("Authorization");
    if (!starts_with_ignoring_ascii_case(header, "Basic ")) {
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

/// The scheme of an Authorization header, lowercase ("basic", "ntlm", ...).
std::string scheme_of(const std::string& header) { return lowercase(header.substr(0, header.find(' '))); }

/// The base64 token after "NTLM " or "Negotiate ", decoded; nullopt when it is not base64.
std::optional<Bytes> auth_token(const std::string& header) {
    const size_t space = header.find(' ');
    if (space == std::string::npos) {
        return std::nullopt;
    }
    return decode_base64(header.substr(space + 1));
}

void plain_answer(httplib::Response& res, int status, const std::string& text) {
    res.status = status;
    res.set_content(text + "\n", "text/plain");
}

constexpr const char* binding_by_post =
    "binding a password needs POST with Content-Type: application/json and a body such as "
    "{\"subject\":\"router-*\",\"template\":\"IPSECIntermediateOffline\",\"validity\":60}";

/// A GET that tries to bind: an <img> on any web page could send it with the
/// browser's cached Basic credentials, so only the plain NDES GET is served.
bool has_binding_parameters(const httplib::Request& req) {
    for (const char* name : {"subject", "template", "validity"}) {
        if (raw_query_param(req.target, name)) {
            return true;
        }
    }
    return false;
}

/// application/json, with or without parameters: a type no cross-site form or
/// <img> can send without a CORS preflight, which this site never grants.
bool is_json_content_type(const httplib::Request& req) {
    std::string type = req.get_header_value("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) {
        type.pop_back();
    }
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
    return type == "application/json";
}

/// The binding in a POSTed JSON body, or the reason it is refused.
std::optional<store::ChallengeBinding> binding_from_json(const std::string& body, std::string& error) {
    auto object = parse_flat_json_object(body, error);
    if (!object) {
        return std::nullopt;
    }
    store::ChallengeBinding binding;
    for (const auto& [key, value] : *object) {
        if (key == "subject" || key == "template") {
            if (value.is_number || value.text.empty()) {
                error = "\"" + key + "\" must be a non-empty string";
                return std::nullopt;
            }
            (key == "subject" ? binding.expected_subject : binding.template_name) = value.text;
        } else if (key == "validity") {
            const bool whole = value.is_number && value.text.size() <= 6 &&
                               std::all_of(value.text.begin(), value.text.end(),
                                           [](unsigned char c) { return std::isdigit(c); });
            const int minutes = whole ? std::stoi(value.text) : 0;
            if (minutes < 1 || minutes > 525600) {
                error = "\"validity\" must be a whole number of minutes between 1 and 525600";
                return std::nullopt;
            }
            binding.validity = std::chrono::minutes(minutes);
        } else {
            error = "unknown member (expected subject, template, validity)";
            return std::nullopt;
        }
    }
    return binding;
}

/// A GET a browser made for another site's page (a link on it, an <img>, a
/// <script>) or for a resource embedded in any page (<img>, <iframe>): the
/// browser sends Negotiate, NTLM and cached Basic credentials on it without
/// asking, so it must not issue a password nobody sees. Only the page opened
/// directly (typed, bookmarked, or followed within this site) issues one;
/// clients that send no Sec-Fetch headers (curl, scripts) are not affected.
bool fetched_for_another_site_or_embedded(const httplib::Request& req) {
    if (lowercase(req.get_header_value("Sec-Fetch-Site")) == "cross-site") {
        return true;
    }
    if (!req.has_header("Sec-Fetch-Dest")) {
        return false;
    }
    const std::string destination = lowercase(req.get_header_value("Sec-Fetch-Dest"));
    return destination != "document" && destination != "empty";
}

constexpr const char* open_directly =
    "no password was issued: this request came from another site's page, or for a resource embedded in a "
    "page. Open /certsrv/mscep_admin/ directly (type its address or use a bookmark) to get a password.";

/// Why a bound validity is refused, or "": an admin may shorten a password's
/// life, never make it outlive PasswordValidity (`scep-ra password issue`,
/// the operator's own command, may).
std::string validity_beyond_limit(const store::ChallengeBinding& binding, std::chrono::minutes limit) {
    if (!binding.validity || *binding.validity <= limit) {
        return "";
    }
    return "\"validity\" may be at most " + std::to_string(limit.count()) +
           " minutes here ([password] PasswordValidity)";
}

/// "/certsrv/mscep_admin" in any case: the directory without its slash.
bool is_directory_without_slash(std::string_view path) { return lowercase(path) == "/certsrv/mscep_admin"; }

/// "?query" of the request target when every byte of it is visible ASCII, so
/// that it can go into a Location header as it came; "" otherwise.
std::string printable_query(const std::string& target) {
    const size_t mark = target.find('?');
    if (mark == std::string::npos) {
        return "";
    }
    const std::string query = target.substr(mark);
    const bool printable =
        std::all_of(query.begin(), query.end(), [](unsigned char c) { return c > 0x20 && c < 0x7F; });
    return printable ? query : "";
}

}  // namespace

AdminSite::AdminSite(AdminSiteOptions options, store::AdminStore& admins, store::ChallengeStore& challenges,
                     core::PasswordModes& modes, const backend::CaBackend& ca)
    : m_options(options), m_admins(admins), m_challenges(challenges), m_modes(modes), m_ca(ca) {
    if (offers(AuthScheme::ntlm)) {
        m_ntlm_key = store::ChallengeStore::load_or_create_key(m_options.page.ntlm_key_file);
    }
    if (offers(AuthScheme::negotiate)) {
        try {
            m_negotiate = std::make_unique<NegotiateAcceptor>(m_options.page.negotiate);
        } catch (const KeytabError& e) {
            throw KeytabError(e.key(), "[admin] " + e.key() + " " + e.what());
        }
    }
}

AdminSite::~AdminSite() = default;

bool AdminSite::offers(AuthScheme scheme) const {
    const auto& schemes = m_options.page.auth;
    return std::find(schemes.begin(), schemes.end(), scheme) != schemes.end();
}

void AdminSite::challenge_login(httplib::Response& res) const {
    res.status = 401;
    for (AuthScheme scheme : m_options.page.auth) {
        res.set_header("WWW-Authenticate", scheme == AuthScheme::negotiate ? "Negotiate"
                                           : scheme == AuthScheme::ntlm
                                               ? "NTLM"
                                               : "Basic realm=\"scep-ra admin\", charset=\"UTF-8\"");
    }
    res.set_content("authentication required\n", "text/plain");
}

std::optional<AdminSite::Login> AdminSite::authenticate(const httplib::Request& req, httplib::Response& res,
                                                        std::string& account, std::string& summary) {
    const std::string header = req.get_header_value("Authorization");
    const std::string scheme = scheme_of(header);
    std::string detail, mutual_token;
    std::optional<Login> login;
    if (offers(AuthScheme::negotiate) && scheme == "negotiate") {
        login = negotiate_step(req, res, header, account, detail, mutual_token, summary);
    } else if (offers(AuthScheme::ntlm) && scheme == "ntlm") {
        const auto message = auth_token(header);
        if (!message) {
            challenge_login(res);
            summary = "admin page: NTLM message not understood";
            return std::nullopt;
        }
        login = ntlm_step(req, res, *message, "NTLM", account, summary);
    } else if (offers(AuthScheme::basic) && scheme == "basic") {
        login = basic_step(req, res, account, summary);
    } else {
        challenge_login(res);
        summary = "admin page: no credentials";
        return std::nullopt;
    }
    if (!login) {
        return std::nullopt;
    }
    switch (login->result) {
        case store::AdminStore::LoginResult::ok:
            if (!mutual_token.empty()) {
                // RFC 4559: the server's last token (Kerberos mutual authentication) rides on the answer.
                res.set_header("WWW-Authenticate", "Negotiate " + mutual_token);
            }
            return login;
        case store::AdminStore::LoginResult::bad_credentials:
            challenge_login(res);
            summary = "admin page: login failed" + (detail.empty() ? "" : ": " + detail);
            return std::nullopt;
        case store::AdminStore::LoginResult::throttled:
            refuse_for_now(res, 429, 300, "too many failed logins from this address; try again later\n");
            summary = "admin page: login throttled";
            return std::nullopt;
        case store::AdminStore::LoginResult::busy:
            refuse_for_now(res, 503, 10, "busy: too many logins at once; try again later\n");
            summary = "admin page: login busy, password not checked";
            return std::nullopt;
    }
    return std::nullopt;
}

std::optional<AdminSite::Login> AdminSite::negotiate_step(const httplib::Request& req, httplib::Response& res,
                                                          const std::string& header, std::string& account,
                                                          std::string& detail, std::string& mutual_token,
                                                          std::string& summary) {
    // Bounded before decoding: base64 of the largest token accepted, plus "Negotiate ".
    constexpr size_t max_header = 10 + (NegotiateAcceptor::kMaxTokenBytes + 2) / 3 * 4;
    const auto token = header.size() <= max_header ? auth_token(header) : std::nullopt;
    if (!token || token->empty()) {
        challenge_login(res);
        summary = header.size() > max_header ? "admin page: Negotiate token too large"
                                             : "admin page: Negotiate token not understood";
        return std::nullopt;
    }
    if (ntlm::message_type(*token) != 0) {
        // Windows without a Kerberos ticket sends raw NTLMSSP under the
        // Negotiate scheme, and expects the answer under it too.
        if (!offers(AuthScheme::ntlm)) {
            challenge_login(res);
            summary = "admin page: NTLM inside Negotiate refused ([admin] auth has no ntlm)";
            return std::nullopt;
        }
        return ntlm_step(req, res, *token, "Negotiate", account, summary);
    }
    std::string reason;
    const auto accepted = m_negotiate->accept(*token, reason);
    if (!accepted) {
        // A refused token counts as a failed login: the trail shows it and
        // a peer that keeps sending them is throttled like a password guesser.
        detail = reason;
        account = "(kerberos)";
        return m_admins.login_with(req.remote_addr, account,
                                   [](const store::AdminStore::Credentials&) { return false; });
    }
    const auto name = admin_account_for(accepted->principal, m_options.page.negotiate.kerberos_realm);
    account = name.value_or(accepted->principal);
    detail = "Kerberos principal " + accepted->principal + " has no admin account";
    mutual_token = ntlm::base64(accepted->reply);
    // The ticket proved the principal; the account only has to exist (an
    // unmappable principal is looked up as itself and never found).
    return m_admins.login_with(req.remote_addr, account,
                               [](const store::AdminStore::Credentials&) { return true; });
}

std::optional<AdminSite::Login> AdminSite::ntlm_step(const httplib::Request& req, httplib::Response& res,
                                                     ByteView message, const char* reply_scheme,
                                                     std::string& account, std::string& summary) {
    const int type = ntlm::message_type(message);
    if (type == 1) {
        // NEGOTIATE: the CHALLENGE, bound to this keep-alive connection.
        const Bytes challenge = m_ntlm_challenges.issue(req.remote_addr, req.remote_port);
        res.status = 401;
        res.set_header("WWW-Authenticate", std::string(reply_scheme) + " " +
                                               ntlm::base64(ntlm::challenge_message(challenge, "SCEP-RA")));
        res.set_content("authentication continues\n", "text/plain");
        summary = "admin page: NTLM challenge";
        return std::nullopt;
    }
    if (type != 3) {
        challenge_login(res);
        summary = "admin page: NTLM message not understood";
        return std::nullopt;
    }
    const auto challenge = m_ntlm_challenges.take(req.remote_addr, req.remote_port);
    if (!challenge) {
        challenge_login(res);
        summary = "admin page: NTLM AUTHENTICATE without a CHALLENGE on this connection";
        return std::nullopt;
    }
    std::string reason;
    const auto auth = ntlm::read_authenticate(message, reason);
    if (!auth) {
        challenge_login(res);
        summary = "admin page: " + reason;
        return std::nullopt;
    }
    // A client names the service it logs in to (Windows always does); a
    // login meant for a file share or another host's service is a relay.
    if (const auto service = ntlm::target_name(*auth); service && !ntlm::names_http_service(*service)) {
        challenge_login(res);
        summary = "admin page: NTLM login meant for " + log_safe(*service, 80) + " refused (a relay?)";
        return std::nullopt;
    }
    account = auth->user;
    return m_admins.login_with(
        req.remote_addr, auth->user, [&](const store::AdminStore::Credentials& stored) {
            const auto hash = ntlm::open_nt_hash(m_ntlm_key, stored.name, stored.nt_hash_sealed);
            return hash && ntlm::verify_ntlmv2(*auth, *hash, *challenge);
        });
}

std::optional<AdminSite::Login> AdminSite::basic_step(const httplib::Request& req, httplib::Response& res,
                                                      std::string& account, std::string& summary) {
    auto creds = basic_credentials(req);
    if (!creds) {
        challenge_login(res);
        summary = "admin page: no credentials";
        return std::nullopt;
    }
    account = creds->name;
    return m_admins.login(req.remote_addr, creds->name, creds->password);
}

bool AdminSite::handles(std::string_view path) const {
    const std::string p = lowercase(path);
    return p == "/certsrv/mscep_admin" || p == "/certsrv/mscep_admin/" ||
           p == "/certsrv/mscep_admin/default.asp";
}

Served AdminSite::serve(const httplib::Request& req, httplib::Response& res) {
    // Basic credentials over plain HTTP are readable by anyone on the path.
    // Configurations that do it fail to load; this catches a listener set up
    // another way (e.g. `serve --admin-listen` without TLS in the file).
    if (!req.ssl && !m_options.allow_plaintext) {
        plain_answer(res, 403, "the admin page is served over HTTPS only ([admin] allow_plaintext = 0)");
        return "admin page: refused over plain HTTP";
    }
    if (req.method == "GET" && fetched_for_another_site_or_embedded(req)) {
        // Before the login: such a request costs no password check either.
        res.set_header("Cache-Control", "no-store");
        plain_answer(res, 403, open_directly);
        return "admin page: GET from another site or for an embedded resource: no password issued";
    }
    std::string account, summary;
    const auto login = authenticate(req, res, account, summary);
    if (!login) {
        return summary;
    }
    if (is_directory_without_slash(req.path)) {
        // IIS answers the directory without its slash so: 401 first (above),
        // then a redirect to the slash URL, as NDES readers expect.
        res.status = 301;
        res.set_header("Location", req.path + "/" + printable_query(req.target));
        res.set_content("moved to " + req.path + "/\n", "text/plain");
        return "admin page: redirect to the trailing slash";
    }
    if (req.method == "GET" || req.method == "HEAD") {
        if (has_binding_parameters(req)) {
            plain_answer(res, 400, binding_by_post);
            return "admin page: binding parameters on a GET";
        }
        // HEAD (monitoring probes, link checkers) gets the headers a GET would, and no password is made.
        const bool make_password = req.method == "GET";
        return issue(req, res, account, login->role, {}, wants_json(req), make_password);
    }
    if (req.method != "POST") {
        res.set_header("Allow", "GET, POST");
        plain_answer(res, 405, "use GET for a password, or POST JSON to bind one");
        return "admin page: method not allowed";
    }
    if (!is_json_content_type(req)) {
        plain_answer(res, 415, binding_by_post);
        return "admin page: POST without application/json";
    }
    std::string error;
    auto binding = binding_from_json(req.body, error);
    if (binding) {
        error = validity_beyond_limit(*binding, m_modes.settings().one_time.validity);
    }
    if (!binding || !error.empty()) {
        plain_answer(res, 400, "bad binding: " + error);
        return "admin page: bad binding: " + error;
    }
    return issue(req, res, account, login->role, *binding, true, true);
}

std::string AdminSite::issue(const httplib::Request& req, httplib::Response& res, const std::string& admin,
                             store::AdminRole role, const store::ChallengeBinding& binding, bool json,
                             bool make_password) {
    const core::PasswordSettings settings = m_modes.settings();
    AdminPageContent content;
    // The issuing CA now: a reload may have fetched a re-keyed one since the start.
    const Bytes ca_der = crypto::cert_der(*m_ca.ca_chain().front());
    content.ca_thumbprint_md5 = to_hex(crypto::digest("MD5", ca_der));
    content.ca_thumbprint_sha256 = to_hex(crypto::sha256(ca_der));
    content.password_max = settings.one_time.max_outstanding;
    std::string summary;
    int status = 200;
    if (role != store::AdminRole::issue) {
        // As NDES answers a user outside the template's Enroll ACL.
        content.kind = AdminPageContent::Kind::permission_denied;
        summary = "admin page: " + admin + " may not issue passwords (role " + store::role_name(role) + ")";
        status = 403;  // JSON only; the HTML page answers 200 like NDES
    } else if (!settings.enforce_password) {
        content.kind = AdminPageContent::Kind::no_password_needed;
        summary = "admin page: no password needed";
    } else if (settings.use_single_password) {
        content.kind = AdminPageContent::Kind::single_password;
        summary = "admin page: single password mode";
    } else if (!make_password) {
        content.kind = AdminPageContent::Kind::password;
        summary = "admin page: HEAD, no password issued";
    } else {
        try {
            store::IssuedChallenge issued =
                m_challenges.issue(settings.one_time, admin, req.remote_addr, binding);
            content.kind = AdminPageContent::Kind::password;
            content.password = issued.password;
            content.validity_minutes =
                static_cast<int>(binding.validity.value_or(settings.one_time.validity).count());
            content.expires_at = sql_time(issued.expires_at);
            content.bound_subject = binding.expected_subject;
            content.bound_template = binding.template_name;
            summary = "admin page: " + admin + " issued password id=" + std::to_string(issued.id);
        } catch (const store::ChallengeCacheFull&) {
            content.kind = AdminPageContent::Kind::cache_full;
            summary = "admin page: password cache full";
            status = 409;  // JSON only; the HTML page answers 200 like NDES
        }
    }
    res.set_header("Cache-Control", "no-store");
    if (json) {
        res.status = status;
        res.set_content(render_admin_json(content), "application/json");
    } else {
        // The cache-full and permission pages answer 200 like NDES: readers look for their sentences.
        EncodedPage page = encode_admin_html(content, m_options.page.encoding);
        res.status = 200;
        res.set_content(std::move(page.body), page.content_type);
    }
    return summary;
}

}  // namespace scepra::http
