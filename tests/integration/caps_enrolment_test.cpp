// SPDX-License-Identifier: Apache-2.0
// GetCACaps against what the real server accepts: every advertised digest and
// cipher enrols a device, and nothing is advertised that the server refuses.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <sstream>

#include "crypto/encoding.hpp"
#include "integration/server_fixture.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

std::set<std::string> caps_of(ServerFixture& server) {
    auto res = server.client().Get(server.base_path() + "?operation=GetCACaps");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::set<std::string> out;
    std::istringstream lines(res->body);
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) out.insert(line);
    }
    return out;
}

/// Enrols a fresh device with this digest and cipher; the CertRep it gets.
scep::CertRepView enrol_with_algorithms(ServerFixture& server, const std::string& digest,
                                        const std::string& cipher, int n) {
    Device device(static_cast<size_t>(n % 3), "caps-" + std::to_string(n));
    auto csr = device.csr(server.password());
    auto req = scep::build_pki_request({scep::MessageType::pkcs_req, "TX-CAPS-" + std::to_string(n), {}},
                                       crypto::csr_der(*csr), server.ra_encryption_cert(), {cipher, false},
                                       device.signer(digest), std::chrono::system_clock::now());
    Reply reply = send_pki(server, req);
    REQUIRE(reply.http_status == 200);
    return scep::read_cert_rep(as_bytes(reply.body), server.ra_signing_cert(), device.recipient());
}

// GetCACaps keyword -> the OpenSSL names it stands for.
const std::map<std::string, std::string> kDigests = {{"SHA-1", "SHA1"},
                                                     {"SHA-224", "SHA224"},
                                                     {"SHA-256", "SHA256"},
                                                     {"SHA-384", "SHA384"},
                                                     {"SHA-512", "SHA512"}};
const std::map<std::string, std::vector<std::string>> kCiphers = {
    {"AES", {"AES-128-CBC", "AES-192-CBC", "AES-256-CBC"}}, {"DES3", {"DES-EDE3-CBC"}}};
const std::set<std::string> kOther = {"POSTPKIOperation", "SCEPStandard", "Renewal", "GetNextCACert"};

}  // namespace

TEST_SUITE("http.caps") {
    TEST_CASE("every digest and cipher GetCACaps advertises enrols a device") {
        ServerFixture server;
        const std::set<std::string> caps = caps_of(server);
        // Every digest the service accepts is listed, SHA-224 and SHA-384 too.
        // Not a structured binding: CAPTURE's lambda cannot capture one under clang 14.
        for (const auto& digest : kDigests) {
            const std::string& keyword = digest.first;
            CAPTURE(keyword);
            CHECK(caps.count(keyword) == 1);
        }
        int n = 0;
        for (const std::string& keyword : caps) {
            CAPTURE(keyword);
            if (auto digest = kDigests.find(keyword); digest != kDigests.end()) {
                const scep::CertRepView view =
                    enrol_with_algorithms(server, digest->second, "AES-128-CBC", ++n);
                CHECK(view.status == scep::PkiStatus::success);
                CHECK(view.signature_valid);
                CHECK_FALSE(view.certs.empty());  // the issued certificate (then the chain)
                // The reply is signed with the digest the request used.
                CHECK(view.digest == digest->second);
            } else if (auto cipher = kCiphers.find(keyword); cipher != kCiphers.end()) {
                for (const std::string& name : cipher->second) {
                    CAPTURE(name);
                    const scep::CertRepView view = enrol_with_algorithms(server, "SHA256", name, ++n);
                    CHECK(view.status == scep::PkiStatus::success);
                    CHECK_FALSE(view.certs.empty());  // the issued certificate (then the chain)
                    CHECK(view.algorithms.cipher == name);
                }
            } else {
                // Anything else must be a keyword this test knows to be served.
                CHECK(kOther.count(keyword) == 1);
            }
        }
        CHECK(caps.count("POSTPKIOperation") == 1);  // every enrolment above was a POST
    }

    TEST_CASE("a digest GetCACaps does not list is refused with badAlg") {
        ServerFixture server;
        const std::set<std::string> caps = caps_of(server);
        CHECK(caps.count("MD5") == 0);
        const scep::CertRepView view = enrol_with_algorithms(server, "MD5", "AES-128-CBC", 99);
        CHECK(view.status == scep::PkiStatus::failure);
        CHECK(view.fail_info == scep::FailInfo::bad_alg);
        CHECK(server.sql("SELECT count(*) FROM issued_certs WHERE subject LIKE '%caps-99%'") == "0");
    }
}
