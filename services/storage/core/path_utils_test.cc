#include "services/storage/core/path_utils.h"

#include <string>

#include "gtest/gtest.h"

namespace ensemble::storage {
namespace {

TEST(PathUtils, AcceptsRootAndPlainPaths) {
  EXPECT_TRUE(IsValidPath("/"));
  EXPECT_TRUE(IsValidPath("/a"));
  EXPECT_TRUE(IsValidPath("/a/b-c_d.e"));
  EXPECT_TRUE(IsValidPath("/a/..b"));
  EXPECT_TRUE(IsValidPath("/a/b.."));
  EXPECT_TRUE(IsValidPath("/caf\xc3\xa9"));  // é
}

TEST(PathUtils, RejectsStructuralErrors) {
  EXPECT_FALSE(IsValidPath(""));
  EXPECT_FALSE(IsValidPath("a"));
  EXPECT_FALSE(IsValidPath("/a/"));
  EXPECT_FALSE(IsValidPath("//a"));
  EXPECT_FALSE(IsValidPath("/a//b"));
  EXPECT_FALSE(IsValidPath("/."));
  EXPECT_FALSE(IsValidPath("/a/./b"));
  EXPECT_FALSE(IsValidPath("/.."));
  EXPECT_FALSE(IsValidPath("/a/../b"));
  EXPECT_FALSE(IsValidPath(std::string("/a\0b", 4)));
}

TEST(PathUtils, RejectsCharactersJavaRejects) {
  EXPECT_FALSE(IsValidPath("/a\x01"));
  EXPECT_FALSE(IsValidPath("/a\x1f"));
  EXPECT_FALSE(IsValidPath("/a\x7f"));
  EXPECT_FALSE(IsValidPath("/a\xc2\x80"));          // U+0080
  EXPECT_FALSE(IsValidPath("/a\xee\x80\x80"));      // U+E000, private use
  EXPECT_FALSE(IsValidPath("/a\xef\xbf\xbf"));      // U+FFFF
  EXPECT_FALSE(IsValidPath("/a\xf0\x9f\x98\x80"));  // U+1F600: a surrogate pair in Java
  EXPECT_FALSE(IsValidPath("/a\xff"));              // malformed: U+FFFD
  EXPECT_FALSE(IsValidPath("/a\xc0\xaf"));          // overlong '/'
  EXPECT_TRUE(IsValidPath("/a\xef\xbf\xaf"));       // U+FFEF is fine
}

TEST(PathUtils, ParentAndChild) {
  EXPECT_EQ(ParentOf("/a/b"), "/a");
  EXPECT_EQ(ParentOf("/a"), "");
  EXPECT_EQ(ChildNameOf("/a/b"), "b");
  EXPECT_TRUE(PathCovers("/a", "/a"));
  EXPECT_TRUE(PathCovers("/a", "/a/b"));
  EXPECT_FALSE(PathCovers("/a", "/ab"));
  EXPECT_TRUE(PathCovers("/", "/ab"));
}

}  // namespace
}  // namespace ensemble::storage
