// SPDX-License-Identifier: Apache-2.0
// Boost.Program_options errors whose offending text holds Boost's own
// placeholder: what() would never return (found by the config fuzzer).
#include "cli/option_errors.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support/config_files.hpp"
#include "support/test_pki.hpp"
#include "support/text.hpp"

using namespace scepra;
namespace po = boost::program_options;
using test::contains;

TEST_SUITE("cli.option_errors") {
    TEST_CASE("a config line holding Boost's placeholder is a config error naming the line, not a hang") {
        test::TempDir dir;
        const std::string file = test::write_config_text(dir, "[server]\n%invalid_line% and more\n");
        const std::string error = test::config_error(file);
        CHECK(contains(error, file));
        CHECK(contains(error, "neither 'key = value' nor '[section]'"));
        CHECK(contains(error, "%invalid_line% and more"));
    }

    TEST_CASE("an option value holding Boost's placeholder names the option, not a hang") {
        po::invalid_option_value bad_value("%value% %canonical_option%");
        bad_value.set_option_name("password.PasswordLength");
        CHECK(cli::describe_option_error(bad_value) == "the value of 'password.PasswordLength' is not valid");

        po::multiple_occurrences twice;
        twice.set_option_name("%canonical_option%");
        CHECK(cli::describe_option_error(twice) == "'%canonical_option%' is given more than once");
    }

    TEST_CASE("the offending text is escaped and bounded") {
        const po::invalid_config_file_syntax line("bell\a" + std::string(500, 'x'),
                                                  po::invalid_syntax::unrecognized_line);
        const std::string message = cli::describe_option_error(line);
        CHECK(contains(message, "bell\\x07"));
        CHECK(message.size() < 200);
        CHECK(contains(message, "..."));
    }
}
