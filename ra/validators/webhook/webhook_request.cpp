// SPDX-License-Identifier: Apache-2.0
// The policy webhook's request body (see webhook_request.hpp).
#include "validators/webhook/webhook_request.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "common/bytes.hpp"
#include "common/json.hpp"
#include "crypto/alt_names.hpp"
#include "crypto/digest.hpp"
#include "crypto/handles.hpp"
#include "http/base64.hpp"

namespace scepra::validators::webhook {

namespace {

std::string bytes_text(const ASN1_STRING& s) {
    const int len = ASN1_STRING_length(&s);
    return len <= 0 ? std::string()
                    : std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(&s)),
                                  static_cast<size_t>(len));
}

std::optional<std::string> ip_text(const ASN1_OCTET_STRING& ip) {
    const int len = ASN1_STRING_length(&ip);
    char buf[INET6_ADDRSTRLEN] = {};
    if (len != 4 && len != 16) {
        return std::nullopt;  // a name constraint's address/mask, not an address
    }
    if (inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(&ip), buf, sizeof buf) == nullptr) {
        return std::nullopt;
    }
    return std::string(buf);
}

/// {"type": ..., "value": ...} of one subjectAltName entry, or nullopt for a
/// type the webhook has no name for.
std::optional<std::string> alt_name_json(const GENERAL_NAME& name) {
    std::string type;
    std::optional<std::string> value;
    switch (name.type) {
        case GEN_DNS:
            type = "dns", value = bytes_text(*name.d.dNSName);
            break;
        case GEN_EMAIL:
            type = "email", value = bytes_text(*name.d.rfc822Name);
            break;
        case GEN_URI:
            type = "uri", value = bytes_text(*name.d.uniformResourceIdentifier);
            break;
        case GEN_IPADD:
            type = "ip", value = ip_text(*name.d.iPAddress);
            break;
        case GEN_OTHERNAME: {
            const OTHERNAME& other = *name.d.otherName;
            if (OBJ_obj2nid(other.type_id) == NID_ms_upn && other.value != nullptr &&
                other.value->type == V_ASN1_UTF8STRING) {
                type = "upn", value = bytes_text(*other.value->value.utf8string);
            }
            break;
        }
        default:
            break;
    }
    if (!value) {
        return std::nullopt;
    }
    return JsonObject().add("type", type).add("value", *value).str();
}

std::string key_json(EVP_PKEY& key) {
    JsonObject out;
    const bool ec = EVP_PKEY_is_a(&key, "EC") == 1;
    if (EVP_PKEY_is_a(&key, "RSA") == 1) {
        out.add("type", "RSA");
    } else if (ec) {
        out.add("type", "EC");
    } else if (EVP_PKEY_is_a(&key, "ED25519") == 1) {
        out.add("type", "Ed25519");
    } else {
        const char* name = EVP_PKEY_get0_type_name(&key);
        out.add("type", name != nullptr ? name : "unknown");
    }
    out.add("bits", EVP_PKEY_get_bits(&key));
    char curve[80] = {};
    size_t len = 0;
    if (ec && EVP_PKEY_get_group_name(&key, curve, sizeof curve, &len) == 1) {
        out.add("curve", std::string(curve, len));
    } else {
        out.raw("curve", "null");
    }
    return out.str();
}

}  // namespace

std::string iso_time(TimePoint t) {
    std::string text = sql_time(t);
    text[10] = 'T';
    return text + "Z";
}

std::optional<std::string> webhook_request_body(const core::ChallengeRequest& request, TimePoint at,
                                                std::string* why) {
    const crypto::AltNames& sans = request.csr.alt_names();
    if (!sans.error.empty()) {
        *why = "the request's subjectAltName cannot be read (" + sans.error + ")";
        return std::nullopt;
    }
    std::string san_list;
    for (int i = 0; i < sans.count(); ++i) {
        auto entry = alt_name_json(sans.at(i));
        if (!entry) {
            *why = "the request names " + crypto::describe_alt_name(sans.at(i)) +
                   " in its subjectAltName, which the webhook cannot be shown (dns, email, ip, uri and upn "
                   "only)";
            return std::nullopt;
        }
        san_list += (san_list.empty() ? "" : ",") + *entry;
    }
    EVP_PKEY* key = request.csr.public_key();
    if (key == nullptr) {
        *why = "the request's public key cannot be read";
        return std::nullopt;
    }
    JsonObject body;
    body.add("transaction_id", request.transaction_id)
        .add("message_type", std::string(request.message_type))
        .add("challenge", request.csr.challenge_password())
        .add("csr", backend::http::base64_encode(request.csr.der()))
        .add("subject", request.csr.subject())
        .raw("sans", "[" + san_list + "]")
        .raw("key", key_json(*key))
        .add("template", request.template_name)
        .add("peer", std::string(request.peer))
        .add("renewal", request.renewal)
        .add("at", iso_time(at))
        .add("nonce", to_hex(crypto::random_bytes(16), false));
    return body.str();
}

}  // namespace scepra::validators::webhook
