#pragma once
/// The executor: runs one program (an ir::Graph entry point) on one or more
/// logical devices. create() plans memory (ir/memory_plan.h: one arena per
/// logical device), binds parameters (slicing partitioned weights out of
/// the weight store) and constants to every device that reads them, and
/// compiles every node for its device. run() copies the inputs in, runs each
/// logical device's nodes in order on a thread of its own, with Transfer
/// nodes waiting for the values they copy, and copies the outputs out.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/memory_plan.h"
#include "ir/tensor.h"
#include "runtime/device.h"

namespace anet {

class Executor {
public:
  /// Verifies `program`, plans its memory, compiles every node for the
  /// device its logical device maps to (logical device d runs on
  /// devices[d % devices.size()]), and binds parameter data from `weights`
  /// by name (for a partitioned weight, the slice of the stored one). A
  /// missing or wrongly sized weight is an ExitCode::IncompatiblePlan error
  /// naming it. The devices must outlive the Executor; `program` and
  /// `weights` need not.
  static Expected<Executor> create(const Graph &program, const WeightStore &weights,
                                   std::span<Device *const> devices);
  /// One device for every logical device.
  static Expected<Executor> create(const Graph &program, const WeightStore &weights,
                                   Device &device);

  /// Runs the program on `inputs`, given in program.inputs order with exactly
  /// the program's types (else an ExitCode::Usage error naming the input and
  /// the expected and given types). Returns program.outputs in order.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs);

  /// Replaces the data of every parameter the program reads by the weight
  /// of its name in `weights` (its slice, for a partitioned weight): for
  /// resuming from a checkpoint, or handing trained weights to another
  /// program. A missing weight that is not zero-initialised state, or one of
  /// the wrong size, is an ExitCode::IncompatiblePlan error naming it.
  Status load_weights(const WeightStore &weights);
  /// Copies the current data of every parameter the program reads, updated
  /// by its runs, into `weights` under the stored names: partitioned
  /// weights are reassembled whole from their slices.
  Status read_weights(WeightStore &weights) const;

  /// Times every node in the runs that follow (each kernel waits for its
  /// device before the next starts, so the times are the kernels' own).
  void set_profiling(bool on) { profiling_ = on; }
  /// Per node of the program (by NodeId), the seconds its kernel took in
  /// the last profiled run; empty before one.
  const std::vector<double> &node_seconds() const { return node_seconds_; }

  /// The memory plan the executor allocated from.
  const MemoryPlan &memory_plan() const { return memory_; }

  Executor(Executor &&) noexcept;
  Executor &operator=(Executor &&) noexcept;
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;
  ~Executor();

private:
  /// One compiled node with the addresses of its operands.
  struct Step {
    NodeId node;
    std::string where; ///< "node 'conv1' (Conv)", for error messages
    std::unique_ptr<Kernel> kernel;
    std::vector<const float *> inputs;
    std::vector<float *> outputs;
    ValueId waits_for = -1;       ///< Transfer: the remote value it copies
    std::vector<ValueId> signals; ///< outputs another device waits for
  };
  /// What one logical device runs.
  struct Lane {
    Device *device = nullptr;
    Buffer arena;
    std::vector<Step> steps;
  };
  /// A program input or output: where its data lives and its type.
  struct Port {
    std::string name;
    TensorType type;
    int lane;
    Buffer view;
  };
  struct Sync; ///< per-run readiness of values other devices wait for

  Executor();
  Status run_lane(Lane &lane);

  /// A parameter's buffer on one device.
  struct ResidentParam {
    ValueId value;
    int lane;
    size_t buffer; ///< index in resident_
  };

  std::string program_name_;
  std::unique_ptr<Graph> program_; ///< for load_weights/read_weights
  std::vector<ResidentParam> params_;
  MemoryPlan memory_;
  std::vector<Lane> lanes_;
  std::vector<Buffer> resident_; ///< params and constants, per reading device
  std::vector<Port> inputs_;
  std::vector<Port> outputs_;
  std::unique_ptr<Sync> sync_;
  bool profiling_ = false;
  std::vector<double> node_seconds_;
};

} // namespace anet
