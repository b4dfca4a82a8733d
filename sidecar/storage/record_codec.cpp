#include "sidecar/storage/record_codec.h"

#include "sidecar/storage/crc32c.h"

namespace raftmeta::storage {
namespace {

constexpr std::uint8_t kConfStateFormat = 1;

void put_varint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool get_varint(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<std::uint8_t>(in->front());
    in->remove_prefix(1);
    if (shift == 63 && byte > 1) return false;
    result |= std::uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void put_ids(std::string* out, const std::vector<raft::NodeId>& ids) {
  put_varint(out, ids.size());
  for (raft::NodeId id : ids) put_varint(out, id);
}

bool get_ids(std::string_view* in, std::vector<raft::NodeId>* ids) {
  std::uint64_t n = 0;
  if (!get_varint(in, &n) || n > in->size()) return false;  // each id takes >= 1 byte
  ids->clear();
  ids->reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t id = 0;
    if (!get_varint(in, &id)) return false;
    ids->push_back(id);
  }
  return true;
}

void put_fixed64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string encode_conf_state(const raft::ConfState& conf) {
  std::string out;
  out.push_back(static_cast<char>(kConfStateFormat));
  put_ids(&out, conf.voters);
  put_ids(&out, conf.learners);
  put_ids(&out, conf.removed);
  return out;
}

std::optional<raft::ConfState> decode_conf_state(std::string_view data) {
  if (data.empty() || static_cast<std::uint8_t>(data.front()) != kConfStateFormat) {
    return std::nullopt;
  }
  data.remove_prefix(1);
  raft::ConfState conf;
  if (!get_ids(&data, &conf.voters) || !get_ids(&data, &conf.learners) ||
      !get_ids(&data, &conf.removed) || !data.empty()) {
    return std::nullopt;
  }
  return conf;
}

std::uint32_t entry_crc(raft::Index index, raft::Term term, std::uint8_t type,
                        std::string_view data) {
  unsigned char header[17];
  for (int i = 0; i < 8; ++i) {
    header[i] = static_cast<unsigned char>(index >> (8 * i));
    header[8 + i] = static_cast<unsigned char>(term >> (8 * i));
  }
  header[16] = type;
  return crc32c_extend(crc32c_extend(0, header, sizeof header), data.data(), data.size());
}

std::uint32_t hard_state_crc(const raft::HardState& hs) {
  std::string buf;
  put_fixed64(&buf, hs.term);
  put_fixed64(&buf, hs.vote);
  put_fixed64(&buf, hs.commit);
  return crc32c(buf);
}

std::uint32_t snapshot_meta_crc(raft::Index index, raft::Term term, std::string_view conf,
                                std::uint64_t data_size, std::uint32_t data_crc) {
  std::string buf;
  put_fixed64(&buf, index);
  put_fixed64(&buf, term);
  put_fixed64(&buf, conf.size());
  buf.append(conf);
  put_fixed64(&buf, data_size);
  put_fixed64(&buf, data_crc);
  return crc32c(buf);
}

}  // namespace raftmeta::storage
