#pragma once
// A built-in model (models/alexnet.h) imported at a batch and compiled by
// the training or inference pipeline, in memory: the program of tests that
// need a whole network (NVRTC on every kernel, a device's train step).

#include <gtest/gtest.h>

#include "frontend/onnx_import.h"
#include "models/alexnet.h"
#include "passes/passes.h"

namespace anet::test {

/// Model `name` built with `opts`, imported at `batch`, then run through
/// training_pipeline() (ctx.training) or inference_pipeline() with `ctx`.
/// Failures are test failures.
inline ImportedModel built_program(const std::string &name, const models::BuildOptions &opts,
                                   int64_t batch, const PassContext &ctx) {
  auto model = models::build_model(name, opts);
  EXPECT_TRUE(model.ok()) << model.error().message;
  ImportOptions io;
  io.batch = batch;
  auto imported = import_onnx_bytes(model->SerializeAsString(), "", name, io);
  EXPECT_TRUE(imported.ok()) << imported.error().message;
  Expected<bool> done =
      run_pipeline(imported->graph, ctx.training ? training_pipeline() : inference_pipeline(), ctx);
  EXPECT_TRUE(done.ok()) << done.error().message;
  return std::move(*imported);
}

} // namespace anet::test
