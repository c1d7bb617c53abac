// SPDX-License-Identifier: Apache-2.0
// GetCACaps: the capabilities the server really has (RFC 8894 §3.5.2).
#pragma once

#include <string>

namespace scepra::scep {

struct Capabilities {
    bool renewal = false;  ///< only once RenewalReq is really served
    bool get_next_ca_cert = false;
};

/// One keyword per line, CRLF separated, in RFC 8894's spelling.
std::string render_caps(const Capabilities& caps);

}  // namespace scepra::scep
