// SPDX-License-Identifier: Apache-2.0
// The machine's RSA private-key operation rate on all cores: the ceiling every report is compared with.
#pragma once

namespace scepra::bench {

struct Baseline {
    int rsa_bits = 0;
    unsigned threads = 0;
    double seconds = 0;
    double sign_ops_per_second = 0;  ///< all threads together
    /// An enrolment costs the server about three RSA private-key operations:
    /// decrypting the request envelope, signing the certificate, signing the CertRep.
    static constexpr double private_ops_per_enrolment = 3;
    double enrolment_limit() const { return sign_ops_per_second / private_ops_per_enrolment; }
};

/// `threads` threads each sign SHA-256 digests (PKCS#1 v1.5, EVP_PKEY_sign)
/// with their own copy of one fresh RSA key of `rsa_bits` for about `seconds`.
Baseline measure_rsa_sign_rate(int rsa_bits, unsigned threads, double seconds = 2.0);

}  // namespace scepra::bench
