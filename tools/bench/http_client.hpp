// SPDX-License-Identifier: Apache-2.0
// One configured keep-alive cpp-httplib client per connection.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "bench/target_url.hpp"

namespace scepra::bench {

/// A keep-alive client with Nagle off, no compression and 30 s timeouts.
std::unique_ptr<httplib::Client> make_client(const TargetUrl& target);

/// "connection: Read" etc. for a request that got no HTTP response.
std::string transport_error(const httplib::Result& result);

/// GETs path?operation=OP; throws std::runtime_error unless HTTP 200.
httplib::Response get_operation(httplib::Client& client, const TargetUrl& target,
                                const std::string& operation);

}  // namespace scepra::bench
