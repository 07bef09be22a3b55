// fuse: folds an activation into the epilogue of the node that feeds it,
// so Conv(+bias)+ReLU and Gemm(+bias)+ReLU run as one kernel that writes
// its output once. Eligibility comes from the op table (after ORT's
// conv_activation_fusion and TVM's op patterns): the producer's fusion kind
// must be ComplexOutFusable, the reader must be an activation (an
// elementwise unary op, ir/activation.h), the producer's output must have
// that one reader and not be a graph output, and both must be on the same
// device. The fused node writes the activation's output value.

#include <algorithm>

#include "ir/activation.h"
#include "passes/passes.h"

namespace anet {
namespace {

class Fuse final : public Pass {
public:
  std::string_view name() const override { return "fuse"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    auto consumers = g.consumers();
    std::vector<bool> removed(g.nodes.size(), false);
    bool changed = false;
    for (Node &producer : g.nodes) {
      if (op_info(producer.op).fusion != FusionKind::ComplexOutFusable ||
          producer.attrs.has("activation"))
        continue;
      ValueId out = producer.outputs[0];
      const auto &readers = consumers[static_cast<size_t>(out)];
      if (readers.size() != 1 || std::count(g.outputs.begin(), g.outputs.end(), out))
        continue;
      auto reader_id = static_cast<size_t>(readers[0]);
      Node &reader = g.nodes[reader_id];
      if (!is_activation_op(reader.op) || reader.device != producer.device)
        continue;
      producer.attrs.set("activation", std::string(op_name(reader.op)));
      if (reader.op == OpKind::Clip) {
        producer.attrs.set("activation_min", reader.attrs.f("min"));
        producer.attrs.set("activation_max", reader.attrs.f("max"));
      }
      producer.outputs[0] = reader.outputs[0];
      removed[reader_id] = true;
      changed = true;
    }
    size_t i = 0;
    std::erase_if(g.nodes, [&](const Node &) { return removed[i++]; });
    if (changed)
      g.compact(); // the producers' old outputs are orphaned
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> make_fuse_pass() { return std::make_unique<Fuse>(); }

} // namespace anet
