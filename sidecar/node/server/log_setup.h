// Logging of raftmeta-node: spdlog's default logger on stderr, in text for
// people or JSON lines for log collectors, at the --log-level given.
#pragma once

#include <string>

#include "sidecar/node/server/node_flags.h"

namespace raftmeta::node::server {

// Replaces spdlog's default logger. `level` is one of the --log-level names.
void setup_logging(const std::string& level, LogFormat format);

// `text` escaped for a JSON string (without the quotes).
std::string json_escape(const std::string& text);

}  // namespace raftmeta::node::server
