// SPDX-License-Identifier: Apache-2.0
// The NDES registry export reader and the mapping onto scep-ra.conf keys.
#include "cli/ndes_registry.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "support/regedit_text.hpp"

using namespace scepra::cli::ndes;

namespace {

/// The layout of NDES's own export on Windows Server 2019: most settings are a
/// same-named value in a same-named subkey.
const std::string ws2019_export = R"(Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP]
"SignatureTemplate"="NDESSignature"
"EncryptionTemplate"="NDESEncryption"
"GeneralPurposeTemplate"="IPSECIntermediateOffline"

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\CAInfo]
"Configuration"="CA03.example.com\\ADCS Labor Issuing CA 2"

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\CAType]
"CAType"=dword:00000001

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\CertsInMYStore]
"CertsInMYStore"=dword:00000001

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\EnforcePassword]
"EnforcePassword"=dword:00000001

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\PasswordLength]
"PasswordLength"=dword:00000010

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\PasswordMax]
"PasswordMax"=dword:00000014

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\PasswordValidity]
"PasswordValidity"=dword:0000003c

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\PasswordVDir]
"PasswordVDir"="CertSrv/mscep_admin"

[HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Cryptography\MSCEP\UseSinglePassword]
"UseSinglePassword"=dword:00000000
)";

std::string setting(const NdesMapping& m, const std::string& key) {
    for (const auto& s : m.settings) {
        if (s.key == key) return s.section + ":" + s.value;
    }
    return "(unset)";
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return l.find(part) != std::string::npos; });
}

}  // namespace

TEST_SUITE("ndes registry") {
    TEST_CASE("a UTF-16LE export with a BOM, as Windows writes it, maps every NDES setting") {
        const auto reg = parse_registry_export(scepra::test::regedit_utf16le(ws2019_export));
        REQUIRE(reg.errors.empty());
        const auto m = map_ndes_settings(reg);
        CHECK(setting(m, "EnforcePassword") == "password:1");
        CHECK(setting(m, "UseSinglePassword") == "password:0");
        CHECK(setting(m, "PasswordMax") == "password:20");
        CHECK(setting(m, "PasswordLength") == "password:16");
        CHECK(setting(m, "PasswordValidity") == "password:60");
        CHECK(setting(m, "SignatureTemplate") == "templates:NDESSignature");
        CHECK(setting(m, "EncryptionTemplate") == "templates:NDESEncryption");
        CHECK(setting(m, "GeneralPurposeTemplate") == "templates:IPSECIntermediateOffline");
        CHECK(m.settings.size() == 8);
        CHECK(m.refused.empty());
        // The rest has no scep-ra equivalent and says so, with its line; the default vdir is no news.
        CHECK(m.not_mapped.size() == 3);
        CHECK(any_contains(m.not_mapped, "MSCEP\\CAInfo\\Configuration (line 9)"));
        CHECK(any_contains(m.not_mapped, "CA03.example.com\\ADCS Labor Issuing CA 2"));
        CHECK(any_contains(m.not_mapped, "MSCEP\\CAType\\CAType"));
        CHECK_FALSE(any_contains(m.not_mapped, "PasswordVDir"));
    }

    TEST_CASE("a REGEDIT4 ASCII export with values directly under MSCEP, hex(2) and hex(7) values") {
        const std::string text =
            "REGEDIT4\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP]\r\n"
            "\"UseSinglePassword\"=dword:1\r\n"
            "\"PasswordValidity\"=dword:000005a0\r\n"
            "\"SignatureTemplate\"=hex(2):4e,44,45,53,\\\r\n"
            "  53,69,67,00\r\n"
            "\"Servers\"=hex(7):61,00,62,00,00\r\n"
            "\"Blob\"=hex:01,02,03\r\n"
            "@=\"default\"\r\n"
            "\"Quoted\\\"Name\\\\\"=\"a \\\"b\\\" c\\\\\"\r\n";
        const auto reg = parse_registry_export(text);
        REQUIRE(reg.errors.empty());
        REQUIRE(reg.values.size() == 7);
        CHECK(reg.values[2].kind == RegValue::Kind::expand_string);
        CHECK(reg.values[2].text == "NDESSig");
        CHECK(reg.values[6].name == "Quoted\"Name\\");
        CHECK(reg.values[6].text == "a \"b\" c\\");
        const auto m = map_ndes_settings(reg);
        CHECK(setting(m, "UseSinglePassword") == "password:1");
        CHECK(setting(m, "PasswordValidity") == "password:1440");
        CHECK(setting(m, "SignatureTemplate") == "templates:NDESSig");
        CHECK(any_contains(m.not_mapped, "MSCEP\\Servers (line 8) = (hex(7) value)"));
        CHECK(any_contains(m.not_mapped, "MSCEP\\Blob (line 9) = (hex value)"));
        CHECK(any_contains(m.not_mapped, "MSCEP\\@ (line 10)"));
    }

    TEST_CASE("NDES's subkey layout wins over a value written directly under MSCEP") {
        const std::string text =
            "Windows Registry Editor Version 5.00\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\PasswordMax]\n"
            "\"PasswordMax\"=dword:00000007\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP]\n"
            "\"PasswordMax\"=dword:00000009\n";
        const auto m = map_ndes_settings(parse_registry_export(scepra::test::regedit_utf16le(text)));
        CHECK(setting(m, "PasswordMax") == "password:7");
        CHECK(any_contains(m.not_mapped, "MSCEP\\PasswordMax (line 5) = 9: ignored"));
    }

    TEST_CASE("a PasswordVDir other than NDES's default is reported") {
        const std::string text =
            "Windows Registry Editor Version 5.00\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\PasswordVDir]\n"
            "\"PasswordVDir\"=\"CertSrv/ndes_admin\"\n";
        const auto m = map_ndes_settings(parse_registry_export(text));
        CHECK(m.settings.empty());
        CHECK(any_contains(m.not_mapped, "CertSrv/ndes_admin"));
        CHECK(any_contains(m.not_mapped, "/certsrv/mscep_admin/"));
    }

    TEST_CASE("values scep-ra would refuse are reported and not mapped") {
        const std::string text =
            "Windows Registry Editor Version 5.00\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP]\n"
            "\"SignatureTemplate\"=\"Bad#Name\"\n"
            "\"EncryptionTemplate\"=dword:00000001\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\PasswordLength]\n"
            "\"PasswordLength\"=dword:00000002\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\PasswordMax]\n"
            "\"PasswordMax\"=dword:ffffffff\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\EnforcePassword]\n"
            "\"EnforcePassword\"=\"yes\"\n";
        const auto m = map_ndes_settings(parse_registry_export(scepra::test::regedit_utf16le(text)));
        CHECK(m.settings.empty());
        REQUIRE(m.refused.size() == 5);
        CHECK(any_contains(
            m.refused, "[password] PasswordLength = 2 from MSCEP\\PasswordLength\\PasswordLength (line 6)"));
        CHECK(any_contains(m.refused, "[password] PasswordMax = 4294967295"));
        CHECK(any_contains(m.refused, "EnforcePassword from"));
        CHECK(any_contains(m.refused, "SignatureTemplate from MSCEP\\SignatureTemplate (line 3)"));
        CHECK(any_contains(m.refused, "EncryptionTemplate"));
    }

    TEST_CASE("keys outside MSCEP and deletions are ignored with their line") {
        const std::string text =
            "Windows Registry Editor Version 5.00\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEPX]\n"
            "\"PasswordMax\"=dword:00000009\n"
            "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\Modules]\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP]\n"
            "\"EncryptedPassword\"=-\n";
        const auto reg = parse_registry_export(text);
        CHECK(reg.errors.empty());
        CHECK(reg.values.empty());
        CHECK(reg.ignored.size() == 3);
        CHECK(any_contains(reg.ignored,
                           "line 2: [HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEPX]"));
        CHECK(any_contains(reg.ignored, "line 4: deletes the key"));
        CHECK(any_contains(reg.ignored, "line 6: deletes the value EncryptedPassword"));
    }

    TEST_CASE("text from the export is printed without control characters (no terminal escapes)") {
        const std::string text =
            "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\X\x1b]\n"
            "\"N\x1b[2J\"=\"v\x1b]0;owned\x07\"\n[HKEY_CURRENT_USER\x1b[31m]\n";
        const auto reg = parse_registry_export(text);
        REQUIRE(reg.errors.empty());
        const auto m = map_ndes_settings(reg);
        REQUIRE(m.not_mapped.size() == 1);
        CHECK(m.not_mapped[0] == "MSCEP\\X?\\N?[2J (line 3) = \"v?]0;owned?\": no scep-ra setting");
        REQUIRE(reg.ignored.size() == 1);
        CHECK(reg.ignored[0].find('\x1b') == std::string::npos);
    }

    TEST_CASE("hostile exports are reported line by line, never crash") {
        SUBCASE("UTF-16 without a BOM reads like one with") {
            const auto reg = parse_registry_export(scepra::test::regedit_utf16le(ws2019_export, false));
            CHECK(reg.errors.empty());
            CHECK(map_ndes_settings(reg).settings.size() == 8);
        }
        SUBCASE("an odd byte count (cut in the middle of a character)") {
            std::string bytes = scepra::test::regedit_utf16le(ws2019_export);
            bytes.pop_back();
            const auto reg = parse_registry_export(bytes);
            REQUIRE(reg.errors.size() == 1);
            CAPTURE(reg.errors[0]);
            CHECK(reg.errors[0].find("odd byte count") != std::string::npos);
            CHECK(reg.errors[0].rfind("line 33: ", 0) == 0);
        }
        SUBCASE("truncated in the middle of a string value") {
            const std::string cut = ws2019_export.substr(0, ws2019_export.find("IPSECIntermediate"));
            const auto reg = parse_registry_export(scepra::test::regedit_utf16le(cut));
            REQUIRE(reg.errors.size() == 1);
            CHECK(reg.errors[0] == "line 6: unterminated quoted string");
        }
        SUBCASE("a hex value continued past the end of the file") {
            const auto reg = parse_registry_export(
                "REGEDIT4\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography"
                "\\MSCEP]\n\"B\"=hex:01,\\\n");
            REQUIRE(reg.errors.size() == 1);
            CHECK(reg.errors[0] == "line 3: the value continues past the end of the file");
        }
        SUBCASE("a dword with 9 hex digits") {
            std::string text = ws2019_export;
            text.replace(text.find("dword:00000014"), 14, "dword:000000014");
            const auto reg = parse_registry_export(scepra::test::regedit_utf16le(text));
            REQUIRE(reg.errors.size() == 1);
            CHECK(reg.errors[0].rfind("line 24: a dword needs 1 to 8 hex digits", 0) == 0);
        }
        SUBCASE("lines that are not registry syntax") {
            const auto reg = parse_registry_export(
                "Windows Registry Editor Version 5.00\n\"A\"=\"before any key\"\n"
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP]\nPasswordMax=5\n\"A\"=dword:"
                "\n"
                "\"B\"=\"x\" trailing\n\"C\"=\"\\n\"\n\"D\"=hex(zz):00\n\"E\"=hex:0,1\n\"F\"\n[broken\n" +
                std::string("\"G\"=\"a\0b\"\n", 9));
            REQUIRE(reg.errors.size() == 10);
            CHECK(reg.errors.back() == "line 12: contains a NUL character");
            for (int line = 4; line <= 12; ++line) {
                CAPTURE(line);
                CHECK(any_contains(reg.errors, "line " + std::to_string(line) + ": "));
            }
        }
        SUBCASE("not a registry export at all") {
            CHECK(parse_registry_export("").errors.size() == 1);
            CHECK(parse_registry_export("[section]\nkey = value\n")
                      .errors.at(0)
                      .rfind("line 1: not a registry", 0) == 0);
            CHECK(parse_registry_export(std::string("\xFE\xFF\0W", 4)).errors.size() == 1);
        }
        SUBCASE("over 1 MiB is refused unread") {
            const auto reg = parse_registry_export(std::string(max_export_bytes + 1, 'A'));
            REQUIRE(reg.errors.size() == 1);
            CHECK(reg.errors[0].find("larger than") != std::string::npos);
        }
        SUBCASE("10,000 lines of unknown values are each reported") {
            std::string text =
                "Windows Registry Editor Version 5.00\n"
                "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\\MSCEP\\Junk]\n";
            for (int i = 0; i < 10000; ++i) {
                text += "\"V" + std::to_string(i) + "\"=dword:00000001\n";
            }
            const auto reg = parse_registry_export(scepra::test::regedit_utf16le(text));
            CHECK(reg.errors.empty());
            const auto m = map_ndes_settings(reg);
            CHECK(m.not_mapped.size() == 10000);
            CHECK(m.not_mapped.back().find("(line 10002)") != std::string::npos);
        }
        SUBCASE("random corruptions of a real export") {
            std::mt19937 rng(8894);
            const std::string good = scepra::test::regedit_utf16le(ws2019_export);
            for (int round = 0; round < 2000; ++round) {
                std::string bytes = good;
                const int edits = 1 + static_cast<int>(rng() % 8);
                for (int e = 0; e < edits; ++e) {
                    const size_t at = rng() % bytes.size();
                    switch (rng() % 3) {
                        case 0:
                            bytes[at] = static_cast<char>(rng());
                            break;
                        case 1:
                            bytes.erase(at, 1 + rng() % 16);
                            break;
                        default:
                            bytes.insert(at, std::string(1 + rng() % 4, static_cast<char>(rng())));
                            break;
                    }
                    if (bytes.empty()) bytes = "x";
                }
                CHECK_NOTHROW(map_ndes_settings(parse_registry_export(bytes)));
            }
        }
    }
}
