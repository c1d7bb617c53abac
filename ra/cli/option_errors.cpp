// SPDX-License-Identifier: Apache-2.0
#include "cli/option_errors.hpp"

#include "common/utf8.hpp"

namespace scepra::cli {

namespace po = boost::program_options;

namespace {

constexpr std::size_t max_quoted = 120;

std::string quoted(const std::string& text) {
    std::string shown = escape_for_terminal(text.substr(0, max_quoted));
    if (text.size() > max_quoted) shown += "...";
    return "'" + shown + "'";
}

}  // namespace

std::string describe_option_error(const po::error& e) {
    if (const auto* line = dynamic_cast<const po::invalid_config_file_syntax*>(&e)) {
        return "a line that is neither 'key = value' nor '[section]': " + quoted(line->tokens());
    }
    const auto* named = dynamic_cast<const po::error_with_option_name*>(&e);
    if (named == nullptr) {
        return e.what();  // no text of the input in it: plain std::logic_error
    }
    const std::string name = quoted(named->get_option_name());
    if (dynamic_cast<const po::unknown_option*>(&e)) return "unknown option " + name;
    if (dynamic_cast<const po::ambiguous_option*>(&e)) return "ambiguous option " + name;
    if (dynamic_cast<const po::multiple_occurrences*>(&e)) return name + " is given more than once";
    if (dynamic_cast<const po::multiple_values*>(&e)) return name + " takes one value only";
    if (dynamic_cast<const po::required_option*>(&e)) return name + " is required";
    if (dynamic_cast<const po::validation_error*>(&e)) return "the value of " + name + " is not valid";
    if (dynamic_cast<const po::invalid_syntax*>(&e)) return name + " is not written as an option";
    return name + " is not accepted";
}

}  // namespace scepra::cli
