// Fuzz target for the checkpoint loader (deserialize_checkpoint). Each
// input is loaded twice: as it is, which mostly exercises the header,
// length and checksum checks, and resealed (split by the documented layout
// and joined back with fresh lengths and checksums), so that mutations
// reach the JSON header's decoding and the tensor table's bounds checks.
// Properties: a refusal is always IncompatiblePlan and names the file; a
// checkpoint that loads serialises, and that serialisation loads back and
// serialises to the same bytes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/train/checkpoint.h"
#include "tests/train/checkpoint_editing.h"

namespace {

[[noreturn]] void fail(const char *what, const std::string &detail) {
  std::fprintf(stderr, "checkpoint_loader fuzz check failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_checkpoint_bytes(std::string_view bytes) {
  auto checkpoint = anet::deserialize_checkpoint(bytes, "fuzz.ckpt");
  if (!checkpoint.ok()) {
    if (checkpoint.error().code != anet::ExitCode::IncompatiblePlan)
      fail("refusal with the wrong exit code", checkpoint.error().message);
    if (checkpoint.error().message.rfind("fuzz.ckpt: ", 0) != 0)
      fail("a refusal that does not name the file", checkpoint.error().message);
    return;
  }
  auto written = anet::serialize_checkpoint(*checkpoint);
  if (!written.ok())
    fail("a loaded checkpoint does not serialise", written.error().message);
  auto reloaded = anet::deserialize_checkpoint(*written, "fuzz.ckpt");
  if (!reloaded.ok())
    fail("a serialised checkpoint does not load", reloaded.error().message);
  auto rewritten = anet::serialize_checkpoint(*reloaded);
  if (!rewritten.ok() || *rewritten != *written)
    fail("serialise(load(serialise(checkpoint))) differs", "");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  check_checkpoint_bytes(bytes);
  if (auto pieces = anet::testing::split_checkpoint(bytes))
    check_checkpoint_bytes(anet::testing::join_checkpoint(*pieces));
  return 0;
}
