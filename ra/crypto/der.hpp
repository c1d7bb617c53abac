// SPDX-License-Identifier: Apache-2.0
// Just enough DER to move certificates around without parsing them.
// OpenSSL 3.0 decodes the public key of every certificate it parses through
// its provider decoders, which costs more than an RSA signature; the request
// path therefore handles issued certificates as DER and only walks them.
#pragma once

#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace scepra::crypto::der {

constexpr std::uint8_t tag_integer = 0x02;
constexpr std::uint8_t tag_oid = 0x06;
constexpr std::uint8_t tag_sequence = 0x30;
constexpr std::uint8_t tag_set = 0x31;
/// [n] IMPLICIT/EXPLICIT, constructed.
constexpr std::uint8_t context(int n) { return static_cast<std::uint8_t>(0xa0 | n); }

/// Appends one tag-length-value with a definite (DER) length.
void append_tlv(Bytes& out, std::uint8_t tag, ByteView content);
Bytes tlv(std::uint8_t tag, ByteView content);

/// One element: its tag (single-byte tags only), its whole encoding and its content.
struct Element {
    std::uint8_t tag = 0;
    ByteView whole;
    ByteView content;
};

/// Reads consecutive elements of a DER buffer. Indefinite lengths, multi-byte
/// tags and lengths past the end are errors (next() returns nullopt and sets failed()).
class Reader {
  public:
    explicit Reader(ByteView der) : m_rest(der) {}
    std::optional<Element> next();
    /// The next element, which must have this tag.
    std::optional<Element> expect(std::uint8_t tag);
    std::optional<std::uint8_t> peek_tag() const;
    bool at_end() const { return m_rest.empty(); }
    bool failed() const { return m_failed; }

  private:
    ByteView m_rest;
    bool m_failed = false;
};

}  // namespace scepra::crypto::der
