// dead-code: removes nodes whose outputs nothing reads (neither another
// node, the graph's outputs nor a param update), then values nothing refers to. Runs after
// every rewrite that can leave producers orphaned.

#include "passes/passes.h"

namespace anet {
namespace {

class DeadCode final : public Pass {
public:
  std::string_view name() const override { return "dead-code"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    std::vector<bool> live(g.values.size(), false);
    for (ValueId v : g.outputs)
      live[static_cast<size_t>(v)] = true;
    for (auto [param, update] : g.updates)
      live[static_cast<size_t>(update)] = true;
    std::vector<bool> keep(g.nodes.size(), false);
    // Walk backwards: nodes are in topological order, so one sweep marks
    // everything the outputs depend on.
    for (size_t i = g.nodes.size(); i-- > 0;) {
      const Node &n = g.nodes[i];
      for (ValueId v : n.outputs)
        keep[i] = keep[i] || live[static_cast<size_t>(v)];
      if (!keep[i])
        continue;
      for (ValueId v : n.inputs)
        live[static_cast<size_t>(v)] = true;
    }
    size_t before_nodes = g.nodes.size(), before_values = g.values.size();
    std::vector<Node> kept;
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (keep[i])
        kept.push_back(std::move(g.nodes[i]));
    g.nodes = std::move(kept);
    g.compact();
    return g.nodes.size() != before_nodes || g.values.size() != before_values;
  }
};

} // namespace

std::unique_ptr<Pass> make_dead_code_pass() { return std::make_unique<DeadCode>(); }

} // namespace anet
