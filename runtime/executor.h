#pragma once
/// The executor: runs one program (an ir::Graph entry point) on one device.
/// create() compiles every node, allocates one buffer per value and binds
/// parameters and constants once; run() copies the inputs in, launches the
/// kernels in the graph's order and copies the outputs out. Buffers are
/// reused by every run (memory planning is a later pass).

#include <memory>
#include <string>
#include <vector>

#include "ir/error.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "runtime/device.h"

namespace anet {

class Executor {
public:
  /// Verifies `program`, compiles every node for `device` and binds
  /// parameter data from `weights` by value name. A missing or wrongly sized
  /// weight is an ExitCode::IncompatiblePlan error naming it. `device` must
  /// outlive the Executor; `program` and `weights` need not.
  static Expected<Executor> create(const Graph &program, const WeightStore &weights,
                                   Device &device);

  /// Runs the program on `inputs`, given in program.inputs order with exactly
  /// the program's types (else an ExitCode::Usage error naming the input and
  /// the expected and given types). Returns program.outputs in order.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs);

  Executor(Executor &&) noexcept = default;
  Executor &operator=(Executor &&) noexcept = default;
  Executor(const Executor &) = delete;
  Executor &operator=(const Executor &) = delete;
  ~Executor();

private:
  /// One compiled node with the addresses of its operands.
  struct Step {
    std::string where; ///< "node 'conv1' (Conv)", for error messages
    std::unique_ptr<Kernel> kernel;
    std::vector<const float *> inputs;
    std::vector<float *> outputs;
  };
  /// A program input or output: its value and type.
  struct Port {
    ValueId value;
    std::string name;
    TensorType type;
  };

  Executor() = default;

  Device *device_ = nullptr;
  std::string program_name_;
  std::vector<Buffer> buffers_; ///< one per value, indexed by ValueId
  std::vector<Step> steps_;     ///< in the program's node order
  std::vector<Port> inputs_;
  std::vector<Port> outputs_;
};

} // namespace anet
