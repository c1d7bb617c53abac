// SPDX-License-Identifier: Apache-2.0
// The local CA's manual-approval queue: polls, officers' decisions.
#include <charconv>
#include <stdexcept>
#include <utility>

#include "local/local_ca_internal.hpp"

namespace scepra::backend::local {

using detail::rejected;
using detail::sealed_row;

SubmitResult LocalCaBackend::poll(const PollRequest& request) {
    const std::string& backend_ref = request.backend_ref;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(backend_ref.data(), backend_ref.data() + backend_ref.size(), id);
    if (ec != std::errc() || end != backend_ref.data() + backend_ref.size() || id <= 0) {
        return rejected("unknown request");
    }
    std::optional<LocalCaStore::RequestRow> row;
    try {
        row = m_db.read([&](store::Database& db) { return m_store.request(db, id); });
    } catch (const store::DbError& e) {
        throw BackendUnavailable(std::string("cannot read the pending request: ") + e.what());
    }
    if (!row) {
        return rejected("unknown request");
    }
    const PendingRequest& info = row->info;
    if (info.status == "pending") {
        SubmitResult result;
        result.disposition = Disposition::pending;
        result.backend_ref = backend_ref;
        return result;
    }
    if (info.status == "denied") {
        return rejected(info.reason.empty() ? "the request was denied by a CA officer" : info.reason);
    }
    if (info.status == "issued" && row->cert_id) {
        std::optional<Bytes> der;
        try {
            der = m_db.read(
                [&](store::Database& db) { return m_store.certificate_der_by_id(db, *row->cert_id); });
        } catch (const store::DbError& e) {
            throw BackendUnavailable(std::string("cannot read the issued certificate: ") + e.what());
        }
        if (!der) {
            throw BackendUnavailable("request " + backend_ref +
                                     " is marked issued but its certificate is missing");
        }
        return issued(std::move(*der));
    }
    // Approved: sign now, with the profile as configured today.
    const CertificateProfile* profile = find_profile(info.template_name);
    if (profile == nullptr) {
        return rejected("certificate template '" + info.template_name + "' no longer exists");
    }
    Bytes csr_der;
    try {
        csr_der = m_seal.open(row->csr_der, sealed_row(id));
    } catch (const std::runtime_error& e) {
        throw BackendUnavailable("cannot read request " + backend_ref + ": " + e.what());
    }
    Prepared prepared = prepare(csr_der, *profile);
    if (!prepared.rejection.empty()) {
        return rejected(prepared.rejection);
    }
    return issue(prepared, *profile, info.transaction_id, id);
}

std::vector<PendingRequest> LocalCaBackend::list_requests(std::optional<std::string> status) const {
    if (status && *status != "pending" && *status != "approved" && *status != "denied" &&
        *status != "issued") {
        throw std::invalid_argument("unknown request status '" + *status +
                                    "' (expected pending, approved, denied or issued)");
    }
    return m_db.read([&](store::Database& db) { return m_store.requests(db, status); });
}

void LocalCaBackend::approve(std::int64_t id, const std::string& officer) {
    decide(id, "approved", officer, "");
}

void LocalCaBackend::deny(std::int64_t id, const std::string& officer, const std::string& reason) {
    decide(id, "denied", officer, reason);
}

void LocalCaBackend::decide(std::int64_t id, const std::string& status, const std::string& officer,
                            const std::string& reason) {
    if (officer.empty()) {
        throw std::invalid_argument("the CA officer deciding a request must be named");
    }
    m_db.write([&](store::Database& db) {
        if (m_store.decide(db, id, status, officer, reason, sql_time(m_clock.now()))) {
            return;
        }
        auto row = m_store.request(db, id);
        if (!row) {
            throw std::invalid_argument("unknown request " + std::to_string(id));
        }
        throw std::invalid_argument("request " + std::to_string(id) + " is not pending (it is " +
                                    row->info.status + ")");
    });
}

}  // namespace scepra::backend::local
