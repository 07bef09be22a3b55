/// Tests of runtime/io/npy.h: round trips, every accepted element type and
/// header version, files numpy itself writes and reads, and refusal of
/// malformed or hostile headers.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "runtime/io/npy.h"
#include "tests/tools/fixtures.h"

namespace anet {
namespace {

using testing::ScratchDir;

/// A .npy file with the given version, header text (padded with spaces to
/// a multiple of 16 and ended by '\n') and data bytes.
std::vector<uint8_t> npy_file(int major, std::string header, const std::vector<uint8_t> &data) {
  while ((header.size() + 1) % 16)
    header.push_back(' ');
  header.push_back('\n');
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t len_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < len_bytes; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <class T> std::vector<uint8_t> raw(const std::vector<T> &values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::string header(const std::string &descr, const std::string &shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }";
}

Expected<Tensor> read_bytes_as_npy(const ScratchDir &dir, const std::vector<uint8_t> &bytes) {
  const std::string path = dir.path("t.npy");
  testing::write_bytes(path, bytes);
  return read_npy(path);
}

void expect_refused(const ScratchDir &dir, const std::vector<uint8_t> &bytes,
                    const std::string &part) {
  auto t = read_bytes_as_npy(dir, bytes);
  ASSERT_FALSE(t.ok()) << "accepted a file that should fail with '" << part << "'";
  EXPECT_EQ(t.error().code, ExitCode::Dataset) << t.error().message;
  EXPECT_NE(t.error().message.find(dir.path("t.npy") + ": "), std::string::npos)
      << t.error().message;
  EXPECT_NE(t.error().message.find(part), std::string::npos) << t.error().message;
}

TEST(Npy, RoundTrip) {
  ScratchDir dir;
  for (const Shape &shape : {Shape{}, Shape{5}, Shape{2, 3}, Shape{1, 3, 4, 4}, Shape{0, 7}}) {
    Tensor t(TensorType{DType::F32, shape});
    for (size_t i = 0; i < t.data.size(); ++i)
      t.data[i] = static_cast<float>(i) * 0.25f - 1.0f;
    const std::string path = dir.path("round.npy");
    ASSERT_TRUE(write_npy(path, t).ok());
    const auto bytes = testing::read_bytes(path);
    const size_t header_len = bytes[8] | (size_t{bytes[9]} << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u) << "data starts 64-byte aligned";
    EXPECT_EQ(bytes[10 + header_len - 1], '\n');
    auto back = read_npy(path);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->type, t.type);
    EXPECT_EQ(back->data, t.data);
  }
  // Written atomically: nothing but the file itself is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.dir()), {}), 1);
}

TEST(Npy, WriteFailsWithIoError) {
  ScratchDir dir;
  Status s = write_npy(dir.path("no/such/dir/x.npy"), Tensor(TensorType{DType::F32, {1}}));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ExitCode::IO);
  EXPECT_NE(s.error().message.find("x.npy"), std::string::npos);
}

TEST(Npy, ElementTypesAreConverted) {
  ScratchDir dir;
  struct Case {
    std::string descr;
    std::vector<uint8_t> data;
  };
  const std::vector<float> expected = {-2, 0, 3};
  const Case cases[] = {
      {"<f4", raw(std::vector<float>{-2, 0, 3})},
      {"<f8", raw(std::vector<double>{-2, 0, 3})},
      {"<i8", raw(std::vector<int64_t>{-2, 0, 3})},
      {"<i4", raw(std::vector<int32_t>{-2, 0, 3})},
  };
  for (const Case &c : cases) {
    auto t = read_bytes_as_npy(dir, npy_file(1, header(c.descr, "(3,)"), c.data));
    ASSERT_TRUE(t.ok()) << c.descr << ": " << t.error().message;
    EXPECT_EQ(t->type.shape, Shape{3});
    EXPECT_EQ(t->data, expected) << c.descr;
  }
  auto u8 = read_bytes_as_npy(dir, npy_file(1, header("|u1", "(2, 2)"), {0, 1, 128, 255}));
  ASSERT_TRUE(u8.ok()) << u8.error().message;
  EXPECT_EQ(u8->data, (std::vector<float>{0, 1, 128, 255}));
}

TEST(Npy, Versions2And3AndOldStyleHeaders) {
  ScratchDir dir;
  const auto data = raw(std::vector<float>{1, 2});
  for (int major : {2, 3}) {
    auto t = read_bytes_as_npy(dir, npy_file(major, header("<f4", "(2,)"), data));
    ASSERT_TRUE(t.ok()) << major << ": " << t.error().message;
    EXPECT_EQ(t->data, (std::vector<float>{1, 2}));
  }
  // Double quotes, keys in another order, Python 2 longs, no trailing comma.
  auto t = read_bytes_as_npy(
      dir,
      npy_file(1, "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<f4\"}", data));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->type.shape, (Shape{1, 2}));
}

TEST(Npy, MalformedFilesAreRefused) {
  ScratchDir dir;
  const auto two = raw(std::vector<float>{1, 2});
  expect_refused(dir, {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0}, "not a .npy file");
  expect_refused(dir, {0x93, 'N', 'U'}, "not a .npy file");
  expect_refused(dir, npy_file(4, header("<f4", "(2,)"), two), "version 4.0");
  expect_refused(dir, npy_file(1, header(">f4", "(2,)"), two), "'>f4' is not supported");
  expect_refused(dir, npy_file(1, header("<c8", "(2,)"), two), "not supported");
  expect_refused(dir, npy_file(1, header("<f4", "(2,)", true), two), "Fortran");
  expect_refused(dir, npy_file(1, header("<f4", "(3,)"), two), "truncated");
  expect_refused(dir, npy_file(1, header("<f4", "(1,)"), two), "needs 4");
  expect_refused(dir, npy_file(1, header("<f4", "(-1,)"), two), "dimension");
  expect_refused(dir, npy_file(1, header("<f4", "(1048576, 1048576, 1048576)"), two), "more than");
  expect_refused(dir, npy_file(1, header("<f4", "(99999999999999999999,)"), two), "too large");
  expect_refused(dir, npy_file(1, "{'descr': '<f4', 'shape': (2,), }", two), "required");
  expect_refused(
      dir, npy_file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", two),
      "unexpected or repeated key 'x'");
  expect_refused(dir, npy_file(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", two),
                 "malformed header");
  expect_refused(dir, npy_file(1, "{'descr': [('a', '<f4')], 'fortran_order': False}", two),
                 "structured");
  expect_refused(dir, npy_file(1, "[1, 2, 3]", two), "expected '{'");
  expect_refused(dir, npy_file(1, header("<f4", "(2,)") + " junk", two), "after the closing");

  // A header length that points past the end of the file, and one over the cap.
  auto huge = npy_file(2, header("<f4", "(2,)"), two);
  huge[8] = huge[9] = huge[10] = huge[11] = 0xFF;
  expect_refused(dir, huge, "over the limit");
  auto past = npy_file(1, header("<f4", "(2,)"), {});
  past[8] = 0xF0;
  past[9] = 0x0F;
  expect_refused(dir, past, "truncated header");
}

TEST(Npy, SurvivesCorruptedHeaders) {
  // Deterministic mutations of a valid file's header: each read succeeds with
  // a consistent tensor or fails with a Dataset error; none may crash.
  ScratchDir dir;
  const auto original = npy_file(1, header("<f4", "(2, 3)"), raw(std::vector<float>(6, 1.0f)));
  uint32_t state = 7;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  const char alphabet[] = "0123456789(),:{}' TrueFalse<>|fiu84L\n";
  for (int round = 0; round < 400; ++round) {
    auto bytes = original;
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits; ++e)
      bytes[6 + next() % 58] = static_cast<uint8_t>(alphabet[next() % (sizeof alphabet - 1)]);
    auto t = read_bytes_as_npy(dir, bytes);
    if (!t.ok()) {
      EXPECT_EQ(t.error().code, ExitCode::Dataset) << t.error().message;
      continue;
    }
    EXPECT_EQ(static_cast<int64_t>(t->data.size()), t->type.numel());
  }
}

TEST(Npy, MissingFileAndDirectoryAreIoErrors) {
  ScratchDir dir;
  auto t = read_npy(dir.path("absent.npy"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ExitCode::IO);
  EXPECT_NE(t.error().message.find("absent.npy: No such file"), std::string::npos);
  t = read_npy(dir.dir());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ExitCode::IO);
}

TEST(Npy, NumpyReadsOursAndWeReadNumpys) {
  const std::string python = ANET_PYTHON;
  // numpy is the oracle here, installed by tools/setup.sh: its absence is a
  // failure, not a reason to skip.
  ASSERT_TRUE(std::filesystem::exists(python))
      << "no Python with numpy at " << python << " (run tools/setup.sh)";
  ScratchDir dir;
  Tensor t(TensorType{DType::F32, {2, 3}});
  for (size_t i = 0; i < t.data.size(); ++i)
    t.data[i] = static_cast<float>(i) + 0.5f;
  ASSERT_TRUE(write_npy(dir.path("ours.npy"), t).ok());
  const std::string script =
      "import numpy as np, sys\n"
      "d = sys.argv[1]\n"
      "a = np.load(d + '/ours.npy')\n"
      "assert a.dtype == np.float32 and a.shape == (2, 3), (a.dtype, a.shape)\n"
      "assert (a == np.arange(6, dtype=np.float32).reshape(2, 3) + 0.5).all()\n"
      "np.save(d + '/theirs.npy', np.arange(24, dtype=np.float64).reshape(2, 3, 4) * -1.5)\n"
      "np.save(d + '/scalar.npy', np.float32(7))\n"
      "np.save(d + '/bytes.npy', np.arange(5, dtype=np.uint8))\n";
  auto r = testing::run_program(python, {"-c", script, dir.dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto theirs = read_npy(dir.path("theirs.npy"));
  ASSERT_TRUE(theirs.ok()) << theirs.error().message;
  EXPECT_EQ(theirs->type.shape, (Shape{2, 3, 4}));
  for (size_t i = 0; i < 24; ++i)
    EXPECT_EQ(theirs->data[i], static_cast<float>(i) * -1.5f);
  auto scalar = read_npy(dir.path("scalar.npy"));
  ASSERT_TRUE(scalar.ok()) << scalar.error().message;
  EXPECT_EQ(scalar->type.shape, Shape{});
  EXPECT_EQ(scalar->data, std::vector<float>{7});
  auto bytes = read_npy(dir.path("bytes.npy"));
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(bytes->data, (std::vector<float>{0, 1, 2, 3, 4}));
}

} // namespace
} // namespace anet
