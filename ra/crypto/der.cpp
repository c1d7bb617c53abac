// SPDX-License-Identifier: Apache-2.0
#include "crypto/der.hpp"

namespace scepra::crypto::der {

void append_tlv(Bytes& out, std::uint8_t tag, ByteView content) {
    out.push_back(tag);
    const size_t n = content.size();
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        int octets = 0;
        for (size_t v = n; v != 0; v >>= 8) {
            ++octets;
        }
        out.push_back(static_cast<std::uint8_t>(0x80 | octets));
        for (int i = octets - 1; i >= 0; --i) {
            out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
        }
    }
    out.insert(out.end(), content.begin(), content.end());
}

Bytes tlv(std::uint8_t tag, ByteView content) {
    Bytes out;
    out.reserve(content.size() + 6);
    append_tlv(out, tag, content);
    return out;
}

std::optional<std::uint8_t> Reader::peek_tag() const {
    if (m_rest.empty()) {
        return std::nullopt;
    }
    return m_rest[0];
}

std::optional<Element> Reader::next() {
    auto fail = [&]() -> std::optional<Element> {
        m_failed = true;
        m_rest = {};
        return std::nullopt;
    };
    if (m_rest.size() < 2 || (m_rest[0] & 0x1f) == 0x1f) {
        return fail();
    }
    size_t length = m_rest[1];
    size_t header = 2;
    if (length & 0x80) {
        const size_t octets = length & 0x7f;
        // 0x80 is BER's indefinite length; more than 4 length octets is never a certificate.
        if (octets == 0 || octets > 4 || m_rest.size() < 2 + octets) {
            return fail();
        }
        length = 0;
        for (size_t i = 0; i < octets; ++i) {
            length = (length << 8) | m_rest[2 + i];
        }
        header += octets;
    }
    if (m_rest.size() - header < length) {
        return fail();
    }
    Element e{m_rest[0], m_rest.first(header + length), m_rest.subspan(header, length)};
    m_rest = m_rest.subspan(header + length);
    return e;
}

std::optional<Element> Reader::expect(std::uint8_t tag) {
    auto tag_now = peek_tag();
    if (!tag_now || *tag_now != tag) {
        m_failed = true;
        return std::nullopt;
    }
    return next();
}

}  // namespace scepra::crypto::der
