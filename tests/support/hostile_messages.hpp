// SPDX-License-Identifier: Apache-2.0
// Malformed and hostile SCEP messages for tests, built with plain OpenSSL
// calls and hand-written DER (independent of the codec under test): any
// attribute with any values, any eContentType, odd recipientInfos, odd CSRs.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "crypto/handles.hpp"

namespace scepra::test::hostile {

/// One value of an attribute: its ASN.1 universal type (V_ASN1_PRINTABLESTRING,
/// V_ASN1_OCTET_STRING, V_ASN1_INTEGER, V_ASN1_GENERALIZEDTIME, ...) and content octets.
struct AttrValue {
    int type = 0;
    Bytes content;
};
AttrValue printable(std::string_view text);
AttrValue octets(ByteView data);

/// An attribute with any number of values (zero gives an empty SET).
struct Attribute {
    std::string oid;
    std::vector<AttrValue> values;
};

/// messageType, transactionID (PrintableString) and senderNonce, one value each.
std::vector<Attribute> request_attributes(int message_type, const std::string& transaction_id,
                                          const Bytes& sender_nonce = Bytes(16, 0x5a));

struct RawMessage {
    std::vector<Attribute> attributes;                   ///< signed attributes besides CMS's own
    Bytes content;                                       ///< the eContent (normally the pkcsPKIEnvelope)
    std::string econtent_type = "1.2.840.113549.1.7.1";  ///< id-data
    bool signer_by_key_id = false;  ///< SignerIdentifier = subjectKeyIdentifier (the cert needs one)
};

/// A SignedData signed with SHA-256 by cert/key, carrying cert, with exactly
/// these attributes plus CMS's contentType, messageDigest and (unless given) signingTime.
Bytes sign_raw(const RawMessage& message, X509& cert, EVP_PKEY& key);

/// An AES-128-CBC EnvelopedData of content: key transport to each of
/// ktri_recipients (key agreement for an EC certificate), plus a kekri (a
/// symmetric key-encryption key nobody else has) when with_kekri.
Bytes envelope(ByteView content, const std::vector<X509*>& ktri_recipients, bool with_kekri = false);

/// A ContentInfo of this type (NID_pkcs7_enveloped, NID_pkcs7_signed) without
/// its [0] content: 13 bytes, valid BER that OpenSSL's PKCS7 decoder accepts.
Bytes bare_content_info(int type_nid);

/// A signed PKCS#10 whose attributes are exactly these.
Bytes csr_with_attributes(EVP_PKEY& key, const std::string& common_name,
                          const std::vector<Attribute>& attributes);

/// A PKCS#10's DER with its subjectPublicKeyInfo algorithm changed to an OID
/// nobody knows (1.2.840.113549.1.1.127): it still decodes, the key does not.
Bytes with_unknown_key_algorithm(Bytes csr_der);

/// A CertificationRequest without a subjectPublicKeyInfo.
Bytes csr_without_public_key();

}  // namespace scepra::test::hostile
