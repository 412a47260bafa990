#include "services/storage/core/path_utils.h"

#include <cstdint>

#include "common/base/check.h"

namespace ensemble::storage {
namespace {

// Decodes one UTF-8 sequence at s[*i], advancing *i. Malformed input (bad lead
// byte, truncated or bad continuation, overlong form, encoded surrogate, above
// U+10FFFF) decodes as U+FFFD after consuming one byte, as Java's decoder
// replaces it.
uint32_t DecodeUtf8(absl::string_view s, size_t* i) {
  constexpr uint32_t kReplacement = 0xFFFD;
  const auto b0 = static_cast<uint8_t>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  size_t len;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    ++*i;
    return kReplacement;
  }
  if (*i + len > s.size()) {
    ++*i;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[*i + k]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return kReplacement;
  }
  *i += len;
  return cp;
}

bool IsForbiddenCodePoint(uint32_t c) {
  return (c >= 0x01 && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) || (c >= 0xD800 && c <= 0xF8FF) ||
         c >= 0xFFF0;  // Java: U+FFF0-U+FFFF, and every supplementary char is a surrogate pair.
}

}  // namespace

bool IsValidPath(absl::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  // Component rules work on ASCII bytes; a multi-byte character never contains
  // '/' or '.' bytes, so byte neighbours behave like Java's char neighbours.
  for (size_t i = 1; i < path.size();) {
    const char c = path[i];
    const char last = path[i - 1];
    if (c == '\0') return false;
    if (c == '/' && last == '/') return false;
    if (c == '.') {
      const bool ends_component = (i + 1 == path.size()) || path[i + 1] == '/';
      if (last == '.' && path[i - 2] == '/' && ends_component) return false;  // ".."
      if (last == '/' && ends_component) return false;                        // "."
      ++i;
      continue;
    }
    size_t next = i;
    const uint32_t cp = DecodeUtf8(path, &next);
    if (IsForbiddenCodePoint(cp)) return false;
    i = next;
  }
  return true;
}

absl::string_view ParentOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  ENSEMBLE_CHECK(slash != absl::string_view::npos);
  return path.substr(0, slash);
}

absl::string_view ChildNameOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  ENSEMBLE_CHECK(slash != absl::string_view::npos);
  return path.substr(slash + 1);
}

bool PathCovers(absl::string_view prefix, absl::string_view path) {
  if (prefix == "/") return true;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace ensemble::storage
