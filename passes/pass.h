#pragma once
/// The pass interface and the pipeline runner. A pass is a named function
/// Graph -> Graph that edits in place and reports whether it changed
/// anything (after XLA's HloPassInterface). Pipelines are data: an ordered,
/// commented list of passes (passes/pipelines.cpp).

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

/// What every pass may read: the compile options that shape the program.
struct PassContext {
  /// Logical devices the program is partitioned over.
  int devices = 1;
  /// "model": the paper's model parallelism; "data": replicas on batch shares.
  std::string partition = "model";
  /// True for programs that train (keeps Dropout, adds loss and backward).
  bool training = false;
  /// SGD: v <- momentum v - weight_decay lr w - lr g; w <- w + v.
  float momentum = 0.9f;
  float weight_decay = 0.0005f;
  /// Run the verifier before and after every pass (tests, debug builds).
  bool verify = true;
  /// Passes that are skipped, by name (`--disable-pass`).
  std::set<std::string> disabled;
  /// Called with the pass's name and the graph after each pass that ran;
  /// `--print-after` and `--print-ir` hook in here.
  std::function<void(std::string_view pass, const Graph &)> after_pass;
};

/// A graph transformation.
class Pass {
public:
  virtual ~Pass() = default;
  /// Kebab-case name used by --print-after and --disable-pass.
  virtual std::string_view name() const = 0;
  /// Transforms `g` in place; returns whether anything changed.
  virtual Expected<bool> run(Graph &g, const PassContext &ctx) = 0;
};

/// One step of a pipeline: the pass and why it stands where it does.
struct PipelineStep {
  std::unique_ptr<Pass> pass;
  std::string_view why;
};

using Pipeline = std::vector<PipelineStep>;

/// Runs the steps in order, verifying before the first and after each pass
/// when ctx.verify is set. An error names the pass it came from.
Expected<bool> run_pipeline(Graph &g, const Pipeline &pipeline, const PassContext &ctx);

/// Runs one pass with the same checks as a pipeline (for tests).
Expected<bool> run_pass(Graph &g, Pass &pass, const PassContext &ctx);

} // namespace anet
