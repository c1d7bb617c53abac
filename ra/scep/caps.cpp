// SPDX-License-Identifier: Apache-2.0
// GetCACaps text.
#include "scep/caps.hpp"

namespace scepra::scep {

std::string render_caps(const Capabilities& caps) {
    // Everything listed is served: POST, every digest the service verifies and
    // signs its reply with (SHA-224 and SHA-384 are not in RFC 8894's table,
    // but clients pick from them, spelled like the others), AES (128, 192 and
    // 256) and 3DES. Single DES is never advertised, even where it is allowed.
    std::string out =
        "POSTPKIOperation\r\nSHA-1\r\nSHA-224\r\nSHA-256\r\nSHA-384\r\nSHA-512\r\nAES\r\nDES3\r\n"
        "SCEPStandard\r\n";
    if (caps.renewal) {
        out += "Renewal\r\n";
    }
    if (caps.get_next_ca_cert) {
        out += "GetNextCACert\r\n";
    }
    return out;
}

}  // namespace scepra::scep
