// SPDX-License-Identifier: Apache-2.0
// GetCACaps text.
#include "scep/caps.hpp"

namespace scepra::scep {

std::string render_caps(const Capabilities& caps) {
    // Everything listed is enforced: POST is served, these digests verify and
    // sign, AES and 3DES decrypt and encrypt. Single DES is never advertised.
    std::string out = "POSTPKIOperation\r\nSHA-1\r\nSHA-256\r\nSHA-512\r\nAES\r\nDES3\r\nSCEPStandard\r\n";
    if (caps.renewal) {
        out += "Renewal\r\n";
    }
    if (caps.get_next_ca_cert) {
        out += "GetNextCACert\r\n";
    }
    return out;
}

}  // namespace scepra::scep
