// Runs the ONNX loader's fuzz target without libFuzzer, so that CI built
// with any compiler exercises it: on the files named on the command line,
// and on built-in seeds (small valid models of several opsets, every
// truncation of them, byte flips, random bytes). `--write-seeds DIR` writes
// the valid models to DIR as a starting corpus for the real fuzzer.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "onnx_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

using anet::test::kSymbolic;
using anet::test::ModelBuilder;

void run(const std::string &bytes) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
}

// A model touching many ops: conv, pooling, LRN, reshape with a constant
// shape, split/concat, slice, pad, gemm, softmax.
std::string seed_model(int64_t opset, int64_t ir_version) {
  ModelBuilder b(opset, ir_version);
  b.input("x", {kSymbolic, 2, 6, 6});
  b.initializer("w", {4, 2, 3, 3}, std::vector<float>(72, 0.1f));
  b.initializer("b", {4}, {0, 1, 2, 3});
  b.initializer("fc", {3, 16}, std::vector<float>(48, 0.2f));
  b.int_initializer("shape", {2}, {0, -1});
  b.node("Conv", {"x", "w", "b"}, {"c"}, "conv").ints("pads", {1, 1, 1, 1}).i("group", 1);
  b.node("Relu", {"c"}, {"r"}, "relu");
  b.node("LRN", {"r"}, {"l"}, "lrn").i("size", 3);
  b.node("MaxPool", {"l"}, {"p"}, "pool").ints("kernel_shape", {2, 2}).ints("strides", {2, 2});
  b.node("AveragePool", {"p"}, {"a"}, "avg").ints("kernel_shape", {2, 2}).i("ceil_mode", 1);
  b.node("Reshape", {"a", "shape"}, {"f"}, "flatten");
  b.node("Gemm", {"f", "fc"}, {"g"}, "fc").i("transB", 1);
  if (opset >= 13) {
    b.int_initializer("sizes", {2}, {1, 2});
    b.node("Split", {"g", "sizes"}, {"s1", "s2"}, "split").i("axis", 1);
  } else {
    b.node("Split", {"g"}, {"s1", "s2"}, "split").i("axis", 1).ints("split", {1, 2});
  }
  b.node("Concat", {"s2", "s1"}, {"cat"}, "concat").i("axis", -1);
  b.node("Softmax", {"cat"}, {"prob"}, "softmax");
  b.output("prob", {kSymbolic, 3});
  return b.bytes();
}

std::vector<std::string> seed_models() {
  return {seed_model(11, 6), seed_model(13, 7), seed_model(18, 8), seed_model(21, 10)};
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "--write-seeds") {
    std::filesystem::create_directories(args[1]);
    int i = 0;
    for (const std::string &seed : seed_models())
      std::ofstream(std::filesystem::path(args[1]) / ("seed_" + std::to_string(i++) + ".onnx"),
                    std::ios::binary)
          << seed;
    return 0;
  }
  for (const std::string &path : args) {
    std::ifstream in(path, std::ios::binary);
    run(std::string(std::istreambuf_iterator<char>(in), {}));
  }
  size_t runs = 0;
  for (const std::string &seed : seed_models()) {
    run(seed);
    for (size_t n = 0; n < seed.size(); ++n, ++runs)
      run(seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); ++i, ++runs) {
      std::string flipped = seed;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
      run(flipped);
    }
  }
  std::mt19937 rng(20240601);
  for (int i = 0; i < 200; ++i, ++runs) {
    std::string random(rng() % 2048, '\0');
    for (char &c : random)
      c = static_cast<char>(rng());
    run(random);
  }
  std::printf("fuzz_onnx_loader_replay: %zu inputs, no invariant broken\n", runs);
  return 0;
}
