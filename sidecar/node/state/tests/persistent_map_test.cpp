#include "sidecar/node/state/persistent_map.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace raftmeta::state {
namespace {

using IntMap = PersistentMap<int, int>;

std::vector<std::pair<int, int>> contents(const IntMap& m) {
  std::vector<std::pair<int, int>> out;
  for (auto it = m.begin(); it != m.end(); ++it) out.emplace_back(it.key(), it.value());
  return out;
}

TEST(PersistentMapTest, MatchesStdMapUnderRandomSetAndErase) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> key(0, 499);
  IntMap m;
  std::map<int, int> reference;
  for (int step = 0; step < 20000; ++step) {
    const int k = key(rng);
    if (rng() % 3 == 0) {
      EXPECT_EQ(m.erase(k), reference.erase(k) == 1);
    } else {
      m.set(k, step);
      reference[k] = step;
    }
    ASSERT_EQ(m.size(), reference.size());
  }
  std::vector<std::pair<int, int>> expected(reference.begin(), reference.end());
  EXPECT_EQ(contents(m), expected);
  for (int k = 0; k < 500; ++k) {
    const int* v = m.find(k);
    auto it = reference.find(k);
    ASSERT_EQ(v != nullptr, it != reference.end()) << k;
    if (v != nullptr) {
      EXPECT_EQ(*v, it->second);
    }
  }
}

TEST(PersistentMapTest, StaysBalanced) {
  IntMap m;
  for (int i = 0; i < 100000; ++i) m.set(i, i);  // sorted inserts: worst case for a plain BST
  // AVL height bound: < 1.45 log2(n + 2).
  EXPECT_LT(m.height(), static_cast<int>(1.45 * std::log2(100000 + 2)) + 1);
  for (int i = 0; i < 100000; i += 2) m.erase(i);
  EXPECT_EQ(m.size(), 50000u);
  EXPECT_LT(m.height(), static_cast<int>(1.45 * std::log2(50000 + 2)) + 1);
}

TEST(PersistentMapTest, OldVersionsAreUnchangedAfterChangesToACopy) {
  IntMap v1;
  for (int i = 0; i < 100; ++i) v1.set(i, i);
  const auto before = contents(v1);
  IntMap v2 = v1;
  EXPECT_EQ(v2.root_identity(), v1.root_identity());  // a copy shares everything
  v2.set(50, -50);
  v2.erase(10);
  v2.set(1000, 1);
  EXPECT_EQ(contents(v1), before);
  EXPECT_EQ(*v1.find(50), 50);
  EXPECT_NE(v2.root_identity(), v1.root_identity());
  EXPECT_EQ(*v2.find(50), -50);
  EXPECT_FALSE(v2.contains(10));
  EXPECT_TRUE(v1.contains(10));
}

TEST(PersistentMapTest, EraseOfAMissingKeyKeepsTheSameTree) {
  IntMap m;
  m.set(1, 1);
  m.set(2, 2);
  const void* root = m.root_identity();
  EXPECT_FALSE(m.erase(3));
  EXPECT_EQ(m.root_identity(), root);
}

TEST(PersistentMapTest, LowerBoundFindsTheFirstKeyNotLess) {
  PersistentMap<std::string, int> m;
  for (const char* k : {"apple", "banana", "cherry", "date"}) m.set(k, 0);
  EXPECT_EQ(m.lower_bound("b").key(), "banana");
  EXPECT_EQ(m.lower_bound("banana").key(), "banana");
  EXPECT_EQ(m.lower_bound("bz").key(), "cherry");
  EXPECT_TRUE(m.lower_bound("e") == m.end());
  std::vector<std::string> rest;
  for (auto it = m.lower_bound("c"); it != m.end(); ++it) rest.push_back(it.key());
  EXPECT_EQ(rest, (std::vector<std::string>{"cherry", "date"}));
}

}  // namespace
}  // namespace raftmeta::state
