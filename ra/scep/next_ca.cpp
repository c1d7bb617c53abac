// SPDX-License-Identifier: Apache-2.0
// Building and checking GetNextCACert responses.
#include "scep/next_ca.hpp"

#include <openssl/err.h>

#include "crypto/encoding.hpp"
#include "crypto/openssl_error.hpp"
#include "scep/degenerate.hpp"
#include "scep/types.hpp"

namespace scepra::scep {

Bytes make_next_ca_response(const std::vector<X509*>& next_certs, X509& signer, EVP_PKEY& key,
                            const std::vector<X509*>& signer_chain) {
    Bytes content = make_degenerate(next_certs);
    crypto::BioPtr in(BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    crypto::X509StackPtr chain(sk_X509_new_null());
    crypto::check(chain != nullptr, "sk_X509_new_null");
    for (X509* cert : signer_chain) {
        crypto::X509Ptr ref = crypto::up_ref(*cert);
        crypto::check(sk_X509_push(chain.get(), ref.get()) > 0, "sk_X509_push");
        ref.release();  // the stack owns it now
    }
    crypto::CmsPtr cms(CMS_sign(&signer, &key, chain.get(), in.get(), CMS_BINARY | CMS_NOSMIMECAP));
    crypto::check(cms != nullptr, "CMS_sign (GetNextCACert)");
    return crypto::cms_der(*cms);
}

std::vector<crypto::X509Ptr> read_next_ca_response(ByteView der, X509& current_ca) {
    const unsigned char* p = der.data();
    crypto::CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
    if (!cms) {
        ERR_clear_error();
        throw DecodeError("GetNextCACert response is not CMS");
    }
    crypto::X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), &current_ca);
    crypto::BioPtr out(BIO_new(BIO_s_mem()));
    if (CMS_verify(cms.get(), nullptr, store.get(), nullptr, out.get(), CMS_BINARY) != 1) {
        ERR_clear_error();
        throw DecodeError("GetNextCACert response is not signed by the current CA");
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    return parse_degenerate(ByteView(reinterpret_cast<const std::uint8_t*>(data), static_cast<size_t>(len)));
}

}  // namespace scepra::scep
