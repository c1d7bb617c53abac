// SPDX-License-Identifier: Apache-2.0
// The readers of the Intune validator's answers
// (ra/validators/intune/intune_answers.hpp) on the same body: Entra ID's
// token answer (as HTTP 200 and as a refusal, HTTP 400), Graph's list of
// Intune's endpoints and Intune's answer to a ScepActions call. Their
// contract is IntuneUnavailable only (the validator fails closed on it;
// anything else would escape as an error of the enrolment), a refusal always
// throws, and what each returns keeps the promises of the header (checked
// below; a broken one aborts the run as a finding).
#include <stdexcept>
#include <string>

#include "fuzz_input.hpp"
#include "http/rest_client.hpp"
#include "validators/intune/intune_answers.hpp"
#include "validators/intune/intune_errors.hpp"

namespace {

using namespace scepra::validators::intune;

using scepra::fuzz::require;

using scepra::fuzz::all_in;

bool is_alnum(const std::string& text) {
    for (const char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    std::size_t found = 0;
    try {
        const detail::TokenAnswer token = detail::read_token_answer(200, body, intune_scope);
        require(!token.access_token.empty() && token.access_token.size() <= 16 * 1024);
        require(all_in(token.access_token, 0x21, 0x7e));  // it goes into an Authorization header
        require(token.lifetime.count() >= 1 && token.lifetime.count() <= 24 * 3600);
        found += token.access_token.size();
    } catch (const IntuneUnavailable&) {
    }
    bool refused = false;
    try {
        (void)detail::read_token_answer(400, body, intune_scope);
    } catch (const IntuneUnavailable& e) {
        refused = true;
        found += std::string(e.what()).size();
    }
    require(refused);
    try {
        const std::string base = detail::read_endpoints_answer(body);
        require(base.rfind("https://", 0) == 0 && base.back() != '/');
        try {
            found += scepra::backend::http::parse_base_url(base, "Intune")
                         .host.size();  // what ScepActions does next
        } catch (const std::invalid_argument&) {
            require(false);
        }
    } catch (const IntuneUnavailable&) {
    }
    try {
        const IntuneAnswer answer = detail::read_action_answer("validateRequest", body, "fuzz-request-id");
        require(!answer.code.empty() && answer.code.size() <= 64 && is_alnum(answer.code));
        require(answer.description.size() <= 200 && all_in(answer.description, 0x20, 0x7e));
        require(answer.request_id == "fuzz-request-id");
        found += answer.code.size() + answer.description.size();
    } catch (const IntuneUnavailable&) {
    }
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
