// SPDX-License-Identifier: Apache-2.0
// A benchmark device: a SCEP client identity (scep/client_identity.hpp) named
// CN=common_name,O=scep-bench.
#pragma once

#include <string>

#include "scep/client_identity.hpp"

namespace scepra::bench {

using Identity = scep::ClientIdentity;

inline Identity make_identity(const crypto::KeySpec& spec, const std::string& common_name) {
    return scep::make_client_identity(spec, *scep::client_name(common_name, "scep-bench"));
}

inline crypto::X509ReqPtr make_csr(EVP_PKEY& key, const std::string& common_name,
                                   const std::string& challenge, const std::string& digest) {
    return scep::make_client_csr(key, *scep::client_name(common_name, "scep-bench"), challenge, digest);
}

}  // namespace scepra::bench
