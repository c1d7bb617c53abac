// SPDX-License-Identifier: Apache-2.0
// The readers of a CRL fetched over plain HTTP for `[renewal] revocation = crl`
// (anyone on the path may answer): the DER/PEM reader, the signature check,
// the completeness check (deltaCRLIndicator, issuingDistributionPoint), the
// cRLNumber and ExpiredCertsOnCRL readers, and the serial look-up. Their
// contract: crl_from_bytes throws std::runtime_error; the others never throw.
#include <stdexcept>

#include "crypto/crl_distribution.hpp"
#include "crypto/encoding.hpp"
#include "fuzz_input.hpp"

namespace {

scepra::crypto::X509Ptr* g_issuer = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The seeds are signed by this key and name its subject (tests/fuzz/crl_seeds.py).
    static scepra::crypto::X509Ptr issuer =
        scepra::crypto::load_cert_file(scepra::fuzz::fuzz_source_file("fixtures/ra-encryption.pem"));
    g_issuer = &issuer;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    scepra::crypto::X509CrlPtr crl;
    try {
        crl = scepra::crypto::crl_from_bytes(scepra::fuzz::input_bytes(data, size));
    } catch (const std::runtime_error&) {
        return 0;
    }
    scepra::fuzz::require(crl != nullptr);
    std::size_t seen = scepra::crypto::crl_signed_by(*crl, **g_issuer) ? 1 : 0;
    if (auto why = scepra::crypto::incomplete_crl(*crl)) {
        seen += why->size();
    }
    if (auto number = scepra::crypto::crl_number(*crl)) {
        seen += static_cast<std::size_t>(ASN1_STRING_length(number.get()));
    }
    if (auto since = scepra::crypto::expired_certs_on_crl(*crl)) {
        seen += static_cast<std::size_t>(since->time_since_epoch().count() & 1);
    }
    seen += scepra::crypto::crl_lists(*crl, **g_issuer) ? 1 : 0;
    volatile std::size_t sink = seen;
    (void)sink;
    return 0;
}
