// SPDX-License-Identifier: Apache-2.0
// The pieces of the Prometheus text exposition format (version 0.0.4) that
// need care: escaped label values and HELP text, and sample values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scepra::metrics {

/// The media type a scraper expects for the text format.
inline constexpr const char* text_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// A label value between double quotes: backslash, double quote and line feed escaped.
std::string escape_label_value(std::string_view value);
/// HELP text: backslash and line feed escaped.
std::string escape_help(std::string_view text);
/// A sample value: shortest round-trip decimal, "+Inf", "-Inf" or "NaN".
std::string format_value(double value);
/// `{a="x",b="y"}` for these names and values (nothing when there are none);
/// extra is appended as one more pair (a histogram's `le`) when not empty.
std::string format_labels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                          std::string_view extra_name = {}, std::string_view extra_value = {});

}  // namespace scepra::metrics
