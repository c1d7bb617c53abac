// SPDX-License-Identifier: Apache-2.0
#include "crypto/encoding.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "crypto/der.hpp"
#include "crypto/digest.hpp"
#include "crypto/openssl_error.hpp"

namespace scepra::crypto {

namespace {

BioPtr mem_bio(std::string_view data) {
    BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
    check(bio != nullptr, "BIO_new_mem_buf");
    return bio;
}

std::string bio_text(BIO& bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(&bio, &data);
    return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Bytes cert_der(const X509& cert) { return der_of(cert, i2d_X509); }

X509Ptr cert_from_der(ByteView der) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    check(cert != nullptr, "d2i_X509");
    return cert;
}

X509Ptr cert_from_exact_der(ByteView der) {
    const unsigned char* p = der.data();
    X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    check(cert != nullptr, "d2i_X509");
    check(p == der.data() + der.size(), "bytes after the certificate's DER");
    return cert;
}

bool signed_by(X509& issuer, X509& cert) {
    const bool ok =
        X509_check_issued(&issuer, &cert) == X509_V_OK && X509_verify(&cert, X509_get0_pubkey(&issuer)) == 1;
    ERR_clear_error();
    return ok;
}

std::string cert_pem(const X509& cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_X509(bio.get(), &cert) == 1, "PEM_write_bio_X509");
    return bio_text(*bio);
}

std::vector<X509Ptr> certs_from_pem(std::string_view pem) {
    auto bio = mem_bio(pem);
    std::vector<X509Ptr> out;
    while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        out.emplace_back(c);
    }
    ERR_clear_error();  // the loop ends on a "no start line" error
    if (out.empty()) {
        throw OpensslError("no PEM certificate found");
    }
    return out;
}

Bytes csr_der(const X509_REQ& csr) { return der_of(csr, i2d_X509_REQ); }

Bytes cms_der(const CMS_ContentInfo& cms) { return der_of(cms, i2d_CMS_ContentInfo); }

X509ReqPtr csr_from_der(ByteView der) {
    const unsigned char* p = der.data();
    X509ReqPtr csr(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
    check(csr != nullptr, "d2i_X509_REQ");
    return csr;
}

std::string key_pem(EVP_PKEY& key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    check(bio && PEM_write_bio_PrivateKey(bio.get(), &key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
    return bio_text(*bio);
}

EvpPkeyPtr key_from_pem(std::string_view pem) {
    auto bio = mem_bio(pem);
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    check(key != nullptr, "PEM_read_bio_PrivateKey");
    return key;
}

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::filesystem::path& file, std::string_view content, unsigned mode, bool overwrite) {
    if (!overwrite && std::filesystem::exists(file)) {
        throw std::runtime_error(file.string() + " already exists");
    }
    auto tmp = file;
    tmp += ".tmp";
    std::filesystem::remove(tmp);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0) {
        throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
    }
    ::fchmod(fd, static_cast<mode_t>(mode));  // umask must not widen or narrow what we asked for
    size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            int err = errno;
            ::close(fd);
            std::filesystem::remove(tmp);
            throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(err));
        }
        done += static_cast<size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    std::filesystem::rename(tmp, file);
}

X509Ptr load_cert_file(const std::filesystem::path& file) {
    std::string data = read_file(file);
    if (data.find("-----BEGIN") != std::string::npos) {
        return std::move(certs_from_pem(data).front());
    }
    return cert_from_der(as_bytes(data));
}

std::vector<X509Ptr> load_certs_file(const std::filesystem::path& file) {
    return certs_from_pem(read_file(file));
}

EvpPkeyPtr load_key_file(const std::filesystem::path& file) {
    try {
        return key_from_pem(read_file(file));
    } catch (const OpensslError& e) {
        throw OpensslError("cannot load private key " + file.string() + ": " + e.what());
    }
}

void save_key_file(const std::filesystem::path& file, EVP_PKEY& key, bool overwrite) {
    write_file(file, key_pem(key), 0600, overwrite);
}

void save_cert_file(const std::filesystem::path& file, const X509& cert, bool overwrite) {
    write_file(file, cert_pem(cert), 0644, overwrite);
}

Bytes spki_der(const X509_PUBKEY& key) { return der_of(key, i2d_X509_PUBKEY); }

Bytes spki_hash(const X509_PUBKEY& key) { return sha256(spki_der(key)); }

std::optional<std::string> utf8_text(const ASN1_STRING& s) {
    unsigned char* raw = nullptr;
    const int len = ASN1_STRING_to_UTF8(&raw, &s);
    OpensslBytesPtr utf8(raw);
    if (len < 0) {
        ERR_clear_error();
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(utf8.get()), static_cast<size_t>(len));
}

std::string name_string(const X509_NAME& name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    check(bio != nullptr, "BIO_new");
    X509_NAME_print_ex(bio.get(), &name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    return bio_text(*bio);
}

std::string serial_hex(const ASN1_INTEGER& serial) {
    BignumPtr bn(ASN1_INTEGER_to_BN(&serial, nullptr));
    check(bn != nullptr, "ASN1_INTEGER_to_BN");
    OpensslCharsPtr hex(BN_bn2hex(bn.get()));
    check(hex != nullptr, "BN_bn2hex");
    return std::string(hex.get());
}

std::string serial_hex(const X509& cert) { return serial_hex(*X509_get0_serialNumber(&cert)); }

std::string serial_hex_of_der(ByteView cert_der) {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, ...
    der::Reader outer(cert_der);
    auto cert = outer.expect(der::tag_sequence);
    der::Reader cert_fields(cert ? cert->content : ByteView{});
    auto tbs = cert_fields.expect(der::tag_sequence);
    der::Reader tbs_fields(tbs ? tbs->content : ByteView{});
    if (tbs_fields.peek_tag() == der::context(0)) {
        tbs_fields.next();
    }
    auto serial = tbs_fields.expect(der::tag_integer);
    if (!serial) {
        throw OpensslError("not a DER certificate: no serial number");
    }
    const unsigned char* p = serial->whole.data();
    Asn1IntegerPtr value(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(serial->whole.size())));
    check(value != nullptr, "d2i_ASN1_INTEGER");
    return serial_hex(*value);
}

}  // namespace scepra::crypto
