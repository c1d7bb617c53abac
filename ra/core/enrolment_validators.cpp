// SPDX-License-Identifier: Apache-2.0
// The RA's checks of a new enrolment request (see enrolment_validators.hpp).
#include "core/enrolment_validators.hpp"

#include <string>
#include <string_view>

#include "crypto/encoding.hpp"
#include "scep/types.hpp"

namespace scepra::core {

namespace {

// What AD CS reads from a PKCS#10 besides its subject, key and extensions
// (MS-WCCE 2.2.2.7.10, 3.2.1.4.2.1.2): name-value pairs, among them SAN
// ("SAN:upn=administrator@corp" with EDITF_ATTRIBUTESUBJECTALTNAME2 set) and
// CertificateTemplate; and application policies, which it applies on its own
// (ESC15 on a version 1 template). A template extension is passed: Windows
// sends one when its SCEP profile names a template, and the CA refuses one
// that conflicts with the template it is asked for (MS-WCCE 3.2.2.6.2.1.4.1).
constexpr std::string_view oid_name_value_pairs = "1.3.6.1.4.1.311.13.2.1";
constexpr std::string_view oid_extension_request = "1.2.840.113549.1.9.14";
constexpr std::string_view oid_ms_extension_request = "1.3.6.1.4.1.311.2.1.14";
struct KnownOid {
    std::string_view oid;
    std::string_view name;
};
constexpr KnownOid ca_only_extensions[] = {
    {"1.3.6.1.4.1.311.21.10", "Microsoft application policies"},
};

class CaDirectivesValidator final : public EnrolmentValidator {
  public:
    void check(Candidate& c) override {
        int extension_sets = 0;
        for (const scep::RequestAttribute& attribute : c.csr.attributes()) {
            if (attribute.oid == oid_name_value_pairs) {
                refuse("name-value pairs (" + attribute.oid + ")");
            }
            if (attribute.oid == oid_extension_request || attribute.oid == oid_ms_extension_request) {
                // The RA reads one set of extensions (OpenSSL's choice); a CA
                // could read another.
                extension_sets += attribute.values;
            }
        }
        if (extension_sets > 1) {
            refuse("more than one set of requested extensions");
        }
        for (const std::string& oid : c.csr.extension_oids()) {
            for (const KnownOid& known : ca_only_extensions) {
                if (oid == known.oid) {
                    refuse("a " + std::string(known.name) + " extension (" + oid + ")");
                }
            }
        }
    }

  private:
    [[noreturn]] static void refuse(const std::string& what) {
        throw scep::ScepFailure(scep::FailInfo::bad_request,
                                "the request carries " + what + ", which scep-ra does not pass to the CA");
    }
};

class RenewalValidator final : public EnrolmentValidator {
  public:
    RenewalValidator(RevocationCheck& revocation, RenewalPolicy policy)
        : m_revocation(revocation), m_policy(std::move(policy)) {}

    void check(Candidate& c) override {
        if (!c.by_certificate) {
            return;
        }
        if (auto why = renewal_refusal(c.signer, c.csr, m_revocation, m_policy, c.now)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, *why);
        }
        c.event.detail = "renewal authenticated by certificate " + crypto::serial_hex(c.signer);
    }

  private:
    RevocationCheck& m_revocation;
    RenewalPolicy m_policy;
};

class TemplateKeyValidator final : public EnrolmentValidator {
  public:
    explicit TemplateKeyValidator(TemplatePolicies policies) : m_policies(std::move(policies)) {}

    void check(Candidate& c) override {
        EVP_PKEY* subject_key = c.csr.public_key();
        if (subject_key == nullptr) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, "the request's public key cannot be read");
        }
        const std::string label = "certificate template '" + c.template_name + "'";
        if (auto why = crypto::key_policy_refusal(m_policies.of(c.template_name).keys, *subject_key, label)) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, *why);
        }
    }

  private:
    TemplatePolicies m_policies;
};

class ExistingSubjectValidator final : public EnrolmentValidator {
  public:
    explicit ExistingSubjectValidator(backend::CaBackend& backend) : m_backend(backend) {}

    void check(Candidate& c) override {
        if (!c.by_certificate && m_backend.subject_has_valid_certificate(c.csr.subject())) {
            throw scep::ScepFailure(
                scep::FailInfo::bad_request,
                "this subject already holds a valid certificate: renew it with that certificate");
        }
    }

  private:
    backend::CaBackend& m_backend;
};

class ChallengeValidator final : public EnrolmentValidator {
  public:
    explicit ChallengeValidator(ChallengeVerifier& challenges) : m_challenges(challenges) {}

    void check(Candidate& c) override {
        // The certificate authenticates a renewal; a verifier that judges
        // renewals (a policy webhook) is asked all the same.
        if (c.by_certificate && !m_challenges.judges_renewals(c.template_name)) {
            return;
        }
        const std::string message_type = c.event.message_type.value_or("PKCSReq");
        ChallengeRequest request{c.csr, c.template_name, c.transaction_id, c.peer, c.claim};
        request.message_type = message_type;
        request.renewal = c.by_certificate;
        ChallengeVerdict verdict = m_challenges.verify(request);
        if (!verdict.accepted) {
            throw scep::ScepFailure(scep::FailInfo::bad_request, verdict.reason, verdict.note);
        }
        c.challenge_id = verdict.challenge_id;
        c.event.challenge_id = verdict.challenge_id;
        if (!verdict.note.empty()) {
            c.event.detail = c.event.detail ? *c.event.detail + "; " + verdict.note : verdict.note;
        }
    }

  private:
    ChallengeVerifier& m_challenges;
};

}  // namespace

std::unique_ptr<EnrolmentValidator> ca_directives_validator() {
    return std::make_unique<CaDirectivesValidator>();
}

std::unique_ptr<EnrolmentValidator> renewal_validator(RevocationCheck& revocation, RenewalPolicy policy) {
    return std::make_unique<RenewalValidator>(revocation, std::move(policy));
}

std::unique_ptr<EnrolmentValidator> template_key_validator(const TemplatePolicies& policies) {
    return std::make_unique<TemplateKeyValidator>(policies);
}

std::unique_ptr<EnrolmentValidator> existing_subject_validator(backend::CaBackend& backend) {
    return std::make_unique<ExistingSubjectValidator>(backend);
}

std::unique_ptr<EnrolmentValidator> challenge_validator(ChallengeVerifier& challenges) {
    return std::make_unique<ChallengeValidator>(challenges);
}

}  // namespace scepra::core
