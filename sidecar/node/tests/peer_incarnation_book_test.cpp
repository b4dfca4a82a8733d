// The incarnation files (member_incarnation.h, peer_incarnation_book.h) and
// the bootstrap probe's decision (bootstrap_probe.h): what is recorded
// survives a reopen, a replaced incarnation is refused, and a file that
// cannot be trusted is an error, never an empty book.
#include "sidecar/node/peer_incarnation_book.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sidecar/node/bootstrap_probe.h"
#include "sidecar/node/member_incarnation.h"
#include "sidecar/node/tests/test_cluster.h"

namespace raftmeta::node::testing {
namespace {

using Verdict = PeerIncarnationBook::Verdict;

class IncarnationFilesTest : public ::testing::Test {
 protected:
  IncarnationFilesTest() : dir_(make_temp_dir()) {}
  ~IncarnationFilesTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string book_path() const { return dir_ + "/peer-incarnations"; }
  std::string read(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::string& path, const std::string& content) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  std::string dir_;
};

TEST_F(IncarnationFilesTest, AMissingBookIsEmpty) {
  std::string error;
  auto book = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(book) << error;
  EXPECT_TRUE(book->entries().empty());
  EXPECT_FALSE(book->known(1).has_value());
}

TEST_F(IncarnationFilesTest, FirstContactIsRecordedDurablyAndSurvivesReopen) {
  std::string error;
  {
    auto book = PeerIncarnationBook::open(dir_, &error);
    ASSERT_TRUE(book) << error;
    EXPECT_EQ(book->admit(2, 0xabc).verdict, Verdict::kRecorded);
    EXPECT_EQ(book->admit(2, 0xabc).verdict, Verdict::kKnown);
    EXPECT_EQ(book->admit(3, 0xdef).verdict, Verdict::kRecorded);
  }
  EXPECT_FALSE(std::filesystem::exists(book_path() + ".tmp"));
  auto reopened = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(reopened) << error;
  EXPECT_EQ(reopened->known(2), 0xabcu);
  EXPECT_EQ(reopened->known(3), 0xdefu);
  EXPECT_EQ(reopened->admit(2, 0xabc).verdict, Verdict::kKnown);
}

TEST_F(IncarnationFilesTest, AnotherIncarnationOfAKnownIdIsRefusedAndNotRecorded) {
  std::string error;
  auto book = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(book) << error;
  ASSERT_TRUE(book->admit(2, 0x1111).admitted());
  const PeerIncarnationBook::Admission a = book->admit(2, 0x2222);
  EXPECT_EQ(a.verdict, Verdict::kReplaced);
  EXPECT_FALSE(a.admitted());
  EXPECT_EQ(a.recorded, 0x1111u);
  EXPECT_EQ(book->known(2), 0x1111u);
  auto reopened = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(reopened) << error;
  EXPECT_EQ(reopened->admit(2, 0x2222).verdict, Verdict::kReplaced);
}

TEST_F(IncarnationFilesTest, ASenderWithoutIncarnationIsAdmittedAndNotRecorded) {
  std::string error;
  auto book = PeerIncarnationBook::open(dir_, &error);
  ASSERT_TRUE(book) << error;
  EXPECT_TRUE(book->admit(2, 0).admitted());
  EXPECT_FALSE(book->known(2).has_value());
  EXPECT_FALSE(std::filesystem::exists(book_path()));
}

TEST_F(IncarnationFilesTest, ACorruptBookRefusesToOpenNamingTheFile) {
  std::string error;
  {
    auto book = PeerIncarnationBook::open(dir_, &error);
    ASSERT_TRUE(book) << error;
    ASSERT_TRUE(book->admit(2, 0x1234).admitted());
  }
  std::string content = read(book_path());
  const std::size_t at = content.find("1234");
  ASSERT_NE(at, std::string::npos) << content;
  content[at] = '9';  // a plausible but wrong incarnation
  write(book_path(), content);
  EXPECT_FALSE(PeerIncarnationBook::open(dir_, &error));
  EXPECT_NE(error.find(book_path()), std::string::npos) << error;
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
}

TEST_F(IncarnationFilesTest, ATruncatedOrForeignBookRefusesToOpen) {
  std::string error;
  write(book_path(), "raftmeta-peer-incarnations v1\n2 00000000000012");  // torn
  EXPECT_FALSE(PeerIncarnationBook::open(dir_, &error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
  write(book_path(), "");
  EXPECT_FALSE(PeerIncarnationBook::open(dir_, &error));
  write(book_path(), "something else entirely\n");
  EXPECT_FALSE(PeerIncarnationBook::open(dir_, &error));
}

TEST_F(IncarnationFilesTest, AnUnreadableBookRefusesToOpen) {
  std::filesystem::create_directory(book_path());  // not a file: cannot be read
  std::string error;
  EXPECT_FALSE(PeerIncarnationBook::open(dir_, &error));
  EXPECT_NE(error.find(book_path()), std::string::npos) << error;
}

TEST_F(IncarnationFilesTest, OwnIncarnationRoundTripsAndBelongsToOneMember) {
  std::uint64_t value = 0;
  std::string error;
  EXPECT_EQ(read_incarnation(dir_, 3, &value, &error), DurableReadResult::kMissing);
  const std::uint64_t stamped = new_incarnation();
  ASSERT_NE(stamped, 0u);
  ASSERT_TRUE(stamp_incarnation(dir_, 3, stamped, &error)) << error;
  ASSERT_EQ(read_incarnation(dir_, 3, &value, &error), DurableReadResult::kOk) << error;
  EXPECT_EQ(value, stamped);
  EXPECT_EQ(read_incarnation(dir_, 4, &value, &error), DurableReadResult::kError);
  EXPECT_NE(error.find("belongs to member 3"), std::string::npos) << error;
  std::string content = read(incarnation_path(dir_));
  content[content.find('\n') + 1] = '7';  // member id 3 -> 7
  write(incarnation_path(dir_), content);
  EXPECT_EQ(read_incarnation(dir_, 3, &value, &error), DurableReadResult::kError);
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
}

TEST_F(IncarnationFilesTest, NewIncarnationsDiffer) {
  EXPECT_NE(new_incarnation(), new_incarnation());
}

TEST(BootstrapProbe, RefusesOnlyWhenAPeerKnowsThisIdWithAnotherIncarnation) {
  EXPECT_TRUE(bootstrap_refusal({}, 3, 0x55).empty());                // nobody answered
  EXPECT_TRUE(bootstrap_refusal({{1, 0}, {2, 0}}, 3, 0x55).empty());  // fresh cluster
  EXPECT_TRUE(bootstrap_refusal({{1, 0x55}}, 3, 0x55).empty());
  const std::string refused = bootstrap_refusal({{1, 0}, {2, 0x44}}, 3, 0x55);
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(refused.find("refusing to bootstrap"), std::string::npos) << refused;
  EXPECT_NE(refused.find("member 2 already knows member 3"), std::string::npos) << refused;
  EXPECT_NE(refused.find("member remove --id 3"), std::string::npos) << refused;
  EXPECT_NE(refused.find("--join"), std::string::npos) << refused;
}

}  // namespace
}  // namespace raftmeta::node::testing
