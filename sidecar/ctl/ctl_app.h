// raftmetactl: the command-line client of the Metadata and Admin services.
//
//   raftmetactl --endpoints host:7401[,host:7401] [-o table|json] <noun> <verb> [flags]
//
// Nouns and verbs (DESIGN.md's contract): topic create|list|get|delete,
// broker register|list|unregister, group list, offset commit|fetch,
// member list|add|promote|remove, leader transfer [--to N], status. Read verbs
// take --consistency linearizable|lease|stale (default linearizable).
//
// Exit codes: 0 success; 1 the request failed (one line on stderr: the gRPC
// status code name and message); 2 usage error (one line on stderr).
// Writes carry a generated client id and request id and are retried with the
// same ids (see endpoint_client.h).
#pragma once

#include <ostream>

namespace raftmeta::ctl {

int run_ctl(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace raftmeta::ctl
