// SPDX-License-Identifier: Apache-2.0
// The readers of Entra ID's, Graph's and Intune's answers on their own
// (ra/validators/intune/intune_answers.hpp), without the HTTP exchange:
// the shapes the fake and Microsoft send, and hostile bodies that must end in
// IntuneUnavailable (fail closed) and nothing else.
#include "validators/intune/intune_answers.hpp"

#include <doctest/doctest.h>

#include "validators/intune/intune_errors.hpp"

using namespace scepra::validators::intune;

namespace {

constexpr const char* scope = "https://api.manage.microsoft.com//.default";

}  // namespace

TEST_CASE("a token answer gives its access token and lifetime, expires_in as a number or as v1.0's digits") {
    const auto v2 = detail::read_token_answer(
        200, R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0.abc"})",
        scope);
    CHECK(v2.access_token == "eyJ0.abc");
    CHECK(v2.lifetime.count() == 3599);
    const auto v1 = detail::read_token_answer(200, R"({"expires_in":"600","access_token":"t"})", scope);
    CHECK(v1.lifetime.count() == 600);
}

TEST_CASE("a token answer without a usable token or lifetime is IntuneUnavailable") {
    for (const char* body :
         {R"({"expires_in":60,"access_token":"two words"})", R"({"expires_in":86401,"access_token":"t"})",
          R"({"expires_in":"+60","access_token":"t"})",
          R"({"expires_in":18446744073709551615,"access_token":"t"})",
          R"({"expires_in":60.0,"access_token":"t"})", R"(["access_token"])", "<html>", ""}) {
        CAPTURE(body);
        CHECK_THROWS_AS(detail::read_token_answer(200, body, scope), IntuneUnavailable);
    }
}

TEST_CASE("a refused token answer names Entra ID's error code and description, made printable") {
    try {
        detail::read_token_answer(
            401,
            R"({"error":"invalid_client","error_description":"AADSTS7000215: bad\nsecret","access_token":"t"})",
            scope);
        FAIL("no exception");
    } catch (const IntuneUnavailable& e) {
        CHECK(std::string(e.what()) == std::string("Entra ID refused a token for ") + scope +
                                           " (HTTP 401 invalid_client: AADSTS7000215: bad?secret)");
    }
}

TEST_CASE(
    "Graph's endpoint list gives the validation service's uri, found in any case, without trailing slash") {
    CHECK(detail::read_endpoints_answer(
              R"({"value":[{"providerName":"ManagedAppsService","uri":"https://a.test/x"},)"
              R"({"providerName":"sceprequestvalidationfeservice","uri":"https://fef.test/ScepVal//"}]})") ==
          "https://fef.test/ScepVal");
    CHECK(detail::read_endpoints_answer(R"({"value":[{"serviceName":"ScepRequestValidationFEService",)"
                                        R"("uri":"https://[::1]:8443"}]})") == "https://[::1]:8443");
}

TEST_CASE("a providerName with a NUL byte and more text after the service's name is another service") {
    // JSON's \u0000 is a NUL byte inside the string: a C-string compare stops there and would match.
    const std::string hostile =
        R"({"providerName":"ScepRequestValidationFEService\u0000Evil","uri":"https://evil.test/x"})";
    CHECK_THROWS_AS(detail::read_endpoints_answer(R"({"value":[)" + hostile + "]}"), IntuneUnavailable);
    CHECK(detail::read_endpoints_answer(
              R"({"value":[)" + hostile +
              R"(,{"providerName":"ScepRequestValidationFEService","uri":"https://fef.test/ScepVal"}]})") ==
          "https://fef.test/ScepVal");
}

TEST_CASE("a Graph endpoint list without a usable validation service entry is IntuneUnavailable") {
    for (const char* body :
         {R"({"value":{}})", R"({"value":[]})",
          R"({"value":[{"providerName":"ManagedAppsService","uri":"https://a"}]})",
          R"({"value":[{"providerName":"ScepRequestValidationFEService","uri":"http://a.test"}]})",
          R"({"value":[{"providerName":"ScepRequestValidationFEService","uri":"https://a.test/?q"}]})",
          R"({"value":[{"providerName":"ScepRequestValidationFEService"}]})", "[[[[[[[[[[]]]]]]]]]]"}) {
        CAPTURE(body);
        CHECK_THROWS_AS(detail::read_endpoints_answer(body), IntuneUnavailable);
    }
}

TEST_CASE("Intune's action answer gives its code and a printable description of at most 200 characters") {
    const IntuneAnswer answer = detail::read_action_answer(
        "validateRequest",
        R"({"code":"ChallengeExpired","errorDescription":"line\nbreak)" + std::string(300, 'x') + "\"}",
        "req-1");
    CHECK(answer.code == "ChallengeExpired");
    CHECK(answer.description == "line?break" + std::string(190, 'x'));
    CHECK(answer.request_id == "req-1");
}

TEST_CASE("an Intune action answer without a code of letters and digits is IntuneUnavailable") {
    for (const char* body : {R"({"errorDescription":"?"})", R"({"code":"Not-Alnum"})", R"({"code":""})",
                             R"({"code":["Success"]})", "Service is being upgraded"}) {
        CAPTURE(body);
        CHECK_THROWS_AS(detail::read_action_answer("validateRequest", body, "req-1"), IntuneUnavailable);
    }
}

TEST_CASE("an answer with a NUL byte is IntuneUnavailable, not read up to the NUL with the rest ignored") {
    const std::string body = std::string(R"({"code":"Success"})") + '\0' + "{[garbage";
    CHECK_THROWS_AS(detail::read_action_answer("validateRequest", body, "req-1"), IntuneUnavailable);
}
