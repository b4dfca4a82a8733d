// PeerIncarnationBook: the incarnation (member_incarnation.h) of every member
// id this member has heard from, kept durably in <data_dir>/peer-incarnations
// so it survives this member's own restarts.
//
// The receive path calls admit() for each inbound batch before the batch can
// reach the Raft loop. The first batch from an id records its incarnation
// (written durably before admit() returns); a later batch from that id with
// another incarnation is refused: that member's data directory was replaced,
// and its vote and log were forgotten, so it must not take part under its old
// id (it must be removed and added back under a new id with --join). The
// bootstrap probe (Raft.Hello) answers from known(). Entries a peer passes on
// (RaftBatch.known_incarnations) go through admit() too, after that peer was
// admitted: unknown ids are recorded, a conflict is only reported.
//
// Thread safety: safe for concurrent use. mu_ is a leaf: it is held while
// the file is rewritten (a rare event: once per new member id) and never
// while calling out of the book.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sidecar/raft/types.h"

namespace raftmeta::node {

class PeerIncarnationBook {
 public:
  enum class Verdict {
    kKnown,     // the id's recorded incarnation: admit
    kRecorded,  // first contact: recorded durably, admit
    kReplaced,  // another incarnation is recorded: refuse
    kFailed,    // the book could not be written: refuse (retry later)
  };
  struct Admission {
    Verdict verdict = Verdict::kKnown;
    std::uint64_t recorded = 0;  // kReplaced: the incarnation on record
    std::string error;           // kFailed
    bool admitted() const { return verdict == Verdict::kKnown || verdict == Verdict::kRecorded; }
  };

  // Opens <data_dir>/peer-incarnations (a missing file is an empty book).
  // Returns nullptr with *error when the file cannot be read or fails its
  // checks: the node must refuse to start rather than forget.
  static std::unique_ptr<PeerIncarnationBook> open(const std::string& data_dir, std::string* error);

  // See the header comment. incarnation 0 (a sender that predates
  // incarnations) is admitted and not recorded.
  Admission admit(raft::NodeId id, std::uint64_t incarnation);

  // The recorded incarnation of `id`, if any.
  std::optional<std::uint64_t> known(raft::NodeId id) const;
  std::map<raft::NodeId, std::uint64_t> entries() const;
  // Counts the entries ever recorded by this object (a sender passes its
  // entries on again when this changed).
  std::uint64_t version() const;

  // Path of the file.
  const std::string& path() const { return path_; }

 private:
  PeerIncarnationBook(std::string path, std::map<raft::NodeId, std::uint64_t> entries);

  const std::string path_;
  mutable std::mutex mu_;  // leaf; guards entries_ and the file
  std::map<raft::NodeId, std::uint64_t> entries_;
  std::uint64_t version_ = 0;
};

}  // namespace raftmeta::node
