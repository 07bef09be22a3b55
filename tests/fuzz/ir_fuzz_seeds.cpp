// Writes the seed inputs of the IR fuzz targets into a directory:
//
//   ir_fuzz_seeds plan DIR   plans: valid ones, truncations, flipped bytes, random bytes
//   ir_fuzz_seeds text DIR   IR texts: printed samples, a hand-written one, cuts, random bytes
//
// The directory is emptied first. The samples come from tests/ir so the
// seeds cover every op of the table.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "ir/plan.h"
#include "ir/printer.h"
#include "tests/ir/ir_samples.h"
#include "tests/ir/plan_editing.h"

namespace {

namespace fs = std::filesystem;

class SeedWriter {
public:
  explicit SeedWriter(fs::path dir) : dir_(std::move(dir)) {}
  void write(const std::string &name, std::string_view bytes) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (dir_ / name).c_str());
      std::exit(1);
    }
  }
  // Prefixes of `bytes` cut at `count` places spread over it, plus the
  // header boundaries every reader must handle.
  void cuts(const std::string &stem, std::string_view bytes, size_t count) {
    for (size_t at : {size_t{1}, size_t{7}, size_t{8}, size_t{12}, size_t{32}, size_t{64}})
      if (at < bytes.size())
        write(stem + ".cut" + std::to_string(at), bytes.substr(0, at));
    for (size_t i = 1; i < count; ++i) {
      size_t at = bytes.size() * i / count;
      write(stem + ".cut" + std::to_string(at), bytes.substr(0, at));
    }
  }
  void random(const std::string &stem, size_t count, std::string_view prefix = {}) {
    std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(stem)));
    for (size_t i = 0; i < count; ++i) {
      std::string bytes(prefix);
      size_t length = rng() % 512;
      for (size_t j = 0; j < length; ++j)
        bytes += static_cast<char>(rng());
      write(stem + std::to_string(i), bytes);
    }
  }

private:
  fs::path dir_;
};

void plan_seeds(SeedWriter &out) {
  auto sample = anet::serialize_plan(anet::testing::sample_plan());
  anet::Plan small;
  small.programs["infer"] = anet::testing::small_net_graph();
  anet::testing::add_weights(small.programs["infer"], small.weights);
  auto small_bytes = anet::serialize_plan(small);
  if (!sample.ok() || !small_bytes.ok()) {
    std::fprintf(stderr, "the sample plans do not serialise\n");
    std::exit(1);
  }
  out.write("sample.plan", *sample);
  out.write("small.plan", *small_bytes);
  anet::Plan with_kernels = small;
  with_kernels.kernel_objects = {{"k1", "object bytes"}, {"k2", ""}};
  if (auto bytes = anet::serialize_plan(with_kernels); bytes.ok())
    out.write("kernel_objects.plan", *bytes);
  anet::Plan with_cuda = small;
  with_cuda.cuda_kernels = {{"sm_90/k1", anet::CudaBinary{"cubin bytes", 40, 8, 1024}},
                            {"compute_90/k1", anet::CudaBinary{".version 9.0", -1, 0, 0}}};
  if (auto bytes = anet::serialize_plan(with_cuda); bytes.ok())
    out.write("cuda_kernels.plan", *bytes);
  anet::Plan framed = small;
  framed.preprocess.pad = 2;
  if (auto bytes = anet::serialize_plan(framed); bytes.ok())
    out.write("framed.plan", *bytes);
  auto pieces = anet::testing::split_plan(*sample);
  pieces->sections.push_back({"HINT", 0, "an optional section from the future"});
  out.write("optional_section.plan", anet::testing::join_plan(*pieces));
  out.cuts("sample.plan", *sample, 16);
  for (size_t i = 0; i < 16; ++i) {
    std::string flipped = *small_bytes;
    size_t at = flipped.size() * i / 16;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x55);
    out.write("small.plan.flip" + std::to_string(at), flipped);
  }
  out.write("empty", "");
  out.random("random", 8);
  out.random("magic_random", 4, "ANETPLAN\x01\0\0\0");
}

void text_seeds(SeedWriter &out) {
  std::string all_ops = anet::print_graph(anet::testing::all_ops_graph());
  out.write("all_ops.ir", all_ops);
  out.write("small.ir", anet::print_graph(anet::testing::small_net_graph()));
  out.write("hand_written.ir", R"(# comments, inferred types, forward references
graph "hand written" {
  %y = Add(%x, %w) name="add" device=1
  input %x: f32[2,3]
  param %w: f32[2,3]
  value %dead: f32[1]
  const %"c:0": f32[3] = [1, -0.0, nan]
  %z: f32[2,3] = Mul(%y, %"c:0") {note="\x01\t\"", f=floats[], i=[]}
  inputs %x
  output %z
}
)");
  out.cuts("all_ops.ir", all_ops, 12);
  out.random("random", 4);
  out.random("graph_random", 4, "graph g {\n  input %x: f32[2]\n  ");
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3 || (std::string(argv[1]) != "plan" && std::string(argv[1]) != "text")) {
    std::fprintf(stderr, "usage: %s plan|text DIR\n", argv[0]);
    return 2;
  }
  fs::path dir = argv[2];
  fs::remove_all(dir);
  fs::create_directories(dir);
  SeedWriter out(dir);
  if (std::string(argv[1]) == "plan")
    plan_seeds(out);
  else
    text_seeds(out);
  return 0;
}
