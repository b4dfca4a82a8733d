// The renderings of one run's results (the JSON raftmeta-bench writes): the
// Markdown table docs/performance.md and bench/results/ carry, and the data
// files the plots are drawn from.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace raftmeta::bench {

std::string render_markdown(const nlohmann::json& results);

// gnuplot data (bench/plots.gp): write throughput per client count, one line
// "clients raftmeta etcd grpc-ceiling"; and one line per row of latency
// percentiles, "label raftmeta-p50 p99 p99.9 etcd-p50 p99 p99.9".
std::string throughput_plot_data(const nlohmann::json& results);
std::string latency_plot_data(const nlohmann::json& results);

}  // namespace raftmeta::bench
