// SPDX-License-Identifier: Apache-2.0
#include "adcs/bridge_answers.hpp"

#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "http/json_answer.hpp"

namespace scepra::backend::adcs {

namespace {

using nlohmann::json;

// The bridge's answers are two levels deep; anything deeper is hostile.
constexpr int max_depth = 4;
constexpr std::size_t max_chain_length = 10;
constexpr std::size_t max_certificate_der = 64 * 1024;

json parse(const std::string& body) { return http::parse_json_answer<BadAnswer>(body, max_depth); }

const json* find(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

const json& require(const json& object, const char* key) {
    const json* value = find(object, key);
    if (value == nullptr) {
        throw BadAnswer(std::string("missing '") + key + "'");
    }
    return *value;
}

std::string string_of(const json& value, const char* key) {
    if (!value.is_string()) {
        throw BadAnswer(std::string("'") + key + "' is not a string");
    }
    return value.get<std::string>();
}

Bytes der_of(const json& value, const char* key) {
    const std::string text = string_of(value, key);
    if (text.size() > (max_certificate_der + 2) / 3 * 4) {
        throw BadAnswer(std::string("'") + key + "' is larger than " + std::to_string(max_certificate_der) +
                        " bytes");
    }
    auto bytes = http::base64_decode(text);
    if (!bytes || bytes->empty()) {
        throw BadAnswer(std::string("'") + key + "' is not base64");
    }
    return std::move(*bytes);
}

/// 1 to max_digits characters, all from digits.
bool is_hex(const std::string& text, const char* digits, std::size_t max_digits) {
    return !text.empty() && text.size() <= max_digits && text.find_first_not_of(digits) == std::string::npos;
}

/// A JSON integer from 0 to 4294967295 (a Windows DWORD). nlohmann reads
/// 2^63 to 2^64 - 1 as unsigned, a negative number as signed and a larger one
/// as a float: only an unsigned value is in range, and it is checked before
/// it is narrowed, so a huge number never reads as a small or negative one.
std::optional<std::uint32_t> dword_of(const json& value) {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 0xFFFFFFFFULL) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(value.get<std::uint64_t>());
}

std::uint32_t request_id_of(const json& value) {
    const auto id = dword_of(value);
    if (!id || *id == 0) {
        throw BadAnswer("'request_id' is not a request id (1 to 4294967295)");
    }
    return *id;
}

}  // namespace

RequestAnswer read_request_answer(const std::string& body) {
    const json root = parse(body);
    if (!root.is_object()) {
        throw BadAnswer("expected a JSON object");
    }
    RequestAnswer answer;
    answer.status = string_of(require(root, "status"), "status");
    const bool names_request =
        answer.status == "issued" || answer.status == "pending" || answer.status == "denied";
    if (!names_request && answer.status != "unknown" && answer.status != "error") {
        throw BadAnswer("unknown status '" + audit_text(answer.status, 40) + "'");
    }
    if (answer.status == "denied") {
        // A call the CA refused before it created a request (E_ACCESSDENIED,
        // E_INVALIDARG, ...) is denied with no id: final all the same.
        const json* id = find(root, "request_id");
        const bool no_request = id == nullptr || dword_of(*id) == std::optional<std::uint32_t>(0);
        if (!no_request) {
            answer.request_id = request_id_of(*id);
        }
    } else if (names_request) {
        answer.request_id = request_id_of(require(root, "request_id"));
    }
    if (const json* message = find(root, "message")) {
        answer.message = string_of(*message, "message");
    }
    if (const json* hresult = find(root, "hresult")) {
        answer.hresult = string_of(*hresult, "hresult");
        const std::string digits = answer.hresult.rfind("0x", 0) == 0 ? answer.hresult.substr(2) : "";
        if (!is_hex(digits, "0123456789ABCDEFabcdef", 8)) {
            throw BadAnswer("'hresult' is not 0x and 1 to 8 hex digits");
        }
    }
    if (const json* disposition = find(root, "disposition")) {
        answer.disposition = dword_of(*disposition);
        if (!answer.disposition) {
            throw BadAnswer("'disposition' is not a disposition (0 to 4294967295)");
        }
    }
    if (answer.status != "issued") {
        return answer;
    }
    answer.certificate_der = der_of(require(root, "certificate"), "certificate");
    const json& chain = require(root, "chain");
    if (!chain.is_array() || chain.size() > max_chain_length) {
        throw BadAnswer("'chain' is not an array of at most " + std::to_string(max_chain_length) +
                        " certificates");
    }
    for (const json& cert : chain) {
        answer.chain_der.push_back(der_of(cert, "chain"));
    }
    answer.serial = string_of(require(root, "serial"), "serial");
    if (!is_hex(answer.serial, "0123456789ABCDEF", 40)) {  // RFC 5280: at most 20 octets
        throw BadAnswer("'serial' is not 1 to 40 upper-case hex digits");
    }
    return answer;
}

std::vector<Bytes> read_chain_answer(const std::string& body) {
    const json root = parse(body);
    if (!root.is_object()) {
        throw BadAnswer("expected a JSON object");
    }
    const json& chain = require(root, "chain");
    if (!chain.is_array() || chain.empty() || chain.size() > max_chain_length) {
        throw BadAnswer("'chain' is not an array of 1 to " + std::to_string(max_chain_length) +
                        " certificates");
    }
    std::vector<Bytes> out;
    for (const json& cert : chain) {
        out.push_back(der_of(cert, "chain"));
    }
    return out;
}

std::string read_message(const std::string& body) {
    try {
        const json root = parse(body);
        const json* message = root.is_object() ? find(root, "message") : nullptr;
        return message != nullptr && message->is_string() ? message->get<std::string>() : std::string();
    } catch (const BadAnswer&) {
        return {};
    }
}

std::string audit_text(const std::string& text, std::size_t max_bytes) {
    std::string out = text;
    if (out.size() > max_bytes) {
        std::size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) {
            --cut;  // not inside a UTF-8 sequence
        }
        out.resize(cut);
        out += "...";
    }
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            c = ' ';
        }
    }
    return out;
}

}  // namespace scepra::backend::adcs
