#include "sidecar/node/server/request_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace raftmeta::node::server {
namespace {

TEST(RequestExecutor, RunsEveryQueuedTask) {
  std::atomic<int> ran{0};
  {
    RequestExecutor executor(4, 100);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(executor.submit([&] { ran.fetch_add(1); }));
    executor.stop();
  }
  EXPECT_EQ(ran.load(), 100);
}

TEST(RequestExecutor, RefusesBeyondCapacityInsteadOfGrowing) {
  RequestExecutor executor(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  // Occupies the only worker until released.
  ASSERT_TRUE(executor.submit([&, released] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  EXPECT_TRUE(executor.submit([] {}));
  EXPECT_TRUE(executor.submit([] {}));
  EXPECT_FALSE(executor.submit([] {})) << "a third queued task exceeds the capacity of 2";
  release.set_value();
  executor.stop();
}

TEST(RequestExecutor, RefusesAfterStop) {
  RequestExecutor executor(2, 10);
  executor.stop();
  EXPECT_FALSE(executor.submit([] {}));
}

}  // namespace
}  // namespace raftmeta::node::server
