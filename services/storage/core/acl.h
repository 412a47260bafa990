#pragma once

// ZooKeeper's ACL model as applied by the storage core: identities, ACL
// lists, the shared (reference-counted, de-duplicated) ACL table of
// ReferenceCountedACLCache, and the checks of ZooKeeperServer.checkACL and
// PrepRequestProcessor.fixupACL for the built-in schemes (world, auth,
// digest, ip, super).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_map.h"
#include "ensemble/types.pb.h"
#include "google/protobuf/repeated_field.h"
#include "services/storage/core/zk_codes.h"

namespace ensemble::storage {

// An identity: scheme and id (e.g. {"digest", "user:base64(sha1)"},
// {"ip", "127.0.0.1"}, {"super", ""}).
struct Id {
  std::string scheme;
  std::string id;
  friend bool operator==(const Id&, const Id&) = default;
};

struct Acl {
  int32_t perms = 0;
  Id id;
  friend bool operator==(const Acl&, const Acl&) = default;
};

using AclList = std::vector<Acl>;

// An immutable, shared ACL list with its content hash (for the tree digest).
struct AclSet {
  AclList acls;
  uint64_t hash = 0;
};
using AclRef = std::shared_ptr<const AclSet>;

// world:anyone with every permission (ZooDefs.Ids.OPEN_ACL_UNSAFE).
AclList OpenAclUnsafe();
// world:anyone read-only (ZooDefs.Ids.READ_ACL_UNSAFE).
AclList ReadAclUnsafe();

// Conversions from and to the protobuf messages.
std::vector<Id> IdsFromProto(const google::protobuf::RepeatedPtrField<ensemble::v1::Id>& ids);
AclList AclsFromProto(const google::protobuf::RepeatedPtrField<ensemble::v1::Acl>& acls);
void AclsToProto(const AclList& acls, google::protobuf::RepeatedPtrField<ensemble::v1::Acl>* out);

// Interns ACL lists so equal lists share one AclSet (ZooKeeper's
// ReferenceCountedACLCache). The cache holds weak references: a set lives
// while some node (of this tree or of a clone) holds it, and dead entries are
// swept as the table grows. Not thread-safe; the AclSets themselves are
// immutable and may be shared across threads.
class AclCache {
 public:
  AclRef Intern(AclList acls);
  // Drops the entries no node holds any more.
  void PurgeUnused();
  size_t size() const { return by_key_.size(); }

 private:
  absl::flat_hash_map<std::string, std::weak_ptr<const AclSet>> by_key_;
  size_t sweep_at_ = 64;
};

// ZooKeeperServer.checkACL: kOk if `auth` may do `perm` on a node with `acl`.
// An empty ACL allows everything; a "super" identity is allowed everything;
// otherwise some entry with a `perm` bit must be world:anyone or match an
// identity of its scheme (digest: equal id; ip: address/prefix-bits match).
// Anything else is kNoAuth.
ZkError CheckAcl(const AclList& acl, int32_t perm, const std::vector<Id>& auth);

// PrepRequestProcessor.fixupACL: drops duplicates, rejects an empty list,
// keeps world:anyone, expands "auth" into the requester's authenticated
// identities (those of the digest scheme), and keeps digest/ip entries whose
// id is well formed. Anything else is kInvalidAcl.
ZkError FixupAcl(const AclList& requested, const std::vector<Id>& auth, AclList* out);

// FinalRequestProcessor's getACL for a caller without ADMIN: digest ids lose
// their hash ("user:hash" -> "user:x", Java's replaceAll(":.*", ":x")).
void MaskDigestIds(AclList* acls);

// The digest scheme's id for "user:password": "user:" + base64(sha1(
// "user:password")) (DigestAuthenticationProvider.generateDigest).
std::string DigestId(absl::string_view user_password);

// SHA-1 of `data` (20 bytes), for DigestId.
std::string Sha1(absl::string_view data);

}  // namespace ensemble::storage
