// SPDX-License-Identifier: Apache-2.0
// The NTLM messages a client sends the admin page ("Authorization: NTLM
// <base64>", or NTLM inside Negotiate), once base64-decoded: the type check
// and the AUTHENTICATE reader (ra/http/ntlm.cpp), whose lengths and offsets
// are the client's to choose, then NTLMv2 verification of whatever it accepts
// against a fixed NT hash and server challenge (tests/fuzz/admin_seeds.py
// writes seeds that pass it). The reader's promises are checked: an accepted
// message is an AUTHENTICATE of at least 64 bytes, its NT response is at least
// a proof and a minimal blob and lies inside the message, and the names are
// printable ASCII. A broken promise aborts the run.
#include <algorithm>
#include <string>

#include "fuzz_input.hpp"
#include "http/ntlm.hpp"

namespace {

using namespace scepra;
using namespace scepra::http;

using scepra::fuzz::require;

bool printable_ascii(std::string_view text) { return fuzz::all_in(text, 0x20, 0x7e); }

// The NT hash and server challenge of tests/fuzz/admin_seeds.py.
const Bytes kNtHash(16, 0x4e);
const Bytes kServerChallenge{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView message = fuzz::input_bytes(data, size);
    const int type = ntlm::message_type(message);
    require(type >= 0 && type <= 3);
    require(size >= 12 || type == 0);

    std::string reason;
    const auto auth = ntlm::read_authenticate(message, reason);
    if (!auth) {
        require(!reason.empty());
        return 0;
    }
    require(type == 3 && size >= 64);
    require(auth->nt_response.size() >= 16 + 28);
    require(std::search(message.begin(), message.end(), auth->nt_response.begin(), auth->nt_response.end()) !=
            message.end());
    require(!auth->user.empty() && printable_ascii(auth->user) && printable_ascii(auth->domain));
    require(auth->user.size() <= size / 2 && auth->domain.size() <= size / 2);

    volatile bool verified = ntlm::verify_ntlmv2(*auth, kNtHash, kServerChallenge);
    (void)verified;
    // A hash or challenge of the wrong size never verifies.
    require(!ntlm::verify_ntlmv2(*auth, ByteView(kNtHash.data(), 15), kServerChallenge));
    require(!ntlm::verify_ntlmv2(*auth, kNtHash, ByteView(kServerChallenge.data(), 7)));
    // The MsvAvTargetName of the blob's AV pairs: printable ASCII, or "?" for a name that is not.
    if (const auto target = ntlm::target_name(*auth)) {
        require(*target == "?" || printable_ascii(*target));
        volatile bool http = ntlm::names_http_service(*target);
        (void)http;
    }
    return 0;
}
