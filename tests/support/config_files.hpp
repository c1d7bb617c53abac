// SPDX-License-Identifier: Apache-2.0
// Configuration files for the tests of load_config (cli_tests): `init`'s
// default text with a test's lines added, or a text of the test's own, and the
// ConfigError load_config reports for them.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "cli/app_config.hpp"
#include "crypto/encoding.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

namespace scepra::test {

/// DIR/scep-ra.conf: the text `init` writes for this backend, with `extra` appended. A [challenge]
/// section in extra takes the place of the written `[challenge] validator = local`.
inline std::string write_config(const TempDir& dir, const std::string& extra = "",
                                const std::string& backend = "local") {
    cli::InstanceLayout layout;
    layout.backend = backend;
    std::string text = cli::default_config_text("127.0.0.1:0", "", "", "", layout);
    if (extra.find("[challenge]") != std::string::npos) {
        const auto at = text.find("\nvalidator = local\n");
        REQUIRE(at != std::string::npos);
        text.erase(at + 1, std::string("validator = local\n").size());
    }
    const std::string file = dir.file("scep-ra.conf");
    std::ofstream(file) << text << extra;
    return file;
}

/// DIR/scep-ra.conf holding exactly text.
inline std::string write_config_text(const TempDir& dir, const std::string& text) {
    const std::string file = dir.file("scep-ra.conf");
    crypto::write_file(file, text, 0600, false);
    return file;
}

/// The message of the ConfigError load_config throws for file, or "" when it loads (into *loaded).
inline std::string config_error(const std::string& file, cli::FileCheck files = cli::FileCheck::skip,
                                cli::AppConfig* loaded = nullptr) {
    try {
        cli::AppConfig config = cli::load_config(file, files);
        if (loaded) *loaded = config;
    } catch (const cli::ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace scepra::test
