#include "sidecar/health/metrics_prometheus.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace raftmeta::health {

std::vector<prometheus::MetricFamily> to_prometheus(const std::vector<MetricFamilyData>& families) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (const MetricFamilyData& f : families) {
    prometheus::MetricFamily pf;
    pf.name = f.name;
    pf.help = f.help;
    switch (f.type) {
      case MetricFamilyData::Type::kCounter:
        pf.type = prometheus::MetricType::Counter;
        break;
      case MetricFamilyData::Type::kGauge:
        pf.type = prometheus::MetricType::Gauge;
        break;
      case MetricFamilyData::Type::kHistogram:
        pf.type = prometheus::MetricType::Histogram;
        break;
    }
    for (const MetricSample& s : f.samples) {
      prometheus::ClientMetric m;
      for (const auto& [name, value] : s.labels) m.label.push_back({name, value});
      switch (f.type) {
        case MetricFamilyData::Type::kCounter:
          m.counter.value = s.value;
          break;
        case MetricFamilyData::Type::kGauge:
          m.gauge.value = s.value;
          break;
        case MetricFamilyData::Type::kHistogram: {
          const auto& h = s.histogram;
          m.histogram.sample_count = h.count;
          m.histogram.sample_sum = h.sum;
          for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
            const double le = i < h.upper_bounds.size() ? h.upper_bounds[i]
                                                        : std::numeric_limits<double>::infinity();
            m.histogram.bucket.push_back({h.cumulative[i], le});
          }
          break;
        }
      }
      pf.metric.push_back(std::move(m));
    }
    out.push_back(std::move(pf));
  }
  return out;
}

std::string render_metrics_with_prometheus_cpp(const std::vector<MetricFamilyData>& families) {
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, to_prometheus(families));
  return text.str();
}

std::vector<prometheus::MetricFamily> NodeMetricsCollectable::Collect() const {
  return to_prometheus(collect_metric_families(metrics_, verdict_()));
}

}  // namespace raftmeta::health
