// SPDX-License-Identifier: Apache-2.0
// The PKCS#10 reader, on the decrypted content of a PKCSReq/RenewalReq
// (attacker-chosen: anyone can encrypt to the RA certificate). Its contract
// is ScepFailure(badRequest) for anything that is not a CSR.
#include "fuzz_input.hpp"
#include "scep/csr.hpp"
#include "scep/types.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        scepra::scep::Csr csr = scepra::scep::parse_csr(scepra::fuzz::input_bytes(data, size));
        volatile std::size_t sink = csr.subject().size() + csr.der().size() +
                                    csr.challenge_password().value_or("").size() + csr.common_names().size() +
                                    static_cast<std::size_t>(csr.alt_names().count());
        (void)sink;
    } catch (const scepra::scep::ScepFailure&) {
    }
    return 0;
}
