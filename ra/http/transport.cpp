// SPDX-License-Identifier: Apache-2.0
// Query and base64 decoding for SCEP over HTTP.
#include "http/transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace scepra::http {

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(s[i]);
    }
    return out;
}
}  // namespace

std::optional<std::string> raw_query_param(std::string_view target, std::string_view name) {
    size_t q = target.find('?');
    if (q == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        size_t eq = pair.find('=');
        std::string key = percent_decode(pair.substr(0, eq));
        if (key == name) {
            return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<Bytes> decode_base64(std::string_view text) {
    static const std::array<int, 256> table = [] {
        std::array<int, 256> t{};
        t.fill(-1);
        const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
        t[' '] = 62;  // a '+' that was form-decoded into a space on the way
        return t;
    }();
    Bytes out;
    out.reserve(text.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    bool padding = false;
    for (char c : text) {
        if (c == '\r' || c == '\n' || c == '\t') continue;
        if (c == '=') {
            padding = true;
            continue;
        }
        int v = table[static_cast<unsigned char>(c)];
        if (v < 0 || padding) {
            return std::nullopt;  // a foreign character, or data after padding
        }
        buffer = (buffer << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((buffer >> bits) & 0xff));
        }
    }
    if (bits >= 6) {
        return std::nullopt;  // a lone trailing character cannot encode a byte
    }
    return out;
}

bool is_scep_path(std::string_view path) {
    std::string p(path);
    std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return std::tolower(c); });
    // IIS paths are case-insensitive; devices are configured with every spelling.
    static const std::array<std::string_view, 8> paths = {
        "/certsrv/mscep/mscep.dll", "/certsrv/mscep/mscep.dll/pkiclient.exe",
        "/certsrv/mscep/",          "/certsrv/mscep",
        "/certsrv/mscep.dll",       "/certsrv/mscep.dll/pkiclient.exe",
        "/cgi-bin/pkiclient.exe",   "/scep",
    };
    return std::find(paths.begin(), paths.end(), p) != paths.end();
}

}  // namespace scepra::http
