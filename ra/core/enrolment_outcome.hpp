// SPDX-License-Identifier: Apache-2.0
// The final outcome of an enrolment, told to whoever must hear of it after
// the CA has answered: Intune's success/failure notifications, a webhook's
// notify_url. Listeners are told once per transaction, after the outcome is
// stored; they must not throw and must not block the device's answer for
// long (queue what has to be retried).
#pragma once

#include <string>

#include "common/bytes.hpp"
#include "common/clock.hpp"

namespace scepra::core {

struct EnrolmentOutcome {
    enum class Kind {
        issued,    ///< the CA issued: certificate_der is set
        rejected,  ///< refused by the RA (after the challenge was accepted) or by the CA, or denied by an
                   ///< operator
    };
    Kind kind = Kind::rejected;
    std::string transaction_id;
    std::string template_name;
    std::string peer;          ///< client address, as the request log has it
    std::string message_type;  ///< "PKCSReq" or "RenewalReq"
    Bytes csr_der;             ///< the PKCS#10 the device sent
    Bytes certificate_der;     ///< when issued
    std::string reason;        ///< when rejected: the text the device got (never a secret)
    TimePoint at;
};

class EnrolmentOutcomeListener {
  public:
    virtual ~EnrolmentOutcomeListener() = default;
    virtual void on_outcome(const EnrolmentOutcome& outcome) noexcept = 0;
};

}  // namespace scepra::core
