// SPDX-License-Identifier: Apache-2.0
// Names of SCEP constants for logs and the audit trail.
#include "scep/types.hpp"

namespace scepra::scep {

std::string message_type_name(int type) {
    switch (type) {
        case 3:
            return "CertRep";
        case 17:
            return "RenewalReq";
        case 19:
            return "PKCSReq";
        case 20:
            return "CertPoll";
        case 21:
            return "GetCert";
        case 22:
            return "GetCRL";
        default:
            return std::to_string(type);
    }
}

std::string fail_info_name(FailInfo info) {
    switch (info) {
        case FailInfo::bad_alg:
            return "badAlg";
        case FailInfo::bad_message_check:
            return "badMessageCheck";
        case FailInfo::bad_request:
            return "badRequest";
        case FailInfo::bad_time:
            return "badTime";
        case FailInfo::bad_cert_id:
            return "badCertId";
    }
    return "unknown";
}

}  // namespace scepra::scep
