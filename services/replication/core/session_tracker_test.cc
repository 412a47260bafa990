#include "services/replication/core/session_tracker.h"

#include <gtest/gtest.h>

namespace ensemble::zab {
namespace {

TEST(SessionTracker, ExpiresAfterTimeoutRoundedUpToTick) {
  SessionTracker t(100);
  t.Add(1, 250, 0);  // deadline rounded up to 300
  EXPECT_TRUE(t.TakeExpired(299).empty());
  auto expired = t.TakeExpired(300);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0], 1);
  EXPECT_FALSE(t.Contains(1));
}

TEST(SessionTracker, TouchPostponesExpiry) {
  SessionTracker t(100);
  t.Add(1, 1000, 0);
  EXPECT_TRUE(t.Touch(1, 900));
  EXPECT_TRUE(t.TakeExpired(1500).empty());
  EXPECT_EQ(t.TakeExpired(2000).size(), 1u);
}

TEST(SessionTracker, TouchOfUnknownSessionFails) {
  SessionTracker t(100);
  EXPECT_FALSE(t.Touch(7, 0));
}

TEST(SessionTracker, RemovedSessionNeverExpires) {
  SessionTracker t(100);
  t.Add(1, 100, 0);
  t.Remove(1);
  EXPECT_TRUE(t.TakeExpired(100000).empty());
}

TEST(SessionTracker, ExpiresOldestFirst) {
  SessionTracker t(10);
  t.Add(2, 500, 0);
  t.Add(1, 100, 0);
  auto expired = t.TakeExpired(1000);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0], 1);
  EXPECT_EQ(expired[1], 2);
}

}  // namespace
}  // namespace ensemble::zab
