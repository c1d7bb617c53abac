// SPDX-License-Identifier: Apache-2.0
#include "ejbca/ejbca_answers.hpp"

#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "http/json_answer.hpp"

namespace scepra::backend::ejbca {

namespace {

using http::base64_decode;
using nlohmann::json;

// EJBCA's answers are at most four levels deep; anything deeper is hostile.
constexpr int max_depth = 8;
constexpr std::size_t max_chain_length = 10;

json parse(const std::string& body) { return http::parse_json_answer<BadAnswer>(body, max_depth); }

const json& member(const json& object, const char* key) {
    if (!object.is_object()) {
        throw BadAnswer("expected a JSON object");
    }
    const auto it = object.find(key);
    if (it == object.end()) {
        throw BadAnswer(std::string("missing '") + key + "'");
    }
    return *it;
}

const json* optional_member(const json& object, const char* key) {
    if (!object.is_object()) {
        throw BadAnswer("expected a JSON object");
    }
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string string_of(const json& value, const char* key) {
    if (!value.is_string()) {
        throw BadAnswer(std::string("'") + key + "' is not a string");
    }
    return value.get<std::string>();
}

Bytes bytes_of(const json& value, const char* key) {
    auto bytes = base64_decode(string_of(value, key));
    if (!bytes || bytes->empty()) {
        throw BadAnswer(std::string("'") + key + "' is not base64");
    }
    return std::move(*bytes);
}

bool is_hex(const std::string& text) {
    return !text.empty() && text.size() <= 64 &&
           text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace

EnrollAnswer read_enroll_answer(const std::string& body) {
    const json root = parse(body);
    EnrollAnswer answer;
    answer.certificate_der = bytes_of(member(root, "certificate"), "certificate");
    if (const json* format = optional_member(root, "response_format")) {
        if (string_of(*format, "response_format") != "DER") {
            throw BadAnswer("response_format is not DER");
        }
    }
    if (const json* serial = optional_member(root, "serial_number")) {
        answer.serial_hex = string_of(*serial, "serial_number");
        if (!is_hex(answer.serial_hex)) {
            throw BadAnswer("serial_number is not hex");
        }
    }
    if (const json* chain = optional_member(root, "certificate_chain")) {
        if (!chain->is_array() || chain->size() > max_chain_length) {
            throw BadAnswer("certificate_chain is not a short array");
        }
        for (const json& entry : *chain) {
            answer.chain_der.push_back(bytes_of(entry, "certificate_chain"));
        }
    }
    return answer;
}

std::optional<std::string> read_error_message(const std::string& body) {
    try {
        const json root = parse(body);
        const json& code = member(root, "error_code");
        const json& message = member(root, "error_message");
        if (!code.is_number_integer() || !message.is_string()) {
            return std::nullopt;
        }
        return message.get<std::string>();
    } catch (const BadAnswer&) {
        return std::nullopt;
    }
}

std::optional<std::string> read_status_revision(const std::string& body) {
    try {
        const json root = parse(body);
        if (string_of(member(root, "status"), "status") != "OK") {
            return std::nullopt;
        }
        const json* revision = optional_member(root, "revision");
        return revision != nullptr ? string_of(*revision, "revision") : std::string("EJBCA");
    } catch (const BadAnswer&) {
        return std::nullopt;
    }
}

std::vector<CaEntry> read_ca_list(const std::string& body) {
    const json root = parse(body);
    const json& list = member(root, "certificate_authorities");
    if (!list.is_array()) {
        throw BadAnswer("certificate_authorities is not an array");
    }
    std::vector<CaEntry> cas;
    for (const json& entry : list) {
        cas.push_back(
            {string_of(member(entry, "name"), "name"), string_of(member(entry, "subject_dn"), "subject_dn")});
    }
    return cas;
}

SearchAnswer read_search_answer(const std::string& body, std::size_t max_results) {
    const json root = parse(body);
    const json& list = member(root, "certificates");
    if (!list.is_array() || list.size() > max_results) {
        throw BadAnswer("certificates is not an array of at most the results asked for");
    }
    SearchAnswer answer;
    if (const json* more = optional_member(root, "more_results")) {
        if (!more->is_boolean()) {
            throw BadAnswer("more_results is not a boolean");
        }
        answer.more_results = more->get<bool>();
    }
    for (const json& entry : list) {
        Bytes bytes = bytes_of(member(entry, "certificate"), "certificate");
        // EJBCA's search puts the base64 text of the DER into the byte array
        // that Jackson then encodes again; DER starts with a SEQUENCE tag.
        if (bytes.front() != 0x30) {
            auto inner = base64_decode(to_string(bytes));
            if (!inner || inner->empty()) {
                throw BadAnswer("certificate is neither base64 DER nor base64 of base64 DER");
            }
            bytes = std::move(*inner);
        }
        answer.certificates_der.push_back(std::move(bytes));
    }
    return answer;
}

RevocationStatus read_revocation_status(const std::string& body) {
    const json root = parse(body);
    const json& revoked = member(root, "revoked");
    if (!revoked.is_boolean()) {
        throw BadAnswer("revoked is not a boolean");
    }
    RevocationStatus status;
    status.revoked = revoked.get<bool>();
    if (const json* reason = optional_member(root, "revocation_reason")) {
        status.reason = string_of(*reason, "revocation_reason");
    }
    return status;
}

Bytes read_crl_answer(const std::string& body) {
    const json root = parse(body);
    if (const json* format = optional_member(root, "response_format")) {
        if (string_of(*format, "response_format") != "DER") {
            throw BadAnswer("response_format is not DER");
        }
    }
    return bytes_of(member(root, "crl"), "crl");
}

}  // namespace scepra::backend::ejbca
