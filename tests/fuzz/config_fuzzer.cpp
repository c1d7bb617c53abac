// SPDX-License-Identifier: Apache-2.0
// The configuration parser, on a file written from the input in a temporary
// directory made once (relative paths resolve into it). Its contract is one
// ConfigError naming the file, the section and the key, for any bad input.
// The files a default configuration names exist there (empty: only their
// existence is checked), so that a valid input parses to the end.
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/app_config.hpp"
#include "fuzz_input.hpp"
#include "support/test_pki.hpp"

namespace {
scepra::test::TempDir* g_dir = nullptr;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static scepra::test::TempDir dir;
    g_dir = &dir;
    std::filesystem::create_directory(dir.file("private"));
    for (const char* name :
         {"ra-signing.pem", "private/ra-signing.key", "ra-encryption.pem", "private/ra-encryption.key",
          "ca.pem", "private/ca.key", "admin-tls.pem", "private/admin-tls.key"}) {
        std::ofstream(dir.file(name)).put('\n');
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string path = g_dir->file("scep-ra.conf");
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        scepra::cli::AppConfig config = scepra::cli::load_config(path);
        volatile bool sink = config.allow_single_des;
        (void)sink;
    } catch (const scepra::cli::ConfigError&) {
    }
    return 0;
}
