// SPDX-License-Identifier: Apache-2.0
#include "ejbca/username.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

#include "crypto/encoding.hpp"

namespace scepra::backend::ejbca {

namespace {

constexpr std::size_t max_username_bytes = 200;

UsernameRule rule_or_throw(const std::string& text) {
    if (text == "cn") return UsernameRule::cn;
    if (text == "cn+transaction") return UsernameRule::cn_transaction;
    if (text == "san-dns") return UsernameRule::san_dns;
    if (text == "san-email") return UsernameRule::san_email;
    throw std::invalid_argument("unknown EJBCA username rule '" + text +
                                "' (expected cn, cn+transaction, san-dns or san-email)");
}

std::optional<std::string> utf8_of(const ASN1_STRING* value) {
    return value ? crypto::utf8_text(*value) : std::nullopt;
}

std::optional<std::string> common_name(X509_REQ& csr) {
    const X509_NAME* subject = X509_REQ_get_subject_name(&csr);
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0) {
        return std::nullopt;
    }
    return utf8_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
}

std::optional<std::string> first_san(X509_REQ& csr, int type) {
    crypto::X509ExtensionStackPtr extensions(X509_REQ_get_extensions(&csr));
    if (!extensions) {
        return std::nullopt;
    }
    crypto::GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
        X509V3_get_d2i(extensions.get(), NID_subject_alt_name, nullptr, nullptr)));
    if (!names) {
        return std::nullopt;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
        if (name->type == type) {
            return utf8_of(name->d.ia5);  // dNSName and rfc822Name are both IA5Strings
        }
    }
    return std::nullopt;
}

bool valid_utf8(const std::string& text) {
    try {
        (void)nlohmann::json(text).dump();  // the serializer that will send it refuses invalid UTF-8
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

/// EJBCA files a username under another name when it holds one of these
/// (StringTools.stripUsername makes each a '/'; it trims spaces): "dev;1" and
/// "dev/1" would be one end entity, and a look-up by the name sent would miss.
constexpr std::string_view rewritten_by_ejbca = ";!%`?$~\\";

bool acceptable(const std::string& username) {
    if (username.empty() || username.size() > max_username_bytes || !valid_utf8(username)) {
        return false;
    }
    if (username.front() == ' ' || username.back() == ' ' ||
        username.find_first_of(rewritten_by_ejbca) != std::string::npos) {
        return false;
    }
    for (unsigned char c : username) {
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

}  // namespace

UsernameRule parse_username_rule(const std::string& text) { return rule_or_throw(text); }

std::string to_string(UsernameRule rule) {
    switch (rule) {
        case UsernameRule::cn:
            return "cn";
        case UsernameRule::cn_transaction:
            return "cn+transaction";
        case UsernameRule::san_dns:
            return "san-dns";
        case UsernameRule::san_email:
            return "san-email";
    }
    return "cn";
}

std::optional<std::string> username_for(UsernameRule rule, X509_REQ& csr, const std::string& transaction_id) {
    std::optional<std::string> username;
    switch (rule) {
        case UsernameRule::cn:
            username = common_name(csr);
            break;
        case UsernameRule::cn_transaction:
            username = common_name(csr);
            if (username) {
                if (transaction_id.empty()) {
                    return std::nullopt;
                }
                // '_' is not in a transactionID's alphabet (PrintableString):
                // the last one splits the name, so no two (CN, transactionID)
                // pairs share an end entity ("dev" + "a-T" and "dev-a" + "T" did).
                *username += "_" + transaction_id;
            }
            break;
        case UsernameRule::san_dns:
            username = first_san(csr, GEN_DNS);
            break;
        case UsernameRule::san_email:
            username = first_san(csr, GEN_EMAIL);
            break;
    }
    if (!username || !acceptable(*username)) {
        return std::nullopt;
    }
    return username;
}

}  // namespace scepra::backend::ejbca
