#pragma once
/// The executor: runs one program (an ir::Graph entry point) on one or more
/// logical devices. create() plans memory (ir/memory_plan.h: one arena per
/// logical device), binds parameters (slicing partitioned weights out of
/// the weight store) and constants to every device that reads them, and
/// compiles every node for its device. run() copies the inputs in, runs the
/// nodes, and copies the outputs out. A device that orders its logical
/// devices' work itself (Device::orders_lanes(): cuda's streams) gets every
/// node from one thread in program order, a Transfer waiting for the logical
/// device it copies from; where the device records (Device::records(): a
/// CUDA graph), the first run records the launches and every run replays
/// them. Otherwise each logical device runs its nodes on a host thread of
/// its own, Transfers waiting for the values they copy.

#include <functional>
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
  /// the expected and given types); an input given to stage() since the last
  /// run may be left empty (a default Tensor). `meanwhile`, if given, runs on
  /// the calling thread once the kernels are launched and before their
  /// outputs are awaited: host work that overlaps the device's where it runs
  /// asynchronously (cuda), such as staging the next run's inputs; its error
  /// is returned once the device is done. Returns program.outputs in order.
  Expected<std::vector<Tensor>> run(const std::vector<Tensor> &inputs,
                                    const std::function<Status()> &meanwhile = {});

  /// Copies `input` into program input `index` now, for the next run(),
  /// which is then given an empty Tensor in its place. The copy follows the
  /// work launched so far, so it may come from a run's `meanwhile`: on cuda
  /// the host's copy into pinned memory then overlaps that run's kernels.
  Status stage(size_t index, const Tensor &input);

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
    int waits_on = -1;            ///< and the logical device that value lives on
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
  /// An ExitCode::Usage error unless `t` fits program input `index`.
  Status check_input(size_t index, const Tensor &t) const;
  /// Runs one step's kernel (synchronised and timed when profiling).
  Status run_step(Lane &lane, Step &step);
  /// A logical device's steps on a host thread of its own.
  Status run_lane(Lane &lane);
  /// Every step from this thread in program order, on a device that
  /// orders_lanes(); recorded on the first run where the device records,
  /// replayed on every run.
  Status run_ordered();
  /// Launches every step in program order (lane_wait before Transfers).
  Status launch_ordered();
  /// Makes every lane wait for the work launched so far to every other.
  Status join_lanes();

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
  std::vector<bool> staged_; ///< per input: given to stage() for the next run
  std::vector<Port> outputs_;
  std::unique_ptr<Sync> sync_;
  /// Whether every lane is on one device that orders_lanes(); then the
  /// steps in program order, as (lane, index in its steps).
  bool ordered_ = false;
  std::vector<std::pair<int, size_t>> order_;
  std::unique_ptr<Recording> recording_; ///< the launches of a run, once recorded
  bool profiling_ = false;
  std::vector<double> node_seconds_;
};

} // namespace anet
