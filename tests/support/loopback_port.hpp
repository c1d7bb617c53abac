// SPDX-License-Identifier: Apache-2.0
// A loopback port for tests that need one nothing answers on.
#pragma once

namespace scepra::test {

/// A loopback port nothing listens on (bound, then closed).
int closed_loopback_port();

}  // namespace scepra::test
