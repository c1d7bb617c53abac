// SPDX-License-Identifier: Apache-2.0
#include "metrics/instance_gauges.hpp"

#include "crypto/asn1_time.hpp"
#include "crypto/encoding.hpp"

namespace scepra::metrics {

namespace {
double file_size_or_zero(const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    return ec ? 0.0 : static_cast<double>(size);
}
}  // namespace

CertificateExpiry certificate_expiry(const std::string& role, X509& cert) {
    const auto not_after = crypto::to_time_point(*X509_get0_notAfter(&cert));
    return {role, crypto::name_string(*X509_get_subject_name(&cert)),
            not_after ? static_cast<double>(unix_seconds(*not_after)) : 0.0};
}

void add_instance_gauges(Registry& registry, InstanceSources sources) {
    store::ChallengeStore& challenges = sources.challenges;
    const core::PasswordModes& modes = sources.modes;
    store::ThrottleStore& throttle = sources.throttle;
    registry.gauge(
        "scep_ra_one_time_passwords_outstanding",
        "Unused, unexpired one-time challenge passwords (compare with scep_ra_one_time_passwords_max)", {},
        [&challenges] {
            return Gauge::Samples{{{}, static_cast<double>(challenges.outstanding())}};
        });
    registry.gauge(
        "scep_ra_one_time_passwords_max", "PasswordMax: one-time passwords that may be outstanding", {},
        [&modes] {
            return Gauge::Samples{{{}, static_cast<double>(modes.settings().one_time.max_outstanding)}};
        });
    registry.gauge("scep_ra_lockouts_active",
                   "Client addresses and subjects locked out now for failed challenge passwords", {"kind"},
                   [&throttle] {
                       const auto counts = throttle.locked_counts();
                       return Gauge::Samples{{{"address"}, static_cast<double>(counts.addresses)},
                                             {{"subject"}, static_cast<double>(counts.subjects)}};
                   });
    registry.gauge("scep_ra_certificate_expiry_timestamp_seconds",
                   "notAfter of the RA and CA certificates in use, as Unix time", {"role", "subject"},
                   [certificates = std::move(sources.certificates)] {
                       Gauge::Samples samples;
                       for (const auto& c : certificates) {
                           samples.push_back({{c.role, c.subject}, c.not_after});
                       }
                       return samples;
                   });
    registry.gauge("scep_ra_database_size_bytes", "Size of the SQLite database file and its write-ahead log",
                   {"file"}, [db = std::move(sources.database_file)] {
                       return Gauge::Samples{{{"main"}, file_size_or_zero(db)},
                                             {{"wal"}, file_size_or_zero(db.string() + "-wal")}};
                   });
}

}  // namespace scepra::metrics
