#include "sidecar/node/state/persistent_map.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
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

TEST(PersistentMapTest, AnUnsharedMapIsChangedInPlaceAndASharedOneIsCopied) {
  IntMap m;
  for (int i = 0; i < 100; ++i) m.set(i, i);
  const void* root = m.root_identity();
  m.set(50, -50);  // replacing a value needs no rotation: the same nodes
  EXPECT_EQ(m.root_identity(), root);
  EXPECT_EQ(*m.find(50), -50);

  const IntMap copy = m;
  const auto before = contents(copy);
  m.set(50, 50);
  EXPECT_NE(m.root_identity(), root);  // shared with `copy`: path-copied
  EXPECT_EQ(contents(copy), before);
  EXPECT_EQ(*copy.find(50), -50);

  // The new path is this map's alone again: later changes reuse it.
  const void* copied_root = m.root_identity();
  m.set(50, 7);
  EXPECT_EQ(m.root_identity(), copied_root);
  EXPECT_EQ(*copy.find(50), -50);
}

// Every version taken along the way keeps its contents however the original
// is changed afterwards (in place where it can, copied where it must).
TEST(PersistentMapTest, VersionsTakenAmidRandomChangesKeepTheirContents) {
  std::mt19937 rng(777);
  std::uniform_int_distribution<int> key(0, 299);
  IntMap m;
  std::map<int, int> reference;
  std::vector<std::pair<IntMap, std::map<int, int>>> versions;
  for (int step = 0; step < 30000; ++step) {
    const int k = key(rng);
    switch (rng() % 4) {
      case 0:
        EXPECT_EQ(m.erase(k), reference.erase(k) == 1);
        break;
      case 1:
        if (!m.empty()) {  // erase through a reference into the map itself
          const int first = reference.begin()->first;
          EXPECT_TRUE(m.erase(m.begin().key()));
          reference.erase(first);
        }
        break;
      default:
        m.set(k, step);
        reference[k] = step;
    }
    if (step % 97 == 0) versions.emplace_back(m, reference);
    if (step % 1001 == 0 && versions.size() > 40) versions.erase(versions.begin());
  }
  using Pairs = std::vector<std::pair<int, int>>;
  EXPECT_EQ(contents(m), Pairs(reference.begin(), reference.end()));
  for (const auto& [version, expected] : versions) {
    ASSERT_EQ(contents(version), Pairs(expected.begin(), expected.end()));
    ASSERT_EQ(version.size(), expected.size());
  }
}

// The apply loop's pattern: one thread changes its working map and publishes
// a copy now and then; readers walk published copies while the working map
// is changed in place. Under ThreadSanitizer this proves the reference
// counts order a reader's last look at a node before the writer reuses it.
TEST(PersistentMapTest, ReadersOfPublishedCopiesNeverSeeInPlaceChanges) {
  struct Published {
    IntMap map;
    long long sum = 0;
  };
  std::mutex mu;
  std::shared_ptr<const Published> published = std::make_shared<const Published>();
  std::atomic<bool> done{false};
  std::atomic<long> checks{0};
  auto reader = [&] {
    while (!done.load()) {
      std::shared_ptr<const Published> p;
      {
        std::lock_guard<std::mutex> lock(mu);
        p = published;
      }
      long long sum = 0;
      int last = -1;
      for (auto it = p->map.begin(); it != p->map.end(); ++it) {
        EXPECT_GT(it.key(), last);
        last = it.key();
        sum += it.value();
      }
      EXPECT_EQ(sum, p->sum);
      checks.fetch_add(1);
    }
  };
  std::thread r1(reader);
  std::thread r2(reader);
  IntMap working;
  long long sum = 0;
  std::mt19937 rng(99);
  for (int step = 1; step <= 20000; ++step) {
    const int k = static_cast<int>(rng() % 500);
    if (const int* old = working.find(k)) sum -= *old;
    if (rng() % 4 == 0) {
      working.erase(k);
    } else {
      working.set(k, step);
      sum += step;
    }
    if (step % 20 == 0) {
      auto next = std::make_shared<const Published>(Published{working, sum});
      std::lock_guard<std::mutex> lock(mu);
      published = std::move(next);
    }
  }
  // Let the readers see the final version at least once each.
  const long seen = checks.load();
  while (checks.load() < seen + 2) std::this_thread::yield();
  done = true;
  r1.join();
  r2.join();
}

// The ordering the in-place change relies on, without any other
// synchronization to hide a mistake: the reader takes a version (under a
// mutex, before it reads), walks it, lets go of it and says so through a
// RELAXED flag, which orders nothing. The writer then changes the nodes the
// reader just walked in place. Only the reference counts (released by the
// reader, read with acquire by the writer) order the reader's reads before
// those writes; ThreadSanitizer reports a race if they do not (it does with
// a relaxed read of the count).
TEST(PersistentMapTest, AVersionLetGoOfByAReaderIsReusedOnlyAfterItsReads) {
  IntMap working;
  for (int i = 0; i < 200; ++i) working.set(i, i);
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<const IntMap> handed;
  int handed_round = -1;
  std::atomic<int> dropped_round{-1};
  constexpr int kRounds = 100;
  std::thread reader([&] {
    for (int r = 0; r < kRounds; ++r) {
      std::shared_ptr<const IntMap> version;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return handed_round == r; });
        version = std::move(handed);
      }
      long long sum = 0;
      for (auto it = version->begin(); it != version->end(); ++it) sum += it.value();
      EXPECT_GT(sum, 0);
      version.reset();  // the last reference to this version
      dropped_round.store(r, std::memory_order_relaxed);
    }
  });
  for (int r = 0; r < kRounds; ++r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      handed = std::make_shared<const IntMap>(working);
      handed_round = r;
    }
    cv.notify_one();
    while (dropped_round.load(std::memory_order_relaxed) != r) std::this_thread::yield();
    const void* root = working.root_identity();
    for (int i = 0; i < 200; i += 3) working.set(i, r + i + 1);  // in place: nobody else holds them
    EXPECT_EQ(working.root_identity(), root);
  }
  reader.join();
}

}  // namespace
}  // namespace raftmeta::state
