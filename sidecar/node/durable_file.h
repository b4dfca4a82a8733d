// Small files a node keeps next to its Raft log (its incarnation, the
// incarnations of the peers it has heard from), written so that a crash
// leaves either the old or the new content, never a torn file.
//
// Format of every such file: a header line naming the content and its
// version, the content lines, and a last line "crc32c <8 hex digits>" over
// everything before it. A file whose checksum does not match, or that cannot
// be read, is an error the node refuses to start on; it is never silently
// treated as empty (forgetting a peer's incarnation would let a wiped member
// back in).
//
// Thread safety: free functions without shared state; callers serialize
// writes to the same path.
#pragma once

#include <string>
#include <vector>

namespace raftmeta::node {

enum class DurableReadResult { kOk, kMissing, kError };

// Writes `header`, `lines` and the checksum line to path + ".tmp", fsyncs it,
// renames it over `path` and fsyncs the directory. Returns false with *error.
bool write_durable_file(const std::string& path, const std::string& header,
                        const std::vector<std::string>& lines, std::string* error);

// Reads a file written by write_durable_file: kMissing if it does not exist;
// kError with *error (naming the file and the problem) if it cannot be read,
// carries another header or fails its checksum; else the content lines.
DurableReadResult read_durable_file(const std::string& path, const std::string& header,
                                    std::vector<std::string>* lines, std::string* error);

}  // namespace raftmeta::node
