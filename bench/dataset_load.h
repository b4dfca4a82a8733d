// load_dataset: fills a raftmeta cluster with a metadata set of a given size
// for the resource measurement (the issue's "member holding 10,000 topics of
// 10 partitions and 100,000 committed offsets"): topics "ds-<n>" with
// `partitions` partitions each (replication factor 1 on broker 1, which
// RaftmetaDriver::prepare registered), created with 64 requests outstanding,
// then `offsets` committed offsets in requests of up to 1,000 (each group
// "ds-group-<k>" commits every partition of a run of topics).
//
// Thread use: the calling thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace raftmeta::bench {

struct DatasetSize {
  int topics = 10000;
  int partitions = 10;
  int offsets = 100000;
};

// Returns false with *error when a request failed for good.
bool load_dataset(const std::shared_ptr<grpc::Channel>& channel, const std::string& cluster_id,
                  const DatasetSize& size, std::string* error);

}  // namespace raftmeta::bench
