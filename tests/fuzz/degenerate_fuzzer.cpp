// SPDX-License-Identifier: Apache-2.0
// The readers of degenerate certificates-only SignedData (GetCACert replies,
// the content of CertRep SUCCESS, GetNextCACert): the DER walker that copies
// certificates without parsing them, the OpenSSL-based certificate reader and
// the CRL reader, on the same input. Their contract is DecodeError.
#include "fuzz_input.hpp"
#include "scep/degenerate.hpp"
#include "scep/types.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const scepra::ByteView der = scepra::fuzz::input_bytes(data, size);
    std::size_t found = 0;
    try {
        for (const scepra::Bytes& cert : scepra::scep::degenerate_cert_ders(der)) {
            found += cert.size();
        }
    } catch (const scepra::scep::DecodeError&) {
    }
    try {
        found += scepra::scep::parse_degenerate(der).size();
    } catch (const scepra::scep::DecodeError&) {
    }
    try {
        found += scepra::scep::parse_degenerate_crls(der).size();
    } catch (const scepra::scep::DecodeError&) {
    }
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
