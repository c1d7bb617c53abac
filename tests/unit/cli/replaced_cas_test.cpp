// SPDX-License-Identifier: Apache-2.0
// The CA certificates a remote CA replaced by a re-key: which are kept, how
// many, until when, and across a restart.
#include "cli/replaced_cas.hpp"

#include <doctest/doctest.h>
#include <openssl/x509v3.h>

#include <filesystem>

#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::test;

namespace {

const Ext ca_ext{NID_basic_constraints, "critical,CA:TRUE"};

crypto::X509Ptr ca(const std::string& subject, size_t key, int days = 30, long serial = 1) {
    return make_cert(subject, *pooled_client_key(key), nullptr, nullptr, {ca_ext}, days, serial);
}

TimePoint now() { return std::chrono::system_clock::now(); }

}  // namespace

TEST_CASE("a re-key under the same name keeps the replaced CA certificate; a file keeps it for a restart") {
    TempDir dir;
    const std::string file = cli::replaced_cas_file(dir.file("scep-ra.db")).string();
    cli::ReplacedCas replaced(file, now());
    auto old_ca = ca("CN=Issuing CA,O=Test", 0);
    auto new_ca = ca("CN=Issuing CA,O=Test", 1, 30, 2);
    auto line = replaced.note(*old_ca, *new_ca, now());
    REQUIRE(line);
    CHECK(line->find("re-keyed under the same name") != std::string::npos);
    CHECK(replaced.certificates().size() == 1);
    CHECK_FALSE(replaced.note(*old_ca, *new_ca, now()));  // once only

    cli::ReplacedCas restarted(file, now());
    REQUIRE(restarted.certificates().size() == 1);
    CHECK(X509_cmp(restarted.certificates()[0].get(), old_ca.get()) == 0);
}

TEST_CASE("the same key renewed, another CA's name, or an expired certificate is not kept") {
    TempDir dir;
    cli::ReplacedCas replaced(dir.file("replaced.pem"), now());
    auto current = ca("CN=Issuing CA,O=Test", 0);
    auto same_key_renewed = ca("CN=Issuing CA,O=Test", 0, 60, 7);
    CHECK_FALSE(replaced.note(*current, *same_key_renewed, now()));
    CHECK_FALSE(replaced.note(*ca("CN=Another CA,O=Test", 1), *current, now()));
    CHECK_FALSE(replaced.note(*ca("CN=Issuing CA,O=Test", 2), *current, now() + std::chrono::hours(24 * 40)));
    CHECK(replaced.certificates().empty());
    CHECK_FALSE(std::filesystem::exists(dir.file("replaced.pem")));
}

TEST_CASE("at most max_kept replaced CA certificates are kept, and each is dropped once it has expired") {
    TempDir dir;
    const std::string file = dir.file("replaced.pem");
    cli::ReplacedCas replaced(file, now());
    std::vector<crypto::X509Ptr> generations;
    for (size_t i = 0; i < cli::ReplacedCas::max_kept + 2; ++i) {
        generations.push_back(
            ca("CN=Issuing CA,O=Test", i, static_cast<int>(10 + i), static_cast<long>(i + 1)));
    }
    for (size_t i = 0; i + 1 < generations.size(); ++i) {
        REQUIRE(replaced.note(*generations[i], *generations[i + 1], now()));
    }
    auto kept = replaced.certificates();
    REQUIRE(kept.size() == cli::ReplacedCas::max_kept);
    CHECK(X509_cmp(kept.front().get(), generations[1].get()) == 0);  // the oldest went first

    // generations[1] is valid for 11 days, [2] for 12, ...: after 11.5 days the first has expired.
    const auto later = now() + std::chrono::hours(24 * 11 + 12);
    const auto dropped = replaced.drop_expired(later);
    CHECK(dropped.size() == 1);
    CHECK(replaced.certificates().size() == cli::ReplacedCas::max_kept - 1);
    CHECK(cli::ReplacedCas(file, later).certificates().size() == cli::ReplacedCas::max_kept - 1);
    CHECK(cli::ReplacedCas(file, now() + std::chrono::hours(24 * 100)).certificates().empty());
}
