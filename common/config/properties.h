#pragma once

// The subset of java.util.Properties syntax that ZooKeeper's QuorumPeerConfig reads
// (Properties.load followed by trim() of every key and value). Pure: no files.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace ensemble::config {

// One key=value pair as written, with the 1-based number of the physical line on
// which its logical line starts.
struct PropertyLine {
  std::string key;
  std::string value;
  int line = 0;
};

// Splits `text` into key/value pairs exactly as java.util.Properties.load does:
// - lines end at \n, \r or \r\n; a line ending in an odd number of backslashes
//   continues on the next line, whose leading whitespace is dropped;
// - a line whose first non-blank character is '#' or '!' is a comment; blank lines
//   are skipped;
// - the key ends at the first unescaped '=', ':' or whitespace; then whitespace,
//   at most one '=' or ':', and more whitespace are skipped; the rest is the value
//   (so `k=v`, `k = v`, `k: v` and `k v` are all the same);
// - escapes \t \n \r \f \uXXXX and backslash-anything (the character itself) are
//   decoded in keys and values.
// Then, like QuorumPeerConfig, keys and values are trimmed of ASCII whitespace.
// Bytes are kept as they are (UTF-8 passes through; \uXXXX is encoded as UTF-8),
// and a leading UTF-8 byte-order mark is skipped.
// Pairs come back in file order; a repeated key appears twice (the caller decides).
//
// Errors (InvalidArgument, message "<source_name>:<line>: ..."): a malformed \u
// escape, an empty key.
absl::StatusOr<std::vector<PropertyLine>> ReadProperties(std::string_view text,
                                                         std::string_view source_name);

// Escapes a key or a value so that ReadProperties (and Java) read it back unchanged.
// Keys escape separators and comment starters; values escape backslashes, control
// characters and a leading blank.
std::string EscapePropertyKey(std::string_view key);
std::string EscapePropertyValue(std::string_view value);

}  // namespace ensemble::config
