// libFuzzer target for the ONNX importer: any bytes must give either a
// verified graph with a weight for every parameter, or an error whose
// message starts with the display name. Crashes, sanitizer reports, hangs
// and broken invariants are the bugs it looks for. Built as a libFuzzer
// binary with ANET_FUZZ, and always into onnx_loader_replay, which runs it
// on the seeds onnx_fuzz_seeds writes, as an ordinary test.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "frontend/onnx_import.h"

namespace {

[[noreturn]] void broken(const char *what, const std::string &detail) {
  std::fprintf(stderr, "onnx_loader_fuzzer: invariant broken: %s: %s\n", what, detail.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const anet::ImportOptions opts = [] {
    anet::ImportOptions o;
    o.memory_budget_bytes = int64_t{256} << 20; // keeps absurd shapes from allocating
    return o;
  }();
  const std::string display = "fuzz-input.onnx";
  std::string bytes(reinterpret_cast<const char *>(data), size);
  auto model = anet::import_onnx_bytes(bytes, "", display, opts);
  if (!model) {
    if (model.error().message.rfind(display + ": ", 0) != 0)
      broken("error message does not start with the display name", model.error().message);
    return 0;
  }
  if (auto status = anet::verify(model->graph); !status)
    broken("imported graph does not verify", status.error().message);
  for (anet::ValueId p : model->graph.params()) {
    const anet::Value &v = model->graph.value(p);
    auto it = model->weights.find(v.name);
    if (it == model->weights.end() || static_cast<int64_t>(it->second.size()) != v.type.numel())
      broken("parameter without matching weights", v.name);
  }
  if (model->weights.size() != model->graph.params().size())
    broken("weights without a parameter", std::to_string(model->weights.size()));
  if (model->onnx_bytes != bytes)
    broken("onnx_bytes differ from the input", "");
  return 0;
}
