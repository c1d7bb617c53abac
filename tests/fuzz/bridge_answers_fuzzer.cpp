// SPDX-License-Identifier: Apache-2.0
// Every reader of the AD CS bridge's answers (backends/adcs/bridge_answers.hpp)
// on the same body: the answer about one request (POST /v1/requests, GET
// /v1/requests/{id}), the CA chain (GET /v1/ca), the message of any answer,
// and audit_text on the raw body. Their contract is BadAnswer only
// (read_message and audit_text: no exception), and what each returns keeps
// the promises of the header (checked below; a broken one aborts the run).
#include <string>

#include "adcs/bridge_answers.hpp"
#include "common/utf8.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace scepra::backend::adcs;

using scepra::fuzz::require;

bool is_utf8(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = scepra::utf8_char_length(text, i);
        if (length == 0) {
            return false;
        }
        i += length;
    }
    return true;
}

bool all_of(const std::string& text, const char* allowed) {
    return text.find_first_not_of(allowed) == std::string::npos;
}

void check_audit_text(const std::string& text, std::size_t max_bytes) {
    const std::string safe = audit_text(text, max_bytes);
    require(safe.size() <= max_bytes + 3);  // "..." when cut
    for (const char c : safe) {
        require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
    }
    require(!is_utf8(text) || is_utf8(safe));  // cut on a character boundary
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    std::size_t found = 0;
    try {
        const RequestAnswer answer = read_request_answer(body);
        // Issued and pending name their request; denied may not (a call refused before the CA
        // made one); unknown and error never do.
        const bool names_request = answer.status == "issued" || answer.status == "pending";
        require(names_request || answer.status == "denied" || answer.status == "unknown" ||
                answer.status == "error");
        require(!names_request || answer.request_id != 0);
        require(answer.status == "denied" || names_request == (answer.request_id != 0));
        require(answer.hresult.empty() ||
                (answer.hresult.size() <= 10 && answer.hresult.rfind("0x", 0) == 0 &&
                 answer.hresult.size() > 2 && all_of(answer.hresult.substr(2), "0123456789ABCDEFabcdef")));
        if (answer.status == "issued") {
            require(!answer.certificate_der.empty() && answer.chain_der.size() <= 10);
            require(!answer.serial.empty() && answer.serial.size() <= 40 &&
                    all_of(answer.serial, "0123456789ABCDEF"));
        } else {
            require(answer.certificate_der.empty() && answer.chain_der.empty() && answer.serial.empty());
        }
        found += answer.certificate_der.size() + answer.chain_der.size() + answer.message.size();
        check_audit_text(answer.message, 300);
    } catch (const BadAnswer&) {
    }
    try {
        const std::vector<scepra::Bytes> chain = read_chain_answer(body);
        require(!chain.empty() && chain.size() <= 10);
        for (const scepra::Bytes& der : chain) {
            require(!der.empty());
        }
        found += chain.size();
    } catch (const BadAnswer&) {
    }
    found += read_message(body).size();
    check_audit_text(body, 300);
    check_audit_text(body, 40);
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
