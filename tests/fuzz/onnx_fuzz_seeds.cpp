// Writes the ONNX loader fuzzer's seeds into the folder named on the
// command line: small valid models of several opsets and IR versions (a
// starting corpus for libFuzzer), every truncation of them, byte flips and
// random bytes (what the replay test runs on every compiler).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/frontend/onnx_builder.h"

namespace {

using anet::test::kSymbolic;
using anet::test::ModelBuilder;

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
  if (argc != 2) {
    std::fprintf(stderr, "usage: onnx_fuzz_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  size_t count = 0;
  auto write = [&](const std::string &stem, const std::string &bytes) {
    std::ofstream(dir / (stem + ".onnx"), std::ios::binary) << bytes;
    ++count;
  };
  int model = 0;
  for (const std::string &seed : seed_models()) {
    std::string stem = "model" + std::to_string(model++);
    write(stem, seed);
    for (size_t n = 0; n < seed.size(); ++n)
      write(stem + "_cut" + std::to_string(n), seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); ++i) {
      std::string flipped = seed;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
      write(stem + "_flip" + std::to_string(i), flipped);
    }
  }
  std::mt19937 rng(20240601);
  for (int i = 0; i < 200; ++i) {
    std::string random(rng() % 2048, '\0');
    for (char &c : random)
      c = static_cast<char>(rng());
    write("random" + std::to_string(i), random);
  }
  std::printf("onnx_fuzz_seeds: wrote %zu inputs to %s\n", count, argv[1]);
  return 0;
}
