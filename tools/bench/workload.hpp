// SPDX-License-Identifier: Apache-2.0
// What the load loop sends and how it judges each reply: one interface, one implementation per mode.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <string>

namespace scepra::bench {

/// The verdict on one reply.
struct Outcome {
    bool success = false;
    std::string failure;    ///< reason when not success: a failInfo name, "HTTP 500", "bad signature", ...
    bool verified = false;  ///< the issued certificate was decrypted and checked
    std::string serial;     ///< its serial (hex) when verified
};

class Workload {
  public:
    virtual ~Workload() = default;
    /// Requests prepared (the most the loop will send).
    virtual size_t size() const = 0;
    /// Sends request i on this thread's client. Called concurrently for different i.
    virtual httplib::Result send(httplib::Client& client, size_t i) const = 0;
    /// Judges the HTTP reply to request i. Called concurrently for different i.
    virtual Outcome check(size_t i, const httplib::Response& reply) const = 0;
};

}  // namespace scepra::bench
