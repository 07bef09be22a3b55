// The executor (see executor.h): binds a verified program to device memory
// and compiled kernels once, then runs it any number of times.

#include "runtime/executor.h"

namespace anet {

Executor::~Executor() = default;

Expected<Executor> Executor::create(const Graph &program, const WeightStore &weights,
                                    Device &device) {
  ANET_RETURN_IF_ERR(verify(program));
  Executor ex;
  ex.device_ = &device;
  ex.program_name_ = program.name;

  // 1. One buffer per value.
  for (const Value &v : program.values) {
    auto buffer = device.allocate(v.type.numel());
    if (!buffer)
      return with_context(std::move(buffer).take_error(), "value '" + v.name + "'");
    ex.buffers_.push_back(std::move(*buffer));
  }

  // 2. Parameters from the weight store, constants from the graph.
  for (ValueId id = 0; id < static_cast<ValueId>(program.values.size()); ++id) {
    const Value &v = program.value(id);
    const Buffer &buffer = ex.buffers_[static_cast<size_t>(id)];
    if (v.kind == ValueKind::Constant) {
      ANET_RETURN_IF_ERR(device.copy_in(buffer, program.constants.at(id)));
      continue;
    }
    if (v.kind != ValueKind::Param)
      continue;
    auto it = weights.find(v.name);
    if (it == weights.end())
      return make_error(ExitCode::IncompatiblePlan, "program '", program.name, "': weight '",
                        v.name, "' (", to_string(v.type), ") is missing from the weight store");
    if (static_cast<int64_t>(it->second.size()) != v.type.numel())
      return make_error(ExitCode::IncompatiblePlan, "program '", program.name, "': weight '",
                        v.name, "' has ", it->second.size(), " elements, its type ",
                        to_string(v.type), " needs ", v.type.numel());
    ANET_RETURN_IF_ERR(device.copy_in(buffer, it->second));
  }

  // 3. A kernel per node, wired to the buffers of its operands.
  for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id) {
    const Node &node = program.nodes[static_cast<size_t>(id)];
    Step step;
    step.where = "node '" + node.name + "' (" + std::string(op_name(node.op)) + ")";
    auto kernel = device.compile(program, id);
    if (!kernel)
      return with_context(std::move(kernel).take_error(), "device '" + device.name() + "'");
    step.kernel = std::move(*kernel);
    for (ValueId v : node.inputs)
      step.inputs.push_back(ex.buffers_[static_cast<size_t>(v)].data());
    for (ValueId v : node.outputs)
      step.outputs.push_back(ex.buffers_[static_cast<size_t>(v)].data());
    ex.steps_.push_back(std::move(step));
  }

  for (ValueId v : program.inputs)
    ex.inputs_.push_back(Port{v, program.value(v).name, program.type(v)});
  for (ValueId v : program.outputs)
    ex.outputs_.push_back(Port{v, program.value(v).name, program.type(v)});
  return ex;
}

Expected<std::vector<Tensor>> Executor::run(const std::vector<Tensor> &inputs) {
  if (inputs.size() != inputs_.size())
    return make_error(ExitCode::Usage, "program '", program_name_, "' takes ", inputs_.size(),
                      " inputs, got ", inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Port &port = inputs_[i];
    const Tensor &t = inputs[i];
    if (t.type != port.type)
      return make_error(ExitCode::Usage, "program '", program_name_, "': input '", port.name,
                        "' expects ", to_string(port.type), ", got ", to_string(t.type));
    if (static_cast<int64_t>(t.data.size()) != t.type.numel())
      return make_error(ExitCode::Usage, "program '", program_name_, "': input '", port.name,
                        "' of type ", to_string(t.type), " holds ", t.data.size(),
                        " elements instead of ", t.type.numel());
    ANET_RETURN_IF_ERR(device_->copy_in(buffers_[static_cast<size_t>(port.value)], t.data));
  }

  for (Step &step : steps_) {
    Status status = step.kernel->run(step.inputs, step.outputs);
    if (!status)
      return with_context(std::move(status).take_error(), step.where);
  }
  ANET_RETURN_IF_ERR(device_->synchronize());

  std::vector<Tensor> outputs;
  for (const Port &port : outputs_) {
    Tensor t(port.type);
    ANET_RETURN_IF_ERR(device_->copy_out(buffers_[static_cast<size_t>(port.value)], t.data));
    outputs.push_back(std::move(t));
  }
  return outputs;
}

} // namespace anet
