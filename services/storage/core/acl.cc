#include "services/storage/core/acl.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/storage/core/hash.h"

namespace ensemble::storage {
namespace {

constexpr absl::string_view kWorld = "world";
constexpr absl::string_view kAnyone = "anyone";
constexpr absl::string_view kAuthScheme = "auth";
constexpr absl::string_view kDigest = "digest";
constexpr absl::string_view kIp = "ip";
constexpr absl::string_view kSuper = "super";

// Java's Integer.parseInt for ASCII input: optional sign, then digits, within
// int32 range.
std::optional<int32_t> JavaParseInt(absl::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
    if (v > 2147483648LL) return std::nullopt;
  }
  if (negative) v = -v;
  if (v > 2147483647LL || v < -2147483648LL) return std::nullopt;
  return static_cast<int32_t>(v);
}

// IPAuthenticationProvider.v4addr2Bytes (3.8 knows no IPv6 here).
std::optional<std::array<uint8_t, 4>> V4AddrToBytes(absl::string_view addr) {
  std::array<uint8_t, 4> out{};
  size_t part = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = addr.find('.', start);
    const absl::string_view piece =
        addr.substr(start, dot == absl::string_view::npos ? absl::string_view::npos : dot - start);
    if (part >= 4) return std::nullopt;
    const auto v = JavaParseInt(piece);
    if (!v || *v < 0 || *v > 255) return std::nullopt;
    out[part++] = static_cast<uint8_t>(*v);
    if (dot == absl::string_view::npos) break;
    start = dot + 1;
  }
  if (part != 4) return std::nullopt;
  return out;
}

void MaskBits(std::array<uint8_t, 4>* b, int bits) {
  size_t start = static_cast<size_t>(bits / 8);
  int start_mask = ~((1 << (8 - (bits % 8))) - 1);
  while (start < b->size()) {
    (*b)[start] = static_cast<uint8_t>((*b)[start] & start_mask);
    start_mask = 0;
    ++start;
  }
}

// Splits an "addr[/bits]" expression like Java's split("/", 2); returns the
// prefix length, or nullopt if malformed.
std::optional<std::pair<std::array<uint8_t, 4>, int>> ParseIpExpr(absl::string_view expr) {
  const size_t slash = expr.find('/');
  const auto addr = V4AddrToBytes(expr.substr(0, slash));
  if (!addr) return std::nullopt;
  int bits = 32;
  if (slash != absl::string_view::npos) {
    const auto b = JavaParseInt(expr.substr(slash + 1));
    if (!b || *b < 0 || *b > 32) return std::nullopt;
    bits = *b;
  }
  return std::make_pair(*addr, bits);
}

bool IpMatches(absl::string_view client_addr, absl::string_view acl_expr) {
  auto parsed = ParseIpExpr(acl_expr);
  if (!parsed) return false;
  auto [acl_addr, bits] = *parsed;
  MaskBits(&acl_addr, bits);
  auto remote = V4AddrToBytes(client_addr);
  if (!remote) return false;
  MaskBits(&*remote, bits);
  return *remote == acl_addr;
}

// DigestAuthenticationProvider.isValid: id.split(":").length == 2, with
// Java's removal of trailing empty strings.
bool IsValidDigestId(absl::string_view id) {
  if (id.empty()) return false;  // [""]: one part
  std::vector<absl::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t colon = id.find(':', start);
    if (colon == absl::string_view::npos) {
      parts.push_back(id.substr(start));
      break;
    }
    parts.push_back(id.substr(start, colon - start));
    start = colon + 1;
  }
  while (!parts.empty() && parts.back().empty()) parts.pop_back();
  return parts.size() == 2;
}

// The providers ZooKeeper registers by default (ProviderRegistry): "ip" and
// "digest". Their isValid / matches / isAuthenticated.
bool IsKnownScheme(absl::string_view scheme) { return scheme == kDigest || scheme == kIp; }
bool IsAuthenticatedScheme(absl::string_view scheme) { return scheme == kDigest; }
bool IsValidId(absl::string_view scheme, absl::string_view id) {
  if (scheme == kDigest) return IsValidDigestId(id);
  if (scheme == kIp) return ParseIpExpr(id).has_value();
  return false;
}
bool Matches(absl::string_view scheme, absl::string_view id, absl::string_view acl_expr) {
  if (scheme == kDigest) return id == acl_expr;
  if (scheme == kIp) return IpMatches(id, acl_expr);
  return false;
}

std::string AclKey(const AclList& acls) {
  std::string key;
  for (const Acl& a : acls) {
    absl::StrAppend(&key, a.perms, ":", a.id.scheme.size(), ":", a.id.scheme, a.id.id.size(), ":",
                    a.id.id, ";");
  }
  return key;
}

uint64_t AclHash(const AclList& acls) {
  uint64_t h = 0x41434c53ULL;  // "ACLS"
  for (const Acl& a : acls) {
    h = HashCombine(h, static_cast<uint32_t>(a.perms));
    h = HashCombine(h, HashBytes(a.id.scheme, 1));
    h = HashCombine(h, HashBytes(a.id.id, 2));
  }
  return h;
}

// Java regex line terminators end a ".*" match.
size_t LineTerminatorLength(absl::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c == '\n' || c == '\r') return 1;
  if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return 2;
  if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
      (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
       static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
    return 3;
  }
  return 0;
}

uint32_t Rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

AclList OpenAclUnsafe() { return {Acl{perms::kAll, Id{"world", "anyone"}}}; }
AclList ReadAclUnsafe() { return {Acl{perms::kRead, Id{"world", "anyone"}}}; }

std::vector<Id> IdsFromProto(const google::protobuf::RepeatedPtrField<ensemble::v1::Id>& ids) {
  std::vector<Id> out;
  out.reserve(ids.size());
  for (const auto& id : ids) out.push_back(Id{id.scheme(), id.id()});
  return out;
}

AclList AclsFromProto(const google::protobuf::RepeatedPtrField<ensemble::v1::Acl>& acls) {
  AclList out;
  out.reserve(acls.size());
  for (const auto& a : acls) out.push_back(Acl{a.perms(), Id{a.id().scheme(), a.id().id()}});
  return out;
}

void AclsToProto(const AclList& acls, google::protobuf::RepeatedPtrField<ensemble::v1::Acl>* out) {
  out->Clear();
  for (const Acl& a : acls) {
    ensemble::v1::Acl* p = out->Add();
    p->set_perms(a.perms);
    p->mutable_id()->set_scheme(a.id.scheme);
    p->mutable_id()->set_id(a.id.id);
  }
}

AclRef AclCache::Intern(AclList acls) {
  std::string key = AclKey(acls);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    if (AclRef live = it->second.lock()) return live;
  }
  // A separate allocation (not make_shared), so a dead weak entry keeps only
  // the control block alive until the next sweep.
  auto* set = new AclSet;
  set->hash = AclHash(acls);
  set->acls = std::move(acls);
  AclRef ref(set);
  by_key_.insert_or_assign(std::move(key), ref);
  if (by_key_.size() >= sweep_at_) {
    PurgeUnused();
    sweep_at_ = std::max<size_t>(64, 2 * by_key_.size());
  }
  return ref;
}

void AclCache::PurgeUnused() {
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (it->second.expired()) {
      by_key_.erase(it++);
    } else {
      ++it;
    }
  }
}

ZkError CheckAcl(const AclList& acl, int32_t perm, const std::vector<Id>& auth) {
  if (acl.empty()) return ZkError::kOk;
  for (const Id& id : auth) {
    if (id.scheme == kSuper) return ZkError::kOk;
  }
  for (const Acl& a : acl) {
    if ((a.perms & perm) == 0) continue;
    if (a.id.scheme == kWorld && a.id.id == kAnyone) return ZkError::kOk;
    if (!IsKnownScheme(a.id.scheme)) continue;
    for (const Id& id : auth) {
      if (id.scheme == a.id.scheme && Matches(a.id.scheme, id.id, a.id.id)) return ZkError::kOk;
    }
  }
  return ZkError::kNoAuth;
}

ZkError FixupAcl(const AclList& requested, const std::vector<Id>& auth, AclList* out) {
  AclList unique;
  for (const Acl& a : requested) {
    bool seen = false;
    for (const Acl& u : unique) seen = seen || u == a;
    if (!seen) unique.push_back(a);
  }
  if (unique.empty()) return ZkError::kInvalidAcl;
  AclList result;
  for (const Acl& a : unique) {
    if (a.id.scheme == kWorld && a.id.id == kAnyone) {
      result.push_back(a);
    } else if (a.id.scheme == kAuthScheme) {
      bool expanded = false;
      for (const Id& id : auth) {
        if (IsAuthenticatedScheme(id.scheme)) {
          expanded = true;
          result.push_back(Acl{a.perms, id});
        }
      }
      if (!expanded) return ZkError::kInvalidAcl;
    } else {
      if (!IsKnownScheme(a.id.scheme) || !IsValidId(a.id.scheme, a.id.id)) {
        return ZkError::kInvalidAcl;
      }
      result.push_back(a);
    }
  }
  *out = std::move(result);
  return ZkError::kOk;
}

void MaskDigestIds(AclList* acls) {
  for (Acl& a : *acls) {
    if (a.id.scheme != kDigest) continue;
    const std::string& s = a.id.id;
    std::string masked;
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] != ':') {
        masked.push_back(s[i++]);
        continue;
      }
      masked.append(":x");
      ++i;
      while (i < s.size() && LineTerminatorLength(s, i) == 0) ++i;
    }
    a.id.id = std::move(masked);
  }
}

std::string Sha1(absl::string_view data) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  std::string msg(data);
  const uint64_t bit_len = static_cast<uint64_t>(data.size()) * 8;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int i = 7; i >= 0; --i) msg.push_back(static_cast<char>((bit_len >> (i * 8)) & 0xFF));
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[80];
    for (int i = 0; i < 16; ++i) {
      w[i] = (static_cast<uint32_t>(static_cast<uint8_t>(msg[off + 4 * i])) << 24) |
             (static_cast<uint32_t>(static_cast<uint8_t>(msg[off + 4 * i + 1])) << 16) |
             (static_cast<uint32_t>(static_cast<uint8_t>(msg[off + 4 * i + 2])) << 8) |
             static_cast<uint32_t>(static_cast<uint8_t>(msg[off + 4 * i + 3]));
    }
    for (int i = 16; i < 80; ++i) w[i] = Rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; ++i) {
      uint32_t f, k;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5A827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ED9EBA1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8F1BBCDC;
      } else {
        f = b ^ c ^ d;
        k = 0xCA62C1D6;
      }
      const uint32_t t = Rotl(a, 5) + f + e + k + w[i];
      e = d;
      d = c;
      c = Rotl(b, 30);
      b = a;
      a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  std::string out;
  for (uint32_t v : h) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
  }
  return out;
}

std::string DigestId(absl::string_view user_password) {
  const size_t colon = user_password.find(':');
  const absl::string_view user = user_password.substr(0, colon);
  return absl::StrCat(user, ":", absl::Base64Escape(Sha1(user_password)));
}

}  // namespace ensemble::storage
