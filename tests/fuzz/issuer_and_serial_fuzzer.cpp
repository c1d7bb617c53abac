// SPDX-License-Identifier: Apache-2.0
// The messageData of GetCert and GetCRL: IssuerAndSerialNumber. Its contract
// is ScepFailure(badRequest) for anything else.
#include "fuzz_input.hpp"
#include "scep/message_data.hpp"
#include "scep/types.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        scepra::scep::IssuerAndSerial ias =
            scepra::scep::parse_issuer_and_serial(scepra::fuzz::input_bytes(data, size));
        volatile std::size_t sink = ias.issuer.size() + ias.serial_hex.size();
        (void)sink;
    } catch (const scepra::scep::ScepFailure&) {
    }
    return 0;
}
