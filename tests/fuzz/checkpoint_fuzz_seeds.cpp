// Writes the seed inputs of the checkpoint fuzz target into a directory:
//
//   checkpoint_fuzz_seeds DIR
//
// valid checkpoints (empty, and with weights, momentum and nested trainer
// state), their truncations, flipped bytes, forged JSON headers that pass
// the checksums, and random bytes behind the magic. The directory is
// emptied first.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

#include "runtime/train/checkpoint.h"
#include "tests/train/checkpoint_editing.h"

namespace {

namespace fs = std::filesystem;

void write(const fs::path &dir, const std::string &name, std::string_view bytes) {
  std::ofstream out(dir / name, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
    std::exit(1);
  }
}

std::string serialized(const anet::Checkpoint &c) {
  auto bytes = anet::serialize_checkpoint(c);
  if (!bytes.ok()) {
    std::fprintf(stderr, "the sample checkpoint does not serialise: %s\n",
                 bytes.error().message.c_str());
    std::exit(1);
  }
  return *bytes;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  fs::remove_all(dir);
  fs::create_directories(dir);

  anet::Checkpoint sample;
  sample.step = 4200;
  sample.epoch = 2;
  sample.batch = 11;
  sample.plan_fingerprint = "sha256:feedface";
  sample.weights["conv1.w"] = std::vector<float>(20, 0.25f);
  sample.weights["conv1.w.momentum"] = std::vector<float>(20, -1.0f);
  sample.weights["fc.b"] = {1.0f, 2.0f, 3.0f};
  sample.weights["none"] = {};
  sample.state = {{"lr", 0.01}, {"rng", {1, 2, 3}}, {"best", {{"top1", 0.5}}}};
  const std::string bytes = serialized(sample);
  write(dir, "sample.ckpt", bytes);
  write(dir, "empty.ckpt", serialized(anet::Checkpoint{}));

  for (size_t at : {size_t{1}, size_t{8}, size_t{12}, size_t{63}, size_t{64}})
    write(dir, "sample.cut" + std::to_string(at), bytes.substr(0, at));
  for (size_t i = 1; i < 12; ++i) {
    const size_t at = bytes.size() * i / 12;
    write(dir, "sample.cut" + std::to_string(at), bytes.substr(0, at));
  }
  for (size_t i = 0; i < 12; ++i) {
    std::string flipped = bytes;
    const size_t at = flipped.size() * i / 12;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x55);
    write(dir, "sample.flip" + std::to_string(at), flipped);
  }

  // Forged headers with valid checksums, one per kind of refusal.
  const char *headers[] = {
      "{",
      "[]",
      R"({"step":-1,"epoch":0,"batch":0,"plan_fingerprint":"","state":null,"tensors":[]})",
      R"({"step":1,"epoch":0,"batch":0,"plan_fingerprint":"","state":null,)"
      R"("tensors":[{"name":"w","count":2,"offset":0},{"name":"w","count":1,"offset":64}]})",
      R"({"step":1,"epoch":0,"batch":0,"plan_fingerprint":"","state":[[[[1]]]],)"
      R"("tensors":[{"name":"w","count":40,"offset":0}]})",
  };
  for (size_t i = 0; i < std::size(headers); ++i) {
    anet::testing::CheckpointPieces pieces;
    pieces.json = headers[i];
    pieces.data = std::string(128, '\0');
    write(dir, "forged" + std::to_string(i), anet::testing::join_checkpoint(pieces));
  }

  std::mt19937 rng(7);
  for (int i = 0; i < 6; ++i) {
    std::string random(anet::checkpoint_layout::kMagic);
    const size_t length = rng() % 512;
    for (size_t j = 0; j < length; ++j)
      random += static_cast<char>(rng());
    write(dir, "magic_random" + std::to_string(i), random);
  }
  return 0;
}
