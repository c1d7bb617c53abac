// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace scepra::test {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCEPRA_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SCEPRA_TEST_ASAN 1
#endif

/// True in an AddressSanitizer build (tools/run-sanitizers.sh): its shadow
/// memory and its quarantine of freed blocks make resident memory say nothing
/// about what the code itself holds, so memory bounds are checked only without it.
#ifdef SCEPRA_TEST_ASAN
inline constexpr bool built_with_address_sanitizer = true;
#else
inline constexpr bool built_with_address_sanitizer = false;
#endif

}  // namespace scepra::test
