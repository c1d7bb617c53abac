// SPDX-License-Identifier: Apache-2.0
// config/scep-ra-adcs.conf, the sample for fronting a Microsoft CA: its
// settings pass `scep-ra check-config --skip-files`, and it says what an AD CS
// instance needs (backend adcs, the CRL for the renewal signer's status).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "cli/app_config.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"

using namespace scepra;

namespace {

const std::string sample = std::string(SCEPRA_SOURCE_DIR) + "/config/scep-ra-adcs.conf";

struct Run {
    int status = -1;
    std::string out, err;
};

Run check_config(const test::TempDir& dir, const std::string& config) {
    const std::string out = dir.file("out"), err = dir.file("err");
    const int raw = std::system((std::string(SCEPRA_BINARY) + " check-config --skip-files --config " +
                                 config + " >" + out + " 2>" + err + " </dev/null")
                                    .c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, crypto::read_file(out), crypto::read_file(err)};
}

}  // namespace

TEST_SUITE("http.adcs") {
    TEST_CASE("the AD CS sample configuration passes check-config --skip-files") {
        test::TempDir tmp;
        const Run r = check_config(tmp, sample);
        CHECK_MESSAGE(r.status == 0, r.err);
        CHECK(r.out.find("ok") != std::string::npos);
    }

    TEST_CASE("the AD CS sample selects the adcs backend with the CRL as the renewal signer's status") {
        const cli::AppConfig c = cli::load_config(sample, cli::FileCheck::skip);
        CHECK(c.backend == "adcs");
        CHECK(c.adcs.bridge_url == "https://127.0.0.1:8444");
        CHECK(c.adcs.chain_file.empty());
        CHECK(c.renewal.revocation == core::RevocationMode::crl);
        CHECK(c.database == std::filesystem::path("/var/lib/scep-ra/scep-ra.db"));
    }
}
