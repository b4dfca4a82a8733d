#include "sidecar/storage/record_codec.h"

#include <gtest/gtest.h>

namespace raftmeta::storage {
namespace {

TEST(RecordCodecTest, ConfStateRoundTrips) {
  raft::ConfState conf{{1, 2, 300}, {4}, {5, 1ull << 40, ~0ull}};
  auto decoded = decode_conf_state(encode_conf_state(conf));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, conf);
  auto empty = decode_conf_state(encode_conf_state({}));
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, raft::ConfState{});
}

TEST(RecordCodecTest, ConfStateRejectsMalformedInput) {
  const std::string good = encode_conf_state({{1, 2}, {3}, {}});
  EXPECT_FALSE(decode_conf_state(""));
  EXPECT_FALSE(decode_conf_state(std::string(1, '\x02') + good.substr(1)));  // unknown format
  for (std::size_t n = 1; n < good.size(); ++n) {
    EXPECT_FALSE(decode_conf_state(good.substr(0, n))) << "truncated to " << n;
  }
  EXPECT_FALSE(decode_conf_state(good + "x"));  // trailing bytes
  // A count larger than the remaining bytes.
  EXPECT_FALSE(decode_conf_state(std::string("\x01\x7f\x01", 3)));
}

TEST(RecordCodecTest, EntryCrcCoversEveryField) {
  const std::uint32_t base = entry_crc(5, 2, 0, "payload");
  EXPECT_NE(entry_crc(6, 2, 0, "payload"), base);
  EXPECT_NE(entry_crc(5, 3, 0, "payload"), base);
  EXPECT_NE(entry_crc(5, 2, 1, "payload"), base);
  EXPECT_NE(entry_crc(5, 2, 0, "paylaod"), base);
  EXPECT_EQ(entry_crc(5, 2, 0, "payload"), base);
}

TEST(RecordCodecTest, HardStateCrcCoversEveryField) {
  const std::uint32_t base = hard_state_crc({3, 1, 7});
  EXPECT_NE(hard_state_crc({4, 1, 7}), base);
  EXPECT_NE(hard_state_crc({3, 2, 7}), base);
  EXPECT_NE(hard_state_crc({3, 1, 8}), base);
}

}  // namespace
}  // namespace raftmeta::storage
