// SPDX-License-Identifier: Apache-2.0
#include "crypto/openssl_error.hpp"

#include <openssl/err.h>

namespace scepra::crypto {

namespace {
std::string drain_queue() {
    std::string out;
    unsigned long code = 0;
    while ((code = ERR_get_error()) != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        if (!out.empty()) {
            out += "; ";
        }
        out += buf;
    }
    return out;
}
}  // namespace

OpensslError::OpensslError(const std::string& what)
    : std::runtime_error([&] {
          std::string queue = drain_queue();
          return queue.empty() ? what : what + ": " + queue;
      }()) {}

}  // namespace scepra::crypto
