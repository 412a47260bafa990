#pragma once

// Identities and secrets of the client protocol: ZooKeeper's digest scheme, the
// session password, and the identities a connection presents for ACL checks.
// Pure: no I/O, no clocks (OpenSSL's libcrypto computes the hashes).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ensemble/types.pb.h"

namespace ensemble::gateway {

// The secret that keys session passwords when ensemble.sessionSecret is not set.
// Every gateway must use the same secret, so a client can re-attach anywhere;
// a deployment that cares sets its own.
inline constexpr std::string_view kDefaultSessionSecret = "ensemble-session-secret-v1";

// ZooKeeper's DigestAuthenticationProvider.generateDigest: for "user:password"
// returns "user:" + base64(sha1("user:password")). Without a ':' the whole input
// is the user name (Java's split(":", 2) behaves the same way).
std::string DigestOf(std::string_view user_password);

// The 16-byte password of a session: the first 16 bytes of
// HMAC-SHA256(secret, big-endian session id). Any gateway with the same secret
// computes the same value, so no password is stored anywhere.
std::string SessionPassword(std::string_view secret, int64_t session_id);

// Constant-time check of a password a client presents when re-attaching.
bool CheckSessionPassword(std::string_view secret, int64_t session_id, std::string_view passwd);

// The identities of one connection (ZooKeeper's ServerCnxn.authInfo), in the order
// they were added, without duplicates. Every connection starts with
// {"ip", client address}.
class Identities {
 public:
  explicit Identities(std::string_view client_ip);

  // Adds an identity unless it is already present.
  void Add(std::string_view scheme, std::string_view id);
  bool Has(std::string_view scheme, std::string_view id) const;

  const std::vector<ensemble::v1::Id>& ids() const { return ids_; }
  // Copies the identities into a repeated proto field (TxnHeader.auth, ReadRequest.auth).
  void CopyTo(google::protobuf::RepeatedPtrField<ensemble::v1::Id>* out) const;

 private:
  std::vector<ensemble::v1::Id> ids_;
};

// The outcome of an AuthPacket (ZooKeeper's ServerAuthenticationProvider).
enum class AuthOutcome {
  kOk,          // identities were added
  kAuthFailed,  // unknown scheme: ZooKeeper answers AUTHFAILED and closes
};

// Applies `addauth scheme auth` to `identities`:
//   digest  adds {digest, DigestOf(auth)}; also {super, ""} when that digest equals
//           `super_digest` ("super:<base64>", DigestAuthenticationProvider.superDigest)
//   ip      adds {ip, client ip} (already present; ZooKeeper's IPAuthenticationProvider)
//   other   kAuthFailed (no provider, as in ZooKeeper without extra providers)
AuthOutcome ApplyAuth(std::string_view scheme, std::string_view auth, std::string_view super_digest,
                      std::string_view client_ip, Identities* identities);

// The user name whoAmI reports for an identity: for digest the part before ':',
// otherwise the id itself (ZooKeeper's getUserName of each provider).
std::string WhoAmIUser(const ensemble::v1::Id& id);

}  // namespace ensemble::gateway
