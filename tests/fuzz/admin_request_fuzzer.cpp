// SPDX-License-Identifier: Apache-2.0
// The admin page's request parsing. The Basic credentials reader
// (basic_credentials in ra/http/admin_site.cpp) lives in an anonymous
// namespace, so it is reached the way the listener reaches it: through
// AdminSite::serve, on real stores in a temporary SQLite file. The input is
// "AUTHORIZATION-HEADER \n REQUEST-TARGET [\n ACCEPT-HEADER]"; one account
// (fuzz-admin / fuzz-admin-password, in the dictionary) exists so that the
// query parsing behind the login (subject, template, validity, format) is
// reached too. scrypt runs at its smallest allowed cost and the login
// throttle is out of reach, to keep executions fast and paths open.
#include <httplib.h>

#include <climits>
#include <memory>

#include "core/challenge_verifier.hpp"
#include "fuzz_input.hpp"
#include "http/admin_site.hpp"
#include "store/admin_store.hpp"
#include "store/challenge_store.hpp"
#include "store/database.hpp"
#include "store/single_password_store.hpp"
#include "support/test_pki.hpp"

namespace {

using namespace scepra;

/// The CA the page shows thumbprints of; nothing is ever submitted to it.
class FixedChainCa final : public backend::CaBackend {
  public:
    explicit FixedChainCa(X509& cert) : m_cert(cert) {}
    std::string name() const override { return "fuzz"; }
    backend::SubmitResult submit(const backend::SubmitRequest&) override { return {}; }
    backend::SubmitResult poll(const backend::PollRequest&) override { return {}; }
    std::vector<crypto::X509Ptr> ca_chain() const override {
        std::vector<crypto::X509Ptr> chain;
        chain.push_back(crypto::up_ref(m_cert));
        return chain;
    }

  private:
    X509& m_cert;
};

struct AdminWorld {
    test::TempDir dir;
    FixedClock clock{TimePoint(std::chrono::hours(24 * 365 * 56))};
    std::unique_ptr<store::Database> db = store::Database::open(dir.file("scep-ra.db"), true);
    crypto::ScryptParams cheap{1 << 10, 1, 1};
    store::AdminStore admins{*db, clock, cheap, store::ThrottlePolicy{INT_MAX, std::chrono::seconds(1)}};
    store::ChallengeStore challenges{*db, Bytes(32, 0x5a), clock};
    store::SinglePasswordStore single{*db, clock, cheap};
    core::PasswordModes modes{core::PasswordSettings{}, challenges, single};
    crypto::EvpPkeyPtr ca_key = test::make_key();
    crypto::X509Ptr ca_cert = test::make_cert("CN=Fuzz CA", *ca_key, nullptr, nullptr, {});
    FixedChainCa ca{*ca_cert};
    http::AdminSite site{http::AdminSiteOptions{}, admins, challenges, modes, ca};

    AdminWorld() { admins.add("fuzz-admin", "fuzz-admin-password"); }
};

AdminWorld* g_world = nullptr;

std::string_view next_line(std::string_view& rest) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    static AdminWorld world;
    g_world = &world;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 8192) {
        return 0;  // beyond cpp-httplib's request line and header limits
    }
    std::string_view rest = fuzz::input_text(data, size);
    httplib::Request request;
    request.method = "GET";
    request.remote_addr = "127.0.0.1";
    request.headers.emplace("Authorization", std::string(next_line(rest)));
    request.target = std::string(next_line(rest));
    request.path = request.target.substr(0, request.target.find('?'));
    if (!rest.empty()) {
        request.headers.emplace("Accept", std::string(next_line(rest)));
    }
    httplib::Response response;
    // The listener routes by handles(); serve() runs here whatever the path,
    // since it must cope with any target. An exception from serve() would be
    // a 500 for bad input, so it is left to escape and counts as a finding.
    volatile std::size_t sink = (g_world->site.handles(request.path) ? 1 : 0) +
                                g_world->site.serve(request, response).summary.size() + response.body.size();
    (void)sink;
    return 0;
}
