// SPDX-License-Identifier: Apache-2.0
// Every reader of EJBCA's REST answers (backends/ejbca/ejbca_answers.hpp) on
// the same body: pkcs10enroll, the error body, certificate/status, the CA
// list, search, revocation status and getLatestCrl. Their contract is
// BadAnswer only (read_error_message and read_status_revision: no exception),
// and what each returns keeps the promises the EJBCA client relies on
// (checked below; a broken one aborts the run as a finding).
#include <string>

#include "ejbca/ejbca_answers.hpp"
#include "fuzz_input.hpp"

namespace {

using namespace scepra::backend::ejbca;

/// What the EJBCA client asks search for (find_issued_for and the tests use 1 to 10).
constexpr std::size_t max_results = 10;

using scepra::fuzz::require;

bool is_hex(const std::string& text) {
    return !text.empty() && text.size() <= 64 &&
           text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string body(scepra::fuzz::input_text(data, size));
    std::size_t found = 0;
    try {
        const EnrollAnswer answer = read_enroll_answer(body);
        require(!answer.certificate_der.empty());
        require(answer.serial_hex.empty() || is_hex(answer.serial_hex));
        require(answer.chain_der.size() <= 10);
        for (const scepra::Bytes& der : answer.chain_der) {
            require(!der.empty());
        }
        found += answer.certificate_der.size() + answer.chain_der.size();
    } catch (const BadAnswer&) {
    }
    if (auto message = read_error_message(body)) {
        found += message->size();
    }
    if (auto revision = read_status_revision(body)) {
        found += revision->size();
    }
    try {
        for (const CaEntry& ca : read_ca_list(body)) {
            found += ca.name.size() + ca.subject_dn.size();
        }
    } catch (const BadAnswer&) {
    }
    try {
        const SearchAnswer answer = read_search_answer(body, max_results);
        require(answer.certificates_der.size() <= max_results);
        for (const scepra::Bytes& der : answer.certificates_der) {
            require(!der.empty());
        }
        found += answer.certificates_der.size() + (answer.more_results ? 1 : 0);
    } catch (const BadAnswer&) {
    }
    try {
        const RevocationStatus status = read_revocation_status(body);
        found += status.reason.size() + (status.revoked ? 1 : 0);
    } catch (const BadAnswer&) {
    }
    try {
        const scepra::Bytes crl = read_crl_answer(body);
        require(!crl.empty());
        found += crl.size();
    } catch (const BadAnswer&) {
    }
    volatile std::size_t sink = found;
    (void)sink;
    return 0;
}
