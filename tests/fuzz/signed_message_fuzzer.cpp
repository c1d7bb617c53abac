// SPDX-License-Identifier: Apache-2.0
// The pkiMessage parser and signer check: the first code every PKIOperation
// body reaches. Its contract (signed_message.hpp) is to throw DecodeError for
// anything it cannot use; ScepService catches only that around it, so any
// other exception, like any sanitizer report, is a finding.
#include "fuzz_input.hpp"
#include "scep/signed_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        scepra::scep::SignedMessage msg =
            scepra::scep::parse_signed_message(scepra::fuzz::input_bytes(data, size));
        // Touch what the service reads next, so lazily decoded parts are decoded.
        volatile std::size_t sink = msg.content.size() + msg.attrs.transaction_id.size() + msg.certs.size();
        (void)sink;
    } catch (const scepra::scep::DecodeError&) {
    }
    return 0;
}
