// SPDX-License-Identifier: Apache-2.0
// The envelope opener on the eContent of a pkiMessage. The RA identity is a
// fixed throwaway key and certificate committed next to this file (so that
// the seeds, encrypted to it, decrypt and reach the content cipher); it is
// loaded once. Single DES is allowed, as with allow_single_des = 1, so the
// legacy provider's code is reached too. ScepService handles ScepFailure and
// DecodeError from here; anything else is a finding.
#include "crypto/encoding.hpp"
#include "fuzz_input.hpp"
#include "scep/envelope.hpp"
#include "scep/types.hpp"

namespace {

struct RaIdentity {
    scepra::crypto::X509Ptr cert;
    scepra::crypto::EvpPkeyPtr key;
};

RaIdentity* g_ra = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static RaIdentity ra{
        scepra::crypto::load_cert_file(scepra::fuzz::fuzz_source_file("fixtures/ra-encryption.pem")),
        scepra::crypto::load_key_file(scepra::fuzz::fuzz_source_file("fixtures/ra-encryption.key"))};
    g_ra = &ra;
    scepra::scep::enable_legacy_ciphers();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<scepra::scep::Recipient> recipients{{*g_ra->cert, *g_ra->key}};
    try {
        scepra::scep::OpenedEnvelope opened = scepra::scep::open_envelope(
            scepra::fuzz::input_bytes(data, size), recipients, {.allow_single_des = true});
        volatile std::size_t sink = opened.content.size() + opened.algorithms.cipher.size();
        (void)sink;
    } catch (const scepra::scep::ScepFailure&) {
    } catch (const scepra::scep::DecodeError&) {
    }
    return 0;
}
