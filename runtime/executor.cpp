// The executor (see executor.h): binds a verified program to device memory
// and compiled kernels once, then runs it any number of times.
//
// Concurrency: each logical device (a lane) runs its nodes in graph order,
// on a thread of its own or, where the device orders lanes itself (cuda: a
// stream per lane), in one program-order sequence of launches. Values on
// one lane are produced and consumed in that order, so the only waits are
// Transfer nodes, which wait until the value they copy is ready on its lane:
// on the host (a condition variable) or on the device (lane_wait: an event
// between streams). The memory plan keeps every value another lane copies
// alive to the end of the run, so no lane can overwrite a value before its
// copy has been made.

#include "runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace anet {

struct Executor::Sync {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<bool> ready; ///< per value
  bool failed = false;
};

Executor::Executor() : sync_(std::make_unique<Sync>()) {}
Executor::Executor(Executor &&) noexcept = default;
Executor &Executor::operator=(Executor &&) noexcept = default;
Executor::~Executor() = default;

namespace {

// A param that slices a stored weight, as runs of contiguous floats: run o
// is part[o * length, +length) and whole[first + o * whole_stride, +length).
// What binding (whole -> part) and read_weights (part -> whole) both walk.
struct SliceRuns {
  int64_t runs = 1;
  int64_t length = 0;
  int64_t first = 0;
  int64_t whole_stride = 0;
};

SliceRuns slice_runs(const ParamSlice &s, const Shape &part) {
  int64_t inner = 1;
  SliceRuns r;
  for (size_t d = 0; d < s.source_shape.size(); ++d) {
    if (static_cast<int64_t>(d) < s.axis)
      r.runs *= s.source_shape[d];
    if (static_cast<int64_t>(d) > s.axis)
      inner *= s.source_shape[d];
  }
  const auto axis = static_cast<size_t>(s.axis);
  r.length = part[axis] * inner;
  r.first = s.offset * inner;
  r.whole_stride = s.source_shape[axis] * inner;
  return r;
}

// The data of a param: the stored weight, or for a partitioned weight the
// slice of it this device holds.
Expected<std::vector<float>> param_data(const Graph &g, ValueId id, const WeightStore &weights) {
  const Value &v = g.value(id);
  auto slice = g.param_slices.find(id);
  const std::string &source = slice == g.param_slices.end() ? v.name : slice->second.source;
  auto it = weights.find(source);
  if (it == weights.end() && g.zero_init.count(source))
    return std::vector<float>(static_cast<size_t>(v.type.numel()), 0.f);
  if (it == weights.end())
    return make_error(ExitCode::IncompatiblePlan, "program '", g.name, "': weight '", source, "' (",
                      to_string(v.type), ") is missing from the weight store");
  const std::vector<float> &data = it->second;
  if (slice == g.param_slices.end()) {
    if (static_cast<int64_t>(data.size()) != v.type.numel())
      return make_error(ExitCode::IncompatiblePlan, "program '", g.name, "': weight '", v.name,
                        "' has ", data.size(), " elements, its type ", to_string(v.type), " needs ",
                        v.type.numel());
    return data;
  }
  const ParamSlice &s = slice->second;
  TensorType whole{DType::F32, s.source_shape};
  if (static_cast<int64_t>(data.size()) != whole.numel())
    return make_error(ExitCode::IncompatiblePlan, "program '", g.name, "': weight '", source,
                      "' has ", data.size(), " elements, the program slices it as ",
                      to_string(whole));
  const SliceRuns r = slice_runs(s, v.type.shape);
  std::vector<float> part;
  part.reserve(static_cast<size_t>(v.type.numel()));
  for (int64_t o = 0; o < r.runs; ++o) {
    auto first = data.begin() + r.first + o * r.whole_stride;
    part.insert(part.end(), first, first + r.length);
  }
  return part;
}

} // namespace

Expected<Executor> Executor::create(const Graph &program, const WeightStore &weights,
                                    Device &device) {
  Device *one[] = {&device};
  return create(program, weights, one);
}

Expected<Executor> Executor::create(const Graph &program, const WeightStore &weights,
                                    std::span<Device *const> devices) {
  assert(!devices.empty() && "an executor needs a device");
  ANET_RETURN_IF_ERR(verify(program));
  Executor ex;
  ex.program_name_ = program.name;
  ex.program_ = std::make_unique<Graph>(program);
  ex.memory_ = plan_memory(program);
  ANET_RETURN_IF_ERR(check_memory_plan(program, ex.memory_));

  // 1. An arena per logical device.
  for (size_t d = 0; d < ex.memory_.arena_bytes.size(); ++d) {
    Lane lane;
    lane.device = devices[d % devices.size()];
    auto arena = lane.device->allocate_on(static_cast<int>(d),
                                          std::max<int64_t>(ex.memory_.arena_bytes[d] / 4, 1));
    if (!arena)
      return with_context(std::move(arena).take_error(),
                          "arena of logical device " + std::to_string(d));
    lane.arena = std::move(*arena);
    ex.lanes_.push_back(std::move(lane));
  }

  // 2. Where every value lives, for the kernels on each device: arena
  // values at their planned offsets; params and constants copied to each
  // device that reads them.
  std::map<std::pair<ValueId, int>, size_t> resident_at; // -> index in resident_
  std::map<ValueId, ValueId> updated_param;              // update value -> its param
  for (auto [param, update] : program.updates)
    updated_param[update] = param;
  std::function<Expected<float *>(ValueId, int)> address;
  address = [&](ValueId v, int lane) -> Expected<float *> {
    const Value &val = program.value(v);
    if (auto it = updated_param.find(v); it != updated_param.end())
      return address(it->second, lane); // written over the param it replaces
    if (val.kind == ValueKind::Input || val.kind == ValueKind::Activation) {
      const Lane &home = ex.lanes_[static_cast<size_t>(ex.memory_.device[static_cast<size_t>(v)])];
      return home.arena.data() + ex.memory_.offset[static_cast<size_t>(v)] / 4;
    }
    auto key = std::make_pair(v, lane);
    if (auto it = resident_at.find(key); it != resident_at.end())
      return ex.resident_[it->second].data();
    Device &dev = *ex.lanes_[static_cast<size_t>(lane)].device;
    auto buffer = dev.allocate_on(lane, val.type.numel());
    if (!buffer)
      return with_context(std::move(buffer).take_error(), "value '" + val.name + "'");
    if (val.kind == ValueKind::Constant) {
      ANET_RETURN_IF_ERR(dev.copy_in(*buffer, program.constants.at(v)));
    } else {
      ANET_ASSIGN_OR_RETURN(std::vector<float> data, param_data(program, v, weights));
      ANET_RETURN_IF_ERR(dev.copy_in(*buffer, data));
      ex.params_.push_back(ResidentParam{v, lane, ex.resident_.size()});
    }
    resident_at[key] = ex.resident_.size();
    ex.resident_.push_back(std::move(*buffer));
    return ex.resident_.back().data();
  };

  // 3. A kernel per node, on its device's lane, wired to its operands.
  // Transfers wait for node outputs; inputs, params and constants are in
  // place before any lane starts.
  auto awaits = [&](const Node &node) {
    return node.op == OpKind::Transfer &&
           program.value(node.inputs[0]).kind == ValueKind::Activation;
  };
  std::map<Device *, std::vector<NodeId>> nodes_of;
  for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id)
    nodes_of[ex.lanes_[static_cast<size_t>(program.nodes[static_cast<size_t>(id)].device)].device]
        .push_back(id);
  for (auto &[device, nodes] : nodes_of)
    if (Status s = device->prepare(program, nodes); !s)
      return with_context(std::move(s).take_error(), "device '" + device->name() + "'");
  std::vector<bool> awaited(program.values.size(), false);
  for (const Node &node : program.nodes)
    if (awaits(node))
      awaited[static_cast<size_t>(node.inputs[0])] = true;
  for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id) {
    const Node &node = program.nodes[static_cast<size_t>(id)];
    Lane &lane = ex.lanes_[static_cast<size_t>(node.device)];
    Step step;
    step.node = id;
    step.where = node_label(node);
    auto kernel = lane.device->compile(program, id);
    if (!kernel)
      return with_context(std::move(kernel).take_error(), "device '" + lane.device->name() + "'");
    step.kernel = std::move(*kernel);
    for (ValueId v : node.inputs) {
      ANET_ASSIGN_OR_RETURN(float *p, address(v, node.device));
      step.inputs.push_back(p);
    }
    for (ValueId v : node.outputs) {
      ANET_ASSIGN_OR_RETURN(float *p, address(v, node.device));
      step.outputs.push_back(p);
      if (awaited[static_cast<size_t>(v)])
        step.signals.push_back(v);
    }
    if (awaits(node)) {
      step.waits_for = node.inputs[0];
      step.waits_on = ex.memory_.device[static_cast<size_t>(node.inputs[0])];
    }
    ex.order_.emplace_back(node.device, lane.steps.size());
    lane.steps.push_back(std::move(step));
  }
  ex.sync_->ready.assign(program.values.size(), false);
  ex.ordered_ = ex.lanes_[0].device->orders_lanes() &&
                std::all_of(ex.lanes_.begin(), ex.lanes_.end(),
                            [&](const Lane &l) { return l.device == ex.lanes_[0].device; });

  auto port = [&](ValueId v) {
    int lane = std::max(ex.memory_.device[static_cast<size_t>(v)], 0);
    const Value &val = program.value(v);
    Buffer view;
    if (val.kind == ValueKind::Input || val.kind == ValueKind::Activation)
      view = ex.lanes_[static_cast<size_t>(lane)].arena.view(
          ex.memory_.offset[static_cast<size_t>(v)] / 4, val.type.numel());
    return Port{val.name, val.type, lane, std::move(view)};
  };
  for (ValueId v : program.inputs)
    ex.inputs_.push_back(port(v));
  ex.staged_.assign(ex.inputs_.size(), false);
  for (ValueId v : program.outputs) {
    Port p = port(v);
    if (program.value(v).kind == ValueKind::Param || program.value(v).kind == ValueKind::Constant) {
      ANET_RETURN_IF_ERR(address(v, 0));
      p.view = ex.resident_[resident_at.at({v, 0})].view(0, p.type.numel());
    }
    ex.outputs_.push_back(std::move(p));
  }
  return ex;
}

Status Executor::run_step(Lane &lane, Step &step) {
  const auto start = std::chrono::steady_clock::now();
  Status status = step.kernel->run(step.inputs, step.outputs);
  if (status && profiling_)
    status = lane.device->synchronize();
  if (profiling_)
    node_seconds_[static_cast<size_t>(step.node)] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status)
    return with_context(std::move(status).take_error(), step.where);
  return {};
}

Status Executor::run_lane(Lane &lane) {
  Sync &sync = *sync_;
  for (Step &step : lane.steps) {
    if (step.waits_for >= 0) {
      std::unique_lock lock(sync.mutex);
      sync.changed.wait(
          lock, [&] { return sync.ready[static_cast<size_t>(step.waits_for)] || sync.failed; });
      if (sync.failed)
        return {}; // another lane failed; its error is the one reported
    }
    Status status = run_step(lane, step);
    if (status && !step.signals.empty())
      status = lane.device->synchronize();
    if (!status) {
      std::lock_guard lock(sync.mutex);
      sync.failed = true;
      sync.changed.notify_all();
      return status;
    }
    if (!step.signals.empty()) {
      std::lock_guard lock(sync.mutex);
      for (ValueId v : step.signals)
        sync.ready[static_cast<size_t>(v)] = true;
      sync.changed.notify_all();
    }
  }
  return lane.device->synchronize();
}

Status Executor::launch_ordered() {
  for (auto [l, i] : order_) {
    Lane &lane = lanes_[static_cast<size_t>(l)];
    Step &step = lane.steps[i];
    if (step.waits_for >= 0)
      if (Status s = lane.device->lane_wait(l, step.waits_on); !s)
        return with_context(std::move(s).take_error(), step.where);
    ANET_RETURN_IF_ERR(run_step(lane, step));
  }
  return {};
}

Status Executor::join_lanes() {
  Device &device = *lanes_[0].device;
  const int lanes = static_cast<int>(lanes_.size());
  for (int l = 0; l < lanes; ++l)
    for (int from = 0; from < lanes; ++from)
      if (from != l)
        ANET_RETURN_IF_ERR(device.lane_wait(l, from));
  return {};
}

Status Executor::run_ordered() {
  Device &device = *lanes_[0].device;
  // Every lane starts after the inputs staged on all of them (a Transfer may
  // read another lane's input), and outputs are staged after every lane is
  // done.
  ANET_RETURN_IF_ERR(join_lanes());
  if (!profiling_ && !recording_ && device.records()) {
    ANET_RETURN_IF_ERR(device.begin_recording());
    Status launched = launch_ordered();
    auto recorded = device.end_recording();
    ANET_RETURN_IF_ERR(launched);
    if (!recorded)
      return with_context(std::move(recorded).take_error(),
                          "recording program '" + program_name_ + "'");
    recording_ = std::move(*recorded);
  }
  if (!profiling_ && recording_)
    ANET_RETURN_IF_ERR(recording_->replay());
  else
    ANET_RETURN_IF_ERR(launch_ordered()); // profiling: a launch per kernel, each timed
  return join_lanes();
}

Status Executor::check_input(size_t index, const Tensor &t) const {
  const Port &port = inputs_[index];
  if (t.type != port.type)
    return make_error(ExitCode::Usage, "program '", program_name_, "': input '", port.name,
                      "' expects ", to_string(port.type), ", got ", to_string(t.type));
  if (static_cast<int64_t>(t.data.size()) != t.type.numel())
    return make_error(ExitCode::Usage, "program '", program_name_, "': input '", port.name,
                      "' of type ", to_string(t.type), " holds ", t.data.size(),
                      " elements instead of ", t.type.numel());
  return {};
}

Status Executor::stage(size_t index, const Tensor &input) {
  if (index >= inputs_.size())
    return make_error(ExitCode::Usage, "program '", program_name_, "' has no input ", index,
                      " (it takes ", inputs_.size(), ")");
  ANET_RETURN_IF_ERR(check_input(index, input));
  const Port &port = inputs_[index];
  ANET_RETURN_IF_ERR(
      lanes_[static_cast<size_t>(port.lane)].device->stage_in(port.lane, port.view, input.data));
  staged_[index] = true;
  return {};
}

Expected<std::vector<Tensor>> Executor::run(const std::vector<Tensor> &inputs,
                                            const std::function<Status()> &meanwhile) {
  if (inputs.size() != inputs_.size())
    return make_error(ExitCode::Usage, "program '", program_name_, "' takes ", inputs_.size(),
                      " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor &t = inputs[i];
    if (staged_[i] && t.data.empty() && t.type.shape.empty())
      continue; // given to stage()
    ANET_RETURN_IF_ERR(check_input(i, t));
    const Port &port = inputs_[i];
    ANET_RETURN_IF_ERR(
        lanes_[static_cast<size_t>(port.lane)].device->stage_in(port.lane, port.view, t.data));
  }
  staged_.assign(inputs_.size(), false);

  if (profiling_)
    node_seconds_.assign(program_->nodes.size(), 0.0);
  std::fill(sync_->ready.begin(), sync_->ready.end(), false);
  sync_->failed = false;
  std::vector<Status> results(lanes_.size());
  if (ordered_) {
    results[0] = run_ordered();
  } else if (lanes_.size() == 1) {
    results[0] = run_lane(lanes_[0]);
  } else {
    std::vector<std::thread> threads;
    for (size_t d = 1; d < lanes_.size(); ++d)
      threads.emplace_back([this, &results, d] { results[d] = run_lane(lanes_[d]); });
    results[0] = run_lane(lanes_[0]);
    for (std::thread &t : threads)
      t.join();
  }
  for (Status &s : results)
    if (!s)
      return std::move(s).take_error();
  // The outputs are copied out (or their copies queued) before `meanwhile`
  // may stage the next inputs, which the memory plan may place where an
  // output lives.
  std::vector<Tensor> outputs;
  for (const Port &port : outputs_)
    outputs.emplace_back(port.type);
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const Port &port = outputs_[i];
    ANET_RETURN_IF_ERR(lanes_[static_cast<size_t>(port.lane)].device->stage_out(
        port.lane, port.view, outputs[i].data));
  }
  Status overlapped = meanwhile ? meanwhile() : Status();
  for (size_t l = 0; l < lanes_.size(); ++l)
    if (l == 0 || lanes_[l].device != lanes_[0].device)
      ANET_RETURN_IF_ERR(lanes_[l].device->synchronize());
  ANET_RETURN_IF_ERR(overlapped);
  return outputs;
}

Status Executor::load_weights(const WeightStore &weights) {
  // Stale from here on, even if a copy below fails half way.
  for (Lane &lane : lanes_)
    for (Step &step : lane.steps)
      if (step.kernel)
        step.kernel->weights_changed();
  for (const ResidentParam &p : params_) {
    ANET_ASSIGN_OR_RETURN(std::vector<float> data, param_data(*program_, p.value, weights));
    Buffer &buffer = resident_[p.buffer];
    ANET_RETURN_IF_ERR(lanes_[static_cast<size_t>(p.lane)].device->copy_in(buffer, data));
  }
  return {};
}

Status Executor::read_weights(WeightStore &weights) const {
  for (const ResidentParam &p : params_) {
    const Value &v = program_->value(p.value);
    std::vector<float> data(static_cast<size_t>(v.type.numel()));
    const Buffer &buffer = resident_[p.buffer];
    ANET_RETURN_IF_ERR(lanes_[static_cast<size_t>(p.lane)].device->copy_out(buffer, data));
    auto slice = program_->param_slices.find(p.value);
    if (slice == program_->param_slices.end()) {
      weights[v.name] = std::move(data);
      continue;
    }
    // Write this device's slice into the whole weight.
    const ParamSlice &s = slice->second;
    std::vector<float> &whole = weights[s.source];
    whole.resize(static_cast<size_t>(TensorType{DType::F32, s.source_shape}.numel()));
    const SliceRuns r = slice_runs(s, v.type.shape);
    for (int64_t o = 0; o < r.runs; ++o)
      std::copy_n(data.begin() + o * r.length, r.length,
                  whole.begin() + r.first + o * r.whole_stride);
  }
  return {};
}

} // namespace anet
