#include "services/gateway/session/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "common/base/check.h"

namespace ensemble::gateway {

std::string DigestOf(std::string_view user_password) {
  unsigned char hash[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(user_password.data()), user_password.size(), hash);
  const size_t colon = user_password.find(':');
  std::string_view user =
      colon == std::string_view::npos ? user_password : user_password.substr(0, colon);
  return std::string(user) + ":" +
         absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(hash), sizeof(hash)));
}

std::string SessionPassword(std::string_view secret, int64_t session_id) {
  unsigned char id[8];
  const auto u = static_cast<uint64_t>(session_id);
  for (int i = 0; i < 8; ++i) id[i] = static_cast<unsigned char>(u >> (56 - 8 * i));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), id,
                                 sizeof(id), mac, &mac_len);
  ENSEMBLE_CHECK(ok != nullptr && mac_len >= 16);
  return std::string(reinterpret_cast<const char*>(mac), 16);
}

bool CheckSessionPassword(std::string_view secret, int64_t session_id, std::string_view passwd) {
  const std::string expected = SessionPassword(secret, session_id);
  if (passwd.size() != expected.size()) return false;
  return CRYPTO_memcmp(expected.data(), passwd.data(), expected.size()) == 0;
}

Identities::Identities(std::string_view client_ip) { Add("ip", client_ip); }

void Identities::Add(std::string_view scheme, std::string_view id) {
  if (Has(scheme, id)) return;
  ensemble::v1::Id entry;
  entry.set_scheme(std::string(scheme));
  entry.set_id(std::string(id));
  ids_.push_back(std::move(entry));
}

bool Identities::Has(std::string_view scheme, std::string_view id) const {
  for (const auto& e : ids_) {
    if (e.scheme() == scheme && e.id() == id) return true;
  }
  return false;
}

void Identities::CopyTo(google::protobuf::RepeatedPtrField<ensemble::v1::Id>* out) const {
  out->Clear();
  for (const auto& e : ids_) *out->Add() = e;
}

AuthOutcome ApplyAuth(std::string_view scheme, std::string_view auth, std::string_view super_digest,
                      std::string_view client_ip, Identities* identities) {
  if (scheme == "digest") {
    std::string digest = DigestOf(auth);
    if (!super_digest.empty() && digest == super_digest) identities->Add("super", "");
    identities->Add("digest", digest);
    return AuthOutcome::kOk;
  }
  if (scheme == "ip") {
    identities->Add("ip", client_ip);
    return AuthOutcome::kOk;
  }
  return AuthOutcome::kAuthFailed;
}

std::string WhoAmIUser(const ensemble::v1::Id& id) {
  if (id.scheme() == "digest") {
    const size_t colon = id.id().find(':');
    return colon == std::string::npos ? id.id() : id.id().substr(0, colon);
  }
  return id.id();
}

}  // namespace ensemble::gateway
