// render_markdown: the human-readable table of one run's results (the JSON
// raftmeta-bench writes), as docs/performance.md and bench/results/ carry it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace raftmeta::bench {

std::string render_markdown(const nlohmann::json& results);

}  // namespace raftmeta::bench
