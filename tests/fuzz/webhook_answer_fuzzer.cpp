// SPDX-License-Identifier: Apache-2.0
// The policy webhook's answer reader (ra/validators/webhook/webhook_answer.hpp,
// read_webhook_answer) and its audit_text on the raw body. The contract is
// BadWebhookAnswer only (the verifier refuses the request on it), and the
// reason kept is printable ASCII of at most max_reason_chars plus "..."
// (checked below; a broken promise aborts the run as a finding).
#include <string>

#include "fuzz_input.hpp"
#include "validators/webhook/webhook_answer.hpp"

namespace {

using namespace scepra::validators::webhook;

using scepra::fuzz::require;

void check_printable(const std::string& text, std::size_t max_chars) {
    require(text.size() <= max_chars + 3 && scepra::fuzz::all_in(text, 0x20, 0x7e));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    std::size_t found = 0;
    try {
        const WebhookDecision decision = read_webhook_answer(body);
        check_printable(decision.reason, max_reason_chars);
        found += decision.reason.size() + (decision.allow ? 1 : 0);
    } catch (const BadWebhookAnswer& e) {
        found += std::string(e.what()).size();
    }
    const std::string safe = audit_text(body, 64);
    check_printable(safe, 64);
    found += safe.size();
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
