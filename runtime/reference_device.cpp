// The reference device "cpu-ref": host memory, and for each node a Kernel
// that calls the op's reference kernel with the node's attributes and shapes
// captured at compile time. Everything runs synchronously on the calling
// thread.

#include <algorithm>
#include <cassert>
#include <new>

#include "ir/reference/reference.h"
#include "runtime/device.h"

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

class ReferenceDevice final : public Device {
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

  Expected<Buffer> allocate(int64_t numel) override {
    assert(numel >= 0);
    float *data = new (std::nothrow) float[static_cast<size_t>(numel)];
    if (!data)
      return make_error(ExitCode::Runtime, "cpu-ref: out of host memory allocating ", numel,
                        " floats");
    return Buffer(*this, data, numel);
  }

  Status copy_in(const Buffer &dst, std::span<const float> src) override {
    assert(static_cast<int64_t>(src.size()) == dst.numel() && "copy_in size mismatch");
    std::copy(src.begin(), src.end(), dst.data());
    return {};
  }

  Status copy_out(const Buffer &src, std::span<float> dst) override {
    assert(static_cast<int64_t>(dst.size()) == src.numel() && "copy_out size mismatch");
    std::copy_n(src.data(), src.numel(), dst.begin());
    return {};
  }

  Status synchronize() override { return {}; }

protected:
  void release(float *data, int64_t) noexcept override { delete[] data; }
};

} // namespace

std::unique_ptr<Device> make_reference_device() { return std::make_unique<ReferenceDevice>(); }

} // namespace anet
