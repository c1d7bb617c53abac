// SPDX-License-Identifier: Apache-2.0
// doctor: what the running server advertises in GetCACaps, against what the
// configuration enables.
#include <algorithm>
#include <map>
#include <sstream>

#include "cli/doctor_server.hpp"
#include "cli/rollover.hpp"
#include "http/log_text.hpp"
#include "scep/caps.hpp"

namespace scepra::cli {

namespace {

/// At most this many keywords are read: the real list has about a dozen.
constexpr size_t max_keywords = 64;

std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
    return text;
}

/// RFC 8894 §3.5.2: one keyword per line, compared without regard to case;
/// keyed by the upper-case spelling, holding the server's.
using Keywords = std::map<std::string, std::string>;

Keywords keywords(const std::string& text) {
    Keywords out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line) && out.size() < max_keywords;) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        // The server's text goes to the operator's terminal: escaped and bounded.
        if (!line.empty()) out.emplace(upper(line), http::log_safe(line, 64));
    }
    return out;
}

std::string joined(const Keywords& words) {
    std::string out;
    for (const auto& [key, word] : words) out += (out.empty() ? "" : " ") + word;
    return out;
}

}  // namespace

std::vector<DoctorFinding> check_advertised_caps(const AppConfig& c, const ScepHttpClient& server) {
    std::vector<DoctorFinding> out;
    const std::string check = "GetCACaps";
    HttpAnswer answer;
    try {
        answer = server.get("GetCACaps");
    } catch (const std::exception& e) {
        out.push_back({check, Verdict::fail, e.what(),
                       "start the server (systemctl start scep-ra), or name where it answers with --url"});
        return out;
    }
    if (answer.status != 200) {
        out.push_back(
            {check, Verdict::fail, "HTTP " + std::to_string(answer.status) + " from " + server.url().text(),
             "point --url at scep-ra's SCEP listener; a proxy in front must pass GetCACaps through"});
        return out;
    }
    const bool rollover_staged = load_next_ca_response(c).has_value();
    const Keywords advertised = keywords(answer.body);
    const Keywords enabled =
        keywords(scep::render_caps({.renewal = c.renewal.enabled, .get_next_ca_cert = rollover_staged}));
    const std::string restart = "restart it (systemctl restart scep-ra) so it runs with this configuration";
    bool differs = false;
    for (const auto& [word, spelling] : enabled) {
        if (advertised.contains(word)) continue;
        differs = true;
        if (word == "RENEWAL") {
            out.push_back(
                {check + ": Renewal", Verdict::warn,
                 "not advertised, though [renewal] enabled = 1: devices enrol anew instead of renewing",
                 restart});
        } else if (word == "GETNEXTCACERT") {
            out.push_back({check + ": GetNextCACert", Verdict::warn,
                           "a rollover is prepared in next/ but the server does not publish it",
                           "`scep-ra reload --config " + c.file.string() + "`"});
        } else {
            out.push_back(
                {check + ": " + spelling, Verdict::fail,
                 "not advertised: clients fall back to weaker algorithms or to GET",
                 "this is not the server this configuration describes, or something in front rewrites "
                 "its answers: check --url and the proxy"});
        }
    }
    for (const auto& [word, spelling] : advertised) {
        if (enabled.contains(word)) continue;
        differs = true;
        if (word == "RENEWAL") {
            out.push_back(
                {check + ": Renewal", Verdict::warn, "advertised, though [renewal] enabled = 0", restart});
        } else if (word == "GETNEXTCACERT") {
            out.push_back({check + ": GetNextCACert", Verdict::warn,
                           "advertised, but no rollover is prepared in next/ (activated without a restart?)",
                           restart});
        } else if (word == "DES") {
            out.push_back({check + ": DES", Verdict::fail,
                           "single DES is advertised: clients may pick a 56-bit cipher", restart});
        } else {
            out.push_back({check + ": " + spelling, Verdict::warn,
                           "advertised, but this configuration does not serve it",
                           "check --url: another server answers there"});
        }
    }
    if (!differs) {
        out.push_back({check, Verdict::pass, "advertises " + joined(advertised) + ", as configured", {}});
    }
    if (c.allow_single_des) {
        out.push_back(
            {check + ": single DES", Verdict::warn,
             "[ra] allow_single_des = 1 accepts requests encrypted with 56-bit DES (never advertised)",
             "set allow_single_des = 0 once no device needs it"});
    }
    return out;
}

}  // namespace scepra::cli
