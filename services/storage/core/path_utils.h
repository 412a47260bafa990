#pragma once

// Znode path helpers with ZooKeeper's exact rules (PathUtils.validatePath,
// the parent/child split of DataTree.createNode).

#include "absl/strings/string_view.h"

namespace ensemble::storage {

// ZooKeeper's PathUtils.validatePath: absolute, no empty component, no "." or
// ".." component, no trailing '/', no NUL, no control character (U+0001-U+001F,
// U+007F-U+009F), nothing in U+D800-U+F8FF or U+FFF0-U+FFFF. The path is UTF-8;
// Java sees a supplementary character as two surrogates (U+D800-U+DFFF) and a
// malformed sequence as U+FFFD, so both are rejected here too.
bool IsValidPath(absl::string_view path);

// Everything before the last '/' ("" for "/a"; ZooKeeper keeps the root under
// both "" and "/"). REQUIRES: path contains '/'.
absl::string_view ParentOf(absl::string_view path);

// Everything after the last '/'. REQUIRES: path contains '/'.
absl::string_view ChildNameOf(absl::string_view path);

// True if `path` is `prefix` or lies below it ("/a" covers "/a" and "/a/b",
// not "/ab"). The root covers everything.
bool PathCovers(absl::string_view prefix, absl::string_view path);

}  // namespace ensemble::storage
