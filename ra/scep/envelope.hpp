// SPDX-License-Identifier: Apache-2.0
// The pkcsPKIEnvelope: CMS EnvelopedData around the messageData (RFC 8894 §3.2.2).
#pragma once

#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::scep {

/// Content-encryption algorithms the RA accepts.
struct CipherPolicy {
    /// Single DES is forbidden by RFC 8894 §2.9 but still the only cipher of
    /// some legacy clients (micromdm scepclient). Off unless the operator
    /// enables it; needs OpenSSL's legacy provider.
    bool allow_single_des = false;
};

/// How the client encrypted its request; the reply mirrors it.
struct EnvelopeAlgorithms {
    std::string cipher;  ///< OpenSSL cipher name, e.g. "AES-128-CBC", "DES-EDE3-CBC", "DES-CBC"
    bool oaep = false;   ///< key transport was RSAES-OAEP rather than PKCS#1 v1.5
};

/// A private key and the certificate that identifies it as a recipient.
struct Recipient {
    X509& cert;
    EVP_PKEY& key;
};

struct OpenedEnvelope {
    Bytes content;
    EnvelopeAlgorithms algorithms;
};

/// Decrypts an envelope addressed (among possibly several recipientInfos) to
/// one of the given recipients. Throws ScepFailure: badAlg for a cipher the
/// policy refuses or OpenSSL lacks, badCertId when no recipientInfo names one
/// of our certificates, badMessageCheck when decryption fails.
OpenedEnvelope open_envelope(ByteView der, const std::vector<Recipient>& recipients,
                             const CipherPolicy& policy);

/// Encrypts content to one certificate: RSA key transport (PKCS#1 v1.5, or
/// OAEP when asked) or, to an EC key, key agreement.
Bytes seal_envelope(ByteView content, X509& recipient, const EnvelopeAlgorithms& algorithms);

/// Throws ScepFailure(badAlg) when no reply can be sealed to `recipient` (an
/// RSA-PSS, Ed25519 or DSA key): checked before a request is acted on, so that
/// nothing is issued or used up for a device that could never read the answer.
void check_sealable(X509& recipient, const EnvelopeAlgorithms& algorithms);

/// The cipher a reply uses for a request that used `request_cipher`: the same,
/// except that single DES is answered with triple DES (RFC 8894 forbids DES,
/// and OpenSSL 3 clients cannot decrypt it without the legacy provider).
std::string reply_cipher_for(const std::string& request_cipher);

/// Loads OpenSSL's legacy provider (for single DES) next to the default one.
/// Idempotent; throws when the provider is missing.
void enable_legacy_ciphers();

}  // namespace scepra::scep
