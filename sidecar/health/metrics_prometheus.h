// prometheus-cpp serialization of the node's metric families (default build
// only). NodeMetricsCollectable mirrors the atomics into prometheus-cpp's data
// model at scrape time, so it can also be registered with a prometheus-cpp
// Exposer or Registry; render_metrics_with_prometheus_cpp() produces the
// /metrics body with prometheus::TextSerializer.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <string>
#include <vector>

#include "sidecar/health/metrics.h"

namespace raftmeta::health {

std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<MetricFamilyData>& families);

std::string render_metrics_with_prometheus_cpp(const std::vector<MetricFamilyData>& families);

class NodeMetricsCollectable final : public prometheus::Collectable {
 public:
  // `verdict` supplies the stall verdict at scrape time (e.g. judge() on the
  // stamps). Both references must outlive this object.
  NodeMetricsCollectable(const NodeMetrics& metrics, std::function<HealthVerdict()> verdict)
      : metrics_(metrics), verdict_(std::move(verdict)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const NodeMetrics& metrics_;
  std::function<HealthVerdict()> verdict_;
};

}  // namespace raftmeta::health
