// KvStateMachine (see kv_state_machine.h).
#include "sidecar/raft/sim/kv_state_machine.h"

#include <charconv>
#include <vector>

namespace raftmeta::raft::sim {

namespace {

std::uint64_t fnv(std::uint64_t h, std::string_view bytes) {
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint64_t fnv_u64(std::uint64_t h, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  return h;
}

bool parse_u64(std::string_view s, std::uint64_t* out) {
  if (s.empty()) return false;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::string encode_write(const WriteCommand& w) {
  return "w" + std::to_string(w.write_id) + ":" + std::to_string(w.key);
}

std::optional<WriteCommand> decode_write(std::string_view data) {
  if (data.size() < 4 || data[0] != 'w') return std::nullopt;
  const auto colon = data.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::uint64_t id = 0;
  std::uint64_t key = 0;
  if (!parse_u64(data.substr(1, colon - 1), &id) || !parse_u64(data.substr(colon + 1), &key)) {
    return std::nullopt;
  }
  return WriteCommand{id, static_cast<std::uint32_t>(key)};
}

std::uint64_t entry_fingerprint(const Entry& e) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv_u64(h, static_cast<std::uint64_t>(e.type));
  return fnv(h, e.data);
}

bool KvStateMachine::apply(const Entry& e) {
  if (e.index != applied_ + 1) return false;
  applied_ = e.index;
  std::uint64_t h = fnv_u64(digest_ ^ 0xcbf29ce484222325ULL, e.index);
  h = fnv_u64(h, e.term);
  digest_ = fnv_u64(h, entry_fingerprint(e));
  if (e.type == EntryType::kNormal) {
    if (const auto w = decode_write(e.data)) values_[w->key] = w->write_id;
  }
  return true;
}

std::uint64_t KvStateMachine::value(std::uint32_t key) const {
  const auto it = values_.find(key);
  return it == values_.end() ? 0 : it->second;
}

// Format: "<applied> <digest> <n> (<key> <value> )*".
std::string KvStateMachine::serialize() const {
  std::string out = std::to_string(applied_) + " " + std::to_string(digest_) + " " +
                    std::to_string(values_.size());
  for (const auto& [k, v] : values_) out += " " + std::to_string(k) + " " + std::to_string(v);
  return out;
}

bool KvStateMachine::restore(std::string_view data) {
  std::vector<std::uint64_t> fields;
  std::size_t pos = 0;
  while (pos < data.size()) {
    const auto end = data.find(' ', pos);
    const auto token = data.substr(pos, end == std::string_view::npos ? end : end - pos);
    std::uint64_t v = 0;
    if (!parse_u64(token, &v)) return false;
    fields.push_back(v);
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  if (fields.size() < 3 || fields.size() != 3 + 2 * fields[2]) return false;
  std::map<std::uint32_t, std::uint64_t> values;
  for (std::size_t i = 0; i < fields[2]; ++i) {
    values[static_cast<std::uint32_t>(fields[3 + 2 * i])] = fields[4 + 2 * i];
  }
  applied_ = fields[0];
  digest_ = fields[1];
  values_ = std::move(values);
  return true;
}

}  // namespace raftmeta::raft::sim
