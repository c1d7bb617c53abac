// SPDX-License-Identifier: Apache-2.0
// The backend decorator counts every call with its outcome, including the
// contract's exceptions, and passes answers and exceptions through unchanged.
#include "metrics/instrumented_backend.hpp"

#include <doctest/doctest.h>

#include "crypto/encoding.hpp"
#include "support/backend_queries.hpp"
#include "support/scripted_backend.hpp"
#include "support/test_pki.hpp"

using namespace scepra;
using namespace scepra::metrics;
using scepra::test::Behaviour;

TEST_SUITE("metrics.backend") {
    TEST_CASE("submit outcomes and the contract's exceptions are counted under the backend's name") {
        const auto& pki = test::shared_test_pki();
        test::ScriptedBackend scripted(*pki.ca_cert, *pki.ca_key);
        Registry registry;
        ScepMetrics metrics(registry);
        InstrumentedBackend backend(scripted, metrics);
        CHECK(backend.name() == "scripted");

        auto key = test::make_key();
        auto csr = test::make_csr(*key, "CN=counted");
        const backend::SubmitRequest request{"TX-1", crypto::csr_der(*csr), "", "127.0.0.1", nullptr};
        scripted.script_submit({Behaviour::issued, Behaviour::pending, Behaviour::rejected,
                                Behaviour::unavailable, Behaviour::outcome_unknown});
        CHECK(backend.submit(request).disposition == backend::Disposition::issued);
        CHECK(backend.submit(request).disposition == backend::Disposition::pending);
        CHECK(backend.submit(request).disposition == backend::Disposition::rejected);
        CHECK_THROWS_AS(backend.submit(request), backend::BackendUnavailable);
        CHECK_THROWS_AS(backend.submit(request), backend::OutcomeUnknown);
        CHECK_THROWS(backend.submit(request));  // nothing scripted: another exception

        const std::string text = registry.render();
        for (const char* outcome :
             {"issued", "pending", "rejected", "unavailable", "outcome_unknown", "error"}) {
            CAPTURE(outcome);
            CHECK(
                text.find(std::string(
                              "scep_ra_backend_calls_total{backend=\"scripted\",call=\"submit\",outcome=\"") +
                          outcome + "\"} 1\n") != std::string::npos);
        }
        CHECK(text.find(
                  "scep_ra_backend_call_duration_seconds_count{backend=\"scripted\",call=\"submit\"} 6\n") !=
              std::string::npos);
        CHECK(scripted.submits("TX-1") == 6);  // every call reached the real backend once

        CHECK(backend.find_by_transaction(test::transaction_query("TX-none", Bytes(32, 0))) == std::nullopt);
        CHECK(registry.render().find("call=\"find_by_transaction\",outcome=\"not_found\"} 1") !=
              std::string::npos);
    }
}
