// Fuzz target for the plan loader (deserialize_plan). Each input is loaded
// twice: as it is, which mostly exercises the header and checksum checks,
// and resealed (split by the documented layout and joined back with fresh
// lengths and checksums), so that mutations reach the payload decoders and
// the program parser. Properties: a refusal is always IncompatiblePlan; a
// plan that loads serialises, and that serialisation loads back and
// serialises to the same bytes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ir/plan.h"
#include "tests/ir/plan_editing.h"

namespace {

[[noreturn]] void fail(const char *what, const std::string &detail) {
  std::fprintf(stderr, "plan_loader fuzz check failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

void check_plan_bytes(std::string_view bytes) {
  auto plan = anet::deserialize_plan(bytes, "fuzz.plan");
  if (!plan.ok()) {
    if (plan.error().code != anet::ExitCode::IncompatiblePlan)
      fail("refusal with the wrong exit code", plan.error().message);
    return;
  }
  auto written = anet::serialize_plan(*plan);
  if (!written.ok())
    fail("a loaded plan does not serialise", written.error().message);
  auto reloaded = anet::deserialize_plan(*written, "fuzz.plan");
  if (!reloaded.ok())
    fail("a serialised plan does not load", reloaded.error().message);
  auto rewritten = anet::serialize_plan(*reloaded);
  if (!rewritten.ok() || *rewritten != *written)
    fail("serialise(load(serialise(plan))) differs", "");
  (void)anet::summary_text(anet::summarize(*plan));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  check_plan_bytes(bytes);
  if (auto pieces = anet::testing::split_plan(bytes))
    check_plan_bytes(anet::testing::join_plan(*pieces));
  return 0;
}
