// ConfChange encoding and the configuration rules.
#include "sidecar/raft/conf_change.h"

#include <gtest/gtest.h>

#include "sidecar/raft/types.h"

namespace raftmeta::raft {
namespace {

TEST(ConfChangeEncoding, RoundTripsEveryTypeWithContext) {
  for (auto type :
       {ConfChangeType::kAddLearner, ConfChangeType::kPromote, ConfChangeType::kRemove}) {
    ConfChange cc{type, 0x0102030405060708ull, std::string("host:7400\0x", 11)};
    auto back = decode_conf_change(encode_conf_change(cc));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, cc);
  }
}

TEST(ConfChangeEncoding, MalformedInputDecodesToNullopt) {
  const std::string good = encode_conf_change({ConfChangeType::kPromote, 7, "ctx"});
  EXPECT_FALSE(decode_conf_change("").has_value());
  EXPECT_FALSE(decode_conf_change(good.substr(0, 5)).has_value());  // truncated header
  EXPECT_FALSE(decode_conf_change(good.substr(0, good.size() - 1)).has_value());  // short context
  EXPECT_FALSE(decode_conf_change(good + "x").has_value());                       // trailing bytes
  std::string bad_version = good;
  bad_version[0] = 9;
  EXPECT_FALSE(decode_conf_change(bad_version).has_value());
  std::string bad_type = good;
  bad_type[1] = 3;
  EXPECT_FALSE(decode_conf_change(bad_type).has_value());
  std::string huge_len = good;
  huge_len[13] = static_cast<char>(0xff);
  EXPECT_FALSE(decode_conf_change(huge_len).has_value());
}

ConfState conf(std::vector<NodeId> voters, std::vector<NodeId> learners = {},
               std::vector<NodeId> removed = {}) {
  return ConfState{voters, learners, removed};
}

TEST(ConfChangeRules, AddLearnerThenPromoteThenRemove) {
  ConfState c = conf({1, 2, 3});
  c = apply_conf_change(c, {ConfChangeType::kAddLearner, 4, ""});
  EXPECT_EQ(c, conf({1, 2, 3}, {4}));
  c = apply_conf_change(c, {ConfChangeType::kPromote, 4, ""});
  EXPECT_EQ(c, conf({1, 2, 3, 4}));
  c = apply_conf_change(c, {ConfChangeType::kRemove, 2, ""});
  EXPECT_EQ(c, conf({1, 3, 4}, {}, {2}));
  EXPECT_TRUE(is_well_formed(c));
}

TEST(ConfChangeRules, RemovedIdIsRefusedForever) {
  ConfState c = conf({1, 2}, {}, {3});
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kAddLearner, 3, ""}), "");
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kPromote, 3, ""}), "");
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kRemove, 3, ""}), "");
  EXPECT_EQ(apply_conf_change(c, {ConfChangeType::kAddLearner, 3, ""}), c);
}

TEST(ConfChangeRules, RefusesImpossibleChanges) {
  const ConfState c = conf({1, 2}, {5});
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kAddLearner, 0, ""}), "");      // id 0
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kAddLearner, 2, ""}), "");      // already voter
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kAddLearner, 5, ""}), "");      // already learner
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kPromote, 9, ""}), "");         // not a learner
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kPromote, 1, ""}), "");         // already voter
  EXPECT_NE(check_conf_change(c, {ConfChangeType::kRemove, 9, ""}), "");          // not a member
  EXPECT_NE(check_conf_change(conf({1}), {ConfChangeType::kRemove, 1, ""}), "");  // last voter
  EXPECT_EQ(check_conf_change(c, {ConfChangeType::kRemove, 5, ""}), "");  // learner removal ok
}

TEST(ConfChangeRules, WellFormedness) {
  EXPECT_TRUE(is_well_formed(conf({1, 2, 3}, {4}, {5})));
  EXPECT_FALSE(is_well_formed(conf({2, 1})));
  EXPECT_FALSE(is_well_formed(conf({1, 1})));
  EXPECT_FALSE(is_well_formed(conf({0, 1})));
  EXPECT_FALSE(is_well_formed(conf({1, 2}, {2})));
  EXPECT_FALSE(is_well_formed(conf({1, 2}, {}, {2})));
}

}  // namespace
}  // namespace raftmeta::raft
