// SPDX-License-Identifier: Apache-2.0
// NTLM authentication for the admin page, server side, NTLMv2 only
// ([MS-NLMP]): the CHALLENGE message, reading NEGOTIATE and AUTHENTICATE,
// verifying an NTLMv2 response, and the NT hash it needs (kept sealed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.hpp"

namespace scepra::http::ntlm {

/// MD4 of the UTF-16LE password ([MS-NLMP] NTOWFv1), the secret NTLMv2 is
/// keyed with. MD4 comes from OpenSSL's legacy provider, loaded into a
/// library context of this call's own (the process default stays as it is).
/// Invalid UTF-8 counts as U+FFFD, as to_utf16le converts it.
Bytes nt_hash(std::string_view password);

/// The NT hash is password-equivalent: stored sealed (AES-256-GCM, the
/// account name as associated data) under a key derived from key_material.
Bytes seal_nt_hash(ByteView key_material, const std::string& account, ByteView nt_hash);
/// nullopt when the box was not sealed for this account under this key.
std::optional<Bytes> open_nt_hash(ByteView key_material, const std::string& account, ByteView sealed);

/// Standard base64 of a message, for "WWW-Authenticate: NTLM <token>".
std::string base64(ByteView message);

/// Message type of a decoded "NTLM <base64>" token: 1, 2, 3, or 0 when it is
/// not an NTLMSSP message at all.
int message_type(ByteView message);

/// The CHALLENGE (type 2) message for this server challenge (8 bytes):
/// Unicode, NTLM, extended session security, target info (so that clients
/// answer NTLMv2).
Bytes challenge_message(ByteView server_challenge, const std::string& target_name);

/// The parts of an AUTHENTICATE (type 3) message NTLMv2 verification needs.
struct Authenticate {
    std::string user;    ///< as sent (UTF-16LE decoded; ASCII only)
    std::string domain;  ///< as sent, may be empty
    Bytes nt_response;   ///< NTProofStr (16) followed by the client blob
};

/// Reads an AUTHENTICATE message; nullopt (with the reason) for anything
/// malformed, out of bounds, not Unicode, non-ASCII names, or an NTLMv1/LM-only
/// answer (an NT response of 24 bytes or less).
std::optional<Authenticate> read_authenticate(ByteView message, std::string& reason);

/// NTLMv2: HMAC-MD5 over the server challenge and the blob, keyed with
/// NTOWFv2(nt_hash, user, domain), equals the NTProofStr (constant time).
bool verify_ntlmv2(const Authenticate& auth, ByteView nt_hash, ByteView server_challenge);

/// The service the client meant to log in to: the MsvAvTargetName of the
/// NTLMv2 blob's AV pairs ([MS-NLMP] 2.2.2.1), e.g. "HTTP/ndes.example.com",
/// which the NTProofStr covers, so a relay cannot change it. nullopt when
/// the client named none (or the pairs do not parse); a name that is not
/// ASCII comes back as "?".
std::optional<std::string> target_name(const Authenticate& auth);

/// Whether a target name is for an HTTP service ("HTTP/...", any case): an
/// NTLM login meant for a file share ("cifs/...") or anything else is one
/// relayed to the admin page.
bool names_http_service(std::string_view target_name);

/// The client side, for tests: an AUTHENTICATE with an NTLMv2 response to
/// this CHALLENGE message, naming `target` as MsvAvTargetName when not empty.
Bytes authenticate_message(ByteView challenge_message, const std::string& user, const std::string& domain,
                           std::string_view password, const std::string& target = "");

}  // namespace scepra::http::ntlm
