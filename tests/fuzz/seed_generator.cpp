// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpora of the fuzz targets from real messages, made with
// the project's SCEP client code and the test PKI: every request type, the
// ciphers and digests clients use, replies, degenerate PKCS#7, GET targets,
// and admin requests. (The configuration seeds are files written by hand
// and by `scep-ra init`.) Run once by hand; its output is
// committed (tests/fuzz/corpus/, tests/fuzz/fixtures/). The RA encryption
// identity it makes is the one the envelope target decrypts with.
//
//   fuzz_seed_generator SOURCE_DIR/tests/fuzz
#include <openssl/obj_mac.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "crypto/encoding.hpp"
#include "scep/cert_rep.hpp"
#include "scep/client.hpp"
#include "scep/degenerate.hpp"
#include "scep/envelope.hpp"
#include "scep/message_data.hpp"
#include "scep/next_ca.hpp"
#include "support/test_pki.hpp"

namespace fs = std::filesystem;
using namespace scepra;
using namespace scepra::scep;

namespace {

class SeedWriter {
  public:
    explicit SeedWriter(fs::path root) : m_root(std::move(root)) {}

    void add(const std::string& target, const std::string& name, ByteView bytes) {
        fs::create_directories(m_root / "corpus" / target);
        crypto::write_file(m_root / "corpus" / target / name, to_string(bytes), 0644, true);
    }
    void add(const std::string& target, const std::string& name, const std::string& text) {
        add(target, name, as_bytes(text));
    }
    const fs::path& root() const { return m_root; }

  private:
    fs::path m_root;
};

std::string base64(ByteView der) {
    // encode_get_message percent-escapes '+', '/' and '='; the admin header wants plain base64.
    std::string escaped = encode_get_message(der);
    std::string plain;
    for (std::size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '%' && i + 2 < escaped.size()) {
            plain += static_cast<char>(std::stoi(escaped.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            plain += escaped[i];
        }
    }
    return plain;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_seed_generator TESTS_FUZZ_DIR\n";
        return 2;
    }
    SeedWriter seeds(argv[1]);
    enable_legacy_ciphers();
    const TimePoint now = std::chrono::system_clock::now();

    // The RA identity the envelope target decrypts with (a throwaway test key).
    const test::TestPki pki = test::make_test_pki();
    fs::create_directories(seeds.root() / "fixtures");
    crypto::save_key_file(seeds.root() / "fixtures/ra-encryption.key", *pki.ra_enc_key, true);
    crypto::save_cert_file(seeds.root() / "fixtures/ra-encryption.pem", *pki.ra_enc_cert, true);

    crypto::EvpPkeyPtr device_key = test::make_key(2048);
    crypto::X509Ptr self_signed = test::make_cert("CN=router1,O=Example", *device_key, nullptr, nullptr, {});
    crypto::X509Ptr issued =
        test::make_cert("CN=router1,O=Example", *device_key, pki.ca_cert.get(), pki.ca_key.get(),
                        {{NID_key_usage, "critical,digitalSignature"}}, 365, 42);

    // CSRs: RSA with a challenge and SAN, EC, no challenge, key usage extensions.
    crypto::X509ReqPtr csr =
        test::make_csr(*device_key, "CN=router1,O=Example", "3F9A0C1E77D24B58",
                       {{NID_subject_alt_name, "DNS:router1.example.com,email:a@example.com"}});
    crypto::EvpPkeyPtr ec_key = test::make_key(0, true);
    crypto::X509ReqPtr ec_csr = test::make_csr(*ec_key, "CN=phone,OU=Devices,C=DE", "",
                                               {{NID_key_usage, "critical,keyEncipherment"}});
    crypto::X509ReqPtr plain_csr = test::make_csr(*device_key, "CN=plain");
    seeds.add("csr", "rsa-challenge-san.der", crypto::csr_der(*csr));
    seeds.add("csr", "ec-keyusage.der", crypto::csr_der(*ec_csr));
    seeds.add("csr", "rsa-plain.der", crypto::csr_der(*plain_csr));

    // IssuerAndSerialNumber (GetCert, GetCRL) and IssuerAndSubject (CertPoll).
    const Bytes ias = issuer_and_serial_der(*issued);
    const Bytes ias_ca = issuer_and_serial_der(*pki.ca_cert);
    const Bytes isub =
        issuer_and_subject_der(*X509_get_issuer_name(issued.get()), *X509_get_subject_name(issued.get()));
    seeds.add("issuer_and_serial", "issued.der", ias);
    seeds.add("issuer_and_serial", "ca.der", ias_ca);
    seeds.add("issuer_and_serial", "issuer-and-subject.der", isub);

    // pkiMessages: every request type, the ciphers and digests real clients use.
    struct Request {
        std::string name;
        MessageType type;
        Bytes data;
        std::string cipher, digest;
        bool oaep;
        X509* signer_cert;
    };
    const std::vector<Request> requests = {
        {"pkcsreq-aes128-sha256", MessageType::pkcs_req, crypto::csr_der(*csr), "AES-128-CBC", "SHA256",
         false, self_signed.get()},
        {"pkcsreq-aes256-sha256-oaep", MessageType::pkcs_req, crypto::csr_der(*csr), "AES-256-CBC", "SHA256",
         true, self_signed.get()},
        {"pkcsreq-3des-sha1", MessageType::pkcs_req, crypto::csr_der(*csr), "DES-EDE3-CBC", "SHA1", false,
         self_signed.get()},
        {"pkcsreq-des-sha1", MessageType::pkcs_req, crypto::csr_der(*csr), "DES-CBC", "SHA1", false,
         self_signed.get()},
        {"pkcsreq-aes128-sha512", MessageType::pkcs_req, crypto::csr_der(*plain_csr), "AES-128-CBC", "SHA512",
         false, self_signed.get()},
        {"renewalreq-aes128-sha256", MessageType::renewal_req, crypto::csr_der(*csr), "AES-128-CBC", "SHA256",
         false, issued.get()},
        {"getcertinitial-aes128-sha256", MessageType::cert_poll, isub, "AES-128-CBC", "SHA256", false,
         self_signed.get()},
        {"getcert-3des-sha1", MessageType::get_cert, ias, "DES-EDE3-CBC", "SHA1", false, issued.get()},
        {"getcrl-aes256-sha256", MessageType::get_crl, ias_ca, "AES-256-CBC", "SHA256", false, issued.get()},
    };
    for (const Request& r : requests) {
        Signer signer{*r.signer_cert, *device_key, r.digest};
        const Bytes der = build_pki_request({r.type, "TX-" + r.name, Bytes(16, 0x11)}, r.data,
                                            *pki.ra_enc_cert, {r.cipher, r.oaep}, signer, now);
        seeds.add("signed_message", r.name + ".der", der);
        seeds.add("envelope", r.name + ".der", seal_envelope(r.data, *pki.ra_enc_cert, {r.cipher, r.oaep}));
        seeds.add("get_message", r.name + ".txt",
                  "/certsrv/mscep/mscep.dll?operation=PKIOperation&message=" + encode_get_message(der));
    }

    // Replies (also pkiMessages, read by clients) and degenerate PKCS#7.
    const Signer ra_signer{*pki.ra_sign_cert, *pki.ra_sign_key, "SHA256", {pki.ca_cert.get()}};
    const Bytes chain = make_degenerate({issued.get(), pki.ca_cert.get()});
    seeds.add("signed_message", "certrep-success.der",
              make_cert_rep_success({"TX-1", Bytes(16, 7)}, ra_signer, chain, *self_signed,
                                    {"AES-128-CBC", false}, now));
    seeds.add("signed_message", "certrep-failure.der",
              make_cert_rep_failure({"TX-1", Bytes(16, 7)}, ra_signer, FailInfo::bad_request,
                                    "wrong password", now));
    seeds.add("signed_message", "certrep-pending.der",
              make_cert_rep_pending({"TX-1", Bytes(16, 7)}, ra_signer, now));
    seeds.add("degenerate", "getcacert-ra-ca.der",
              make_degenerate({pki.ra_sign_cert.get(), pki.ra_enc_cert.get(), pki.ca_cert.get()}));
    seeds.add("degenerate", "certrep-chain.der", chain);
    seeds.add("degenerate", "next-ca.der",
              make_next_ca_response({pki.ra_sign_cert.get(), pki.ca_cert.get()}, *pki.ca_cert, *pki.ca_key));
    seeds.add("degenerate", "single-cert.der", make_degenerate({pki.ca_cert.get()}));

    // GET targets beside PKIOperation, as certmonger and Windows send them.
    seeds.add("get_message", "getcacert.txt", "/certsrv/mscep/mscep.dll?operation=GetCACert&message=0");
    seeds.add("get_message", "getcacaps.txt", "/cgi-bin/pkiclient.exe?operation=GetCACaps&message=ca");
    seeds.add("get_message", "pkiclient-encoded.txt",
              "/certsrv/mscep/mscep.dll/pkiclient.exe?operation=PKIOperation&message=MIIB%2Bg%3D%3D%0A");

    // Admin requests: "Authorization\ntarget[\nAccept]".
    const std::string good = "Basic " + base64(as_bytes("fuzz-admin:fuzz-admin-password"));
    seeds.add("admin_request", "html.txt", good + "\n/certsrv/mscep_admin/");
    seeds.add("admin_request", "json-bound.txt",
              good +
                  "\n/certsrv/mscep_admin/?subject=router-*.example.com&template=IPSECIntermediateOffline"
                  "&validity=30&format=json\napplication/json");
    seeds.add("admin_request", "bad-validity.txt", good + "\n/certsrv/mscep_admin/default.asp?validity=0");
    seeds.add("admin_request", "wrong-password.txt",
              "basic " + base64(as_bytes("fuzz-admin:nope")) + "\n/CertSrv/mscep_admin");
    seeds.add("admin_request", "no-colon.txt",
              "Basic " + base64(as_bytes("fuzz-admin")) + "\n/certsrv/mscep_admin/");

    std::cout << "seeds written under " << seeds.root() << "\n";
    return 0;
}
