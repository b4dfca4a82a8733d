#include "sidecar/ctl/output.h"

#include <gtest/gtest.h>

#include <sstream>

#include "raftmeta/v1/metadata.pb.h"
#include "sidecar/ctl/endpoint_client.h"

namespace raftmeta::ctl {
namespace {

TEST(Table, ColumnsAlignWithoutTrailingSpaces) {
  Table t({"NAME", "PARTITIONS"});
  t.add_row({"orders", "12"});
  t.add_row({"a", "1"});
  std::ostringstream out;
  t.print(out);
  EXPECT_EQ(out.str(),
            "NAME    PARTITIONS\n"
            "orders  12\n"
            "a       1\n");
}

TEST(Json, PrintsProtoFieldNamesAndDefaults) {
  raftmeta::v1::ListTopicsResponse r;
  r.set_revision(7);
  r.add_topics()->set_name("t1");
  const std::string json = to_json(r);
  EXPECT_NE(json.find("\"revision\":\"7\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\":\"t1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"more\":false"), std::string::npos) << "defaults are printed: " << json;
  EXPECT_NE(json.find("\"replication_factor\":0"), std::string::npos) << json;
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(Endpoints, SplitTrimsAndDropsEmpty) {
  EXPECT_EQ(split_endpoints("a:1, b:2,,c:3 "), (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_TRUE(split_endpoints(" , ").empty());
}

TEST(Endpoints, ClientIdsDiffer) {
  EXPECT_NE(generate_client_id(), generate_client_id());
  EXPECT_TRUE(generate_client_id().starts_with("ctl-"));
}

}  // namespace
}  // namespace raftmeta::ctl
