// Damaged or foreign files: each must be refused with a clear error naming the
// file and the problem, and left byte-for-byte unchanged.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "sidecar/storage/log_store.h"
#include "sidecar/storage/record_codec.h"
#include "sidecar/storage/tests/test_util.h"

namespace raftmeta::storage {
namespace {

using testing::make_entries;
using testing::options_for;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

constexpr raft::Index kEntries = 300;
constexpr std::size_t kEntryBytes = 600;
const std::string kMarker = "MARKER-PAYLOAD-OF-ENTRY-";

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.path() + "/raft.db";
    Status s;
    auto store = LogStore::open(options_for(dir_.path()), &s);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    WriteBatch b;
    b.entries = make_entries(1, kEntries + 1, 3, kEntryBytes);
    // Recognizable payloads so a test can find them in the file.
    for (raft::Index i : {raft::Index{10}, kEntries}) {
      std::string& d = b.entries[i - 1].data;
      const std::string tag = kMarker + std::to_string(i);
      d.replace(100, tag.size(), tag);
    }
    b.hard_state = raft::HardState{3, 1, kEntries - 5};
    ASSERT_TRUE(store->save(b).is_ok());
    store.reset();  // a clean close checkpoints the WAL into raft.db
    ASSERT_FALSE(std::filesystem::exists(db_path_ + "-wal"));
  }

  // Size and CRC of raft.db and of its WAL, if any.
  std::string digest() const {
    std::string out;
    for (const char* suffix : {"", "-wal"}) {
      const std::string p = db_path_ + suffix;
      if (!std::filesystem::exists(p)) continue;
      const std::string data = read_file(p);
      if (data.empty() && *suffix != '\0') continue;  // an empty WAL is no content
      out += std::string(suffix) + ":" + std::to_string(data.size()) + ":" +
             std::to_string(crc32c(data)) + " ";
    }
    return out;
  }

  // Opening with `o` fails with `code` and a message naming the file and
  // containing `problem`; the file is unchanged; check() says the same.
  void expect_refused(const OpenOptions& o, Status::Code code, const std::string& problem) {
    const std::string before = digest();
    Status s;
    auto store = LogStore::open(o, &s);
    EXPECT_EQ(store, nullptr);
    EXPECT_EQ(s.code(), code) << s.to_string();
    EXPECT_NE(s.message().find(db_path_), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(problem), std::string::npos) << s.message();
    EXPECT_EQ(digest(), before) << "the file was modified by a failed open";
    Status c = LogStore::check(o);
    EXPECT_EQ(c.code(), code) << c.to_string();
    EXPECT_EQ(digest(), before);
  }

  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_FALSE(std::filesystem::exists(db_path_ + "-wal"));
  }

  void flip_byte_of_marker(raft::Index index) {
    std::string data = read_file(db_path_);
    const std::size_t at = data.find(kMarker + std::to_string(index));
    ASSERT_NE(at, std::string::npos);
    data[at + 3] ^= 0x20;
    write_file(db_path_, data);
  }

  TempDir dir_;
  std::string db_path_;
};

TEST_F(CorruptionTest, HealthyFileOpens) {
  Status s;
  auto store = LogStore::open(options_for(dir_.path()), &s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(store->last_index(), kEntries);
  EXPECT_TRUE(store->integrity_check().is_ok());
}

TEST_F(CorruptionTest, TruncatedFile) {
  const std::string data = read_file(db_path_);
  ASSERT_GT(data.size(), 64u * 1024);
  ::truncate(db_path_.c_str(), static_cast<off_t>(data.size() / 2));
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption, "malformed");
}

TEST_F(CorruptionTest, FileTruncatedInsideTheHeader) {
  ::truncate(db_path_.c_str(), 50);
  const std::string before = digest();
  Status s;
  EXPECT_EQ(LogStore::open(options_for(dir_.path()), &s), nullptr);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(db_path_), std::string::npos) << s.message();
  EXPECT_EQ(digest(), before);
}

TEST_F(CorruptionTest, FlippedByteInATailEntryPayload) {
  flip_byte_of_marker(kEntries);
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption,
                 "entry " + std::to_string(kEntries) + ": CRC mismatch");
}

TEST_F(CorruptionTest, FlippedByteOutsideTheCheckedTailIsCaughtOnReadNeverReturned) {
  flip_byte_of_marker(10);
  OpenOptions o = options_for(dir_.path());
  o.verify_tail_entries = 100;  // entry 10 is not in the checked tail
  Status s;
  auto store = LogStore::open(o, &s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::vector<raft::Entry> out;
  s = store->entries(5, 20, UINT64_MAX, &out);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("entry 10: CRC mismatch"), std::string::npos) << s.message();
  EXPECT_TRUE(out.empty());
  raft::Term t = 0;
  EXPECT_EQ(store->term(10, &t).code(), Status::Code::kCorruption);
  StartupState all;
  EXPECT_EQ(store->load_all(&all).code(), Status::Code::kCorruption);
  s = store->integrity_check();
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("entry 10"), std::string::npos) << s.message();
  // Entries before the damage are still served.
  ASSERT_TRUE(store->entries(1, 10, UINT64_MAX, &out).is_ok());
  EXPECT_EQ(out.size(), 9u);
}

TEST_F(CorruptionTest, FullReadOnlyCheckFindsDamageOutsideTheTail) {
  flip_byte_of_marker(10);
  OpenOptions o = options_for(dir_.path());
  o.verify_tail_entries = 100;
  const std::string before = digest();
  EXPECT_TRUE(LogStore::check(o).is_ok());  // the start-up check covers only the tail
  Status s = LogStore::check(o, /*full=*/true);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("entry 10: CRC mismatch"), std::string::npos) << s.message();
  EXPECT_EQ(digest(), before);
  std::string cluster;
  std::uint64_t member = 0;
  ASSERT_TRUE(LogStore::read_identity(dir_.path(), &cluster, &member).is_ok());
  EXPECT_EQ(cluster, "cluster-a");
  EXPECT_EQ(member, 1u);
}

TEST_F(CorruptionTest, GarbagePages) {
  std::string data = read_file(db_path_);
  std::mt19937 rng(7);
  for (std::size_t i = 4096; i < data.size(); ++i) data[i] = static_cast<char>(rng());
  write_file(db_path_, data);
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption, "malformed");
}

TEST_F(CorruptionTest, GarbageEverywhere) {
  std::string data = read_file(db_path_);
  std::mt19937 rng(11);
  for (char& c : data) c = static_cast<char>(rng());
  write_file(db_path_, data);
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption, "not a database");
}

TEST_F(CorruptionTest, FileOfAnotherCluster) {
  OpenOptions o = options_for(dir_.path());
  o.cluster_id = "cluster-b";
  expect_refused(o, Status::Code::kIdentityMismatch,
                 "belongs to cluster 'cluster-a', expected cluster 'cluster-b'");
}

TEST_F(CorruptionTest, FileOfAnotherMember) {
  OpenOptions o = options_for(dir_.path());
  o.member_id = 2;
  expect_refused(o, Status::Code::kIdentityMismatch, "belongs to member 1, expected member 2");
}

TEST_F(CorruptionTest, CreateIfMissingNeverReplacesAForeignFile) {
  OpenOptions o = options_for(dir_.path());
  o.member_id = 2;
  o.create_if_missing = true;
  expect_refused(o, Status::Code::kIdentityMismatch, "expected member 2");
}

TEST_F(CorruptionTest, NewerUnknownSchema) {
  sql("UPDATE meta SET schema_version = 99");
  expect_refused(options_for(dir_.path()), Status::Code::kUnsupportedVersion,
                 "schema version 99 is newer than this binary supports (1)");
}

TEST_F(CorruptionTest, NotARaftmetaDatabase) {
  sql("PRAGMA application_id = 0");
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption,
                 "not a raftmeta storage file");
}

TEST_F(CorruptionTest, GapInTheLog) {
  sql("DELETE FROM entries WHERE idx = 150");
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption, "log is not contiguous");
}

TEST_F(CorruptionTest, CommitBeyondTheLog) {
  const raft::HardState hs{3, 1, kEntries + 7};
  sql("UPDATE hard_state SET commit_index = " + std::to_string(hs.commit) +
      ", crc32c = " + std::to_string(hard_state_crc(hs)));
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption,
                 "hard state commit " + std::to_string(hs.commit) + " is beyond the last index");
}

TEST_F(CorruptionTest, DamagedHardState) {
  sql("UPDATE hard_state SET vote = 2");  // CRC no longer matches
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption, "hard state CRC mismatch");
}

TEST_F(CorruptionTest, LostHardStateTerm) {
  const raft::HardState hs{2, 1, 10};  // below the entries' term 3
  sql("UPDATE hard_state SET term = 2, commit_index = 10, crc32c = " +
      std::to_string(hard_state_crc(hs)));
  expect_refused(options_for(dir_.path()), Status::Code::kCorruption,
                 "hard state term 2 is below the last entry's term 3");
}

TEST_F(CorruptionTest, WalWithoutItsDatabase) {
  std::filesystem::rename(db_path_, dir_.path() + "/elsewhere.db");
  write_file(db_path_ + "-wal", std::string(100, 'w'));
  OpenOptions o = options_for(dir_.path());
  o.create_if_missing = true;
  Status s;
  EXPECT_EQ(LogStore::open(o, &s), nullptr);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.to_string();
  EXPECT_FALSE(std::filesystem::exists(db_path_));
}

}  // namespace
}  // namespace raftmeta::storage
