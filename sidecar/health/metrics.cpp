#include "sidecar/health/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>

namespace raftmeta::health {
namespace {

constexpr std::array<std::string_view, 3> kProposalResultNames = {"ok", "dropped", "failed"};
constexpr std::array<std::string_view, 3> kConsistencyNames = {"linearizable", "lease", "stale"};

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // Shortest text that reads back as the same double ("0.00025", "1e-07").
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_set(const std::vector<std::pair<std::string, std::string>>& labels,
                      const std::string& extra_name = {}, const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ",";
    first = false;
    out += name + "=\"" + escape_label_value(value) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ",";
    out += extra_name + "=\"" + escape_label_value(extra_value) + "\"";
  }
  return out + "}";
}

MetricFamilyData scalar(std::string name, std::string help, MetricFamilyData::Type type,
                        double value) {
  MetricFamilyData f{std::move(name), std::move(help), type, {}};
  f.samples.push_back({{}, value, {}});
  return f;
}

double load(const std::atomic<std::uint64_t>& a) {
  return static_cast<double>(a.load(std::memory_order_relaxed));
}

}  // namespace

LatencyHistogram::LatencyHistogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      counts_(new std::atomic<std::uint64_t>[upper_bounds_.size() + 1]) {
  if (!std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()) ||
      std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) != upper_bounds_.end()) {
    throw std::invalid_argument("histogram bounds must be strictly increasing");
  }
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) counts_[i].store(0);
}

void LatencyHistogram::observe(double seconds) {
  // le semantics: a value equal to a bound falls into that bound's bucket.
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), seconds);
  counts_[it - upper_bounds_.begin()].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(seconds, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  s.cumulative.reserve(upper_bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= upper_bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

std::vector<MetricFamilyData> collect_metric_families(const NodeMetrics& m,
                                                      const HealthVerdict& verdict) {
  using Type = MetricFamilyData::Type;
  std::vector<MetricFamilyData> out;
  out.push_back(scalar("raftmeta_term", "Current Raft term.", Type::kGauge, load(m.term)));
  out.push_back(scalar("raftmeta_is_leader", "1 if this member is the leader, else 0.",
                       Type::kGauge, m.is_leader.load(std::memory_order_relaxed) ? 1 : 0));
  out.push_back(scalar("raftmeta_leader_changes_total", "Leader changes seen by this member.",
                       Type::kCounter, load(m.leader_changes_total)));
  out.push_back(scalar("raftmeta_elections_started_total",
                       "Elections (campaigns) this member started.", Type::kCounter,
                       load(m.elections_started_total)));
  const std::uint64_t commit = m.commit_index.load(std::memory_order_relaxed);
  const std::uint64_t applied = m.applied_index.load(std::memory_order_relaxed);
  out.push_back(scalar("raftmeta_commit_index", "Highest log index known committed.", Type::kGauge,
                       static_cast<double>(commit)));
  out.push_back(scalar("raftmeta_applied_index", "Highest log index applied.", Type::kGauge,
                       static_cast<double>(applied)));
  out.push_back(scalar("raftmeta_apply_lag", "Committed entries not yet applied.", Type::kGauge,
                       commit > applied ? static_cast<double>(commit - applied) : 0.0));

  MetricFamilyData proposals{
      "raftmeta_proposals_total", "Proposals by result.", Type::kCounter, {}};
  for (std::size_t i = 0; i < kProposalResultNames.size(); ++i) {
    proposals.samples.push_back(
        {{{"result", std::string(kProposalResultNames[i])}}, load(m.proposals_total[i]), {}});
  }
  out.push_back(std::move(proposals));

  auto histogram = [](std::string name, std::string help, const LatencyHistogram& h) {
    MetricFamilyData f{std::move(name), std::move(help), Type::kHistogram, {}};
    f.samples.push_back({{}, 0, h.snapshot()});
    return f;
  };
  out.push_back(histogram("raftmeta_raft_loop_turn_seconds", "Duration of a Raft loop turn.",
                          m.raft_loop_turn_seconds));
  out.push_back(histogram("raftmeta_storage_write_seconds",
                          "Duration of a durable log write (including fsync).",
                          m.storage_write_seconds));
  MetricFamilyData reads{
      "raftmeta_read_seconds", "Read latency by consistency level.", Type::kHistogram, {}};
  for (std::size_t i = 0; i < kConsistencyNames.size(); ++i) {
    reads.samples.push_back(
        {{{"consistency", std::string(kConsistencyNames[i])}}, 0, m.read_seconds[i].snapshot()});
  }
  out.push_back(std::move(reads));

  MetricFamilyData stalled{
      "raftmeta_stalled", "1 while the part is stalled (as /livez judges).", Type::kGauge, {}};
  MetricFamilyData detected{"raftmeta_stalls_detected_total",
                            "Stalls the watchdog detected, by part.",
                            Type::kCounter,
                            {}};
  for (Part p : kAllParts) {
    const std::string name(part_name(p));
    stalled.samples.push_back({{{"part", name}}, verdict.part(p).stalled ? 1.0 : 0.0, {}});
    detected.samples.push_back(
        {{{"part", name}}, load(m.stalls_detected_total[static_cast<int>(p)]), {}});
  }
  out.push_back(std::move(stalled));
  out.push_back(std::move(detected));
  return out;
}

std::string render_prometheus_text(const std::vector<MetricFamilyData>& families) {
  std::string out;
  for (const MetricFamilyData& f : families) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    const char* type = f.type == MetricFamilyData::Type::kCounter ? "counter"
                       : f.type == MetricFamilyData::Type::kGauge ? "gauge"
                                                                  : "histogram";
    out += "# TYPE " + f.name + " " + type + "\n";
    for (const MetricSample& s : f.samples) {
      if (f.type != MetricFamilyData::Type::kHistogram) {
        out += f.name + label_set(s.labels) + " " + format_double(s.value) + "\n";
        continue;
      }
      const auto& h = s.histogram;
      for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
        const double le = i < h.upper_bounds.size() ? h.upper_bounds[i] : INFINITY;
        out += f.name + "_bucket" + label_set(s.labels, "le", format_double(le)) + " " +
               std::to_string(h.cumulative[i]) + "\n";
      }
      out += f.name + "_sum" + label_set(s.labels) + " " + format_double(h.sum) + "\n";
      out += f.name + "_count" + label_set(s.labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace raftmeta::health
