// The reference device "cpu-ref": host memory (host_device.h), and for each
// node a Kernel that calls the op's reference kernel with the node's
// attributes and shapes captured at compile time. Everything runs synchronously on the calling
// thread.

#include <cassert>

#include "ir/reference/reference.h"
#include "runtime/host_device.h"

namespace anet {
namespace {

class ReferenceKernel final : public Kernel {
public:
  ReferenceKernel(RefKernel fn, Attrs attrs, InViews in, OutViews out)
      : fn_(fn), attrs_(std::move(attrs)), in_(std::move(in)), out_(std::move(out)) {}

  Status run(std::span<const float *const> inputs, std::span<float *const> outputs) override {
    assert(inputs.size() == in_.size() && outputs.size() == out_.size() &&
           "kernel called with the wrong number of buffers");
    for (size_t i = 0; i < inputs.size(); ++i)
      in_[i].data = inputs[i];
    for (size_t i = 0; i < outputs.size(); ++i)
      out_[i].data = outputs[i];
    fn_(attrs_, in_, out_);
    return {};
  }

private:
  RefKernel fn_;
  Attrs attrs_;
  InViews in_;   ///< shapes fixed at compile time; data set by each run
  OutViews out_; ///< likewise
};

class ReferenceDevice final : public HostDevice {
public:
  std::string name() const override { return "cpu-ref"; }

  Expected<std::unique_ptr<Kernel>> compile(const Graph &graph, NodeId id) override {
    const Node &node = graph.nodes[static_cast<size_t>(id)];
    InViews in;
    for (ValueId v : node.inputs)
      in.push_back(InView{nullptr, graph.type(v).shape});
    OutViews out;
    for (ValueId v : node.outputs)
      out.push_back(OutView{nullptr, graph.type(v).shape});
    return std::unique_ptr<Kernel>(
        std::make_unique<ReferenceKernel>(ref_kernel(node.op), node.attrs, in, out));
  }
};

} // namespace

std::unique_ptr<Device> make_reference_device() { return std::make_unique<ReferenceDevice>(); }

} // namespace anet
