// insert-transfers: makes every crossing between devices explicit. After
// partitioning, a node may read a value produced on another device (a
// gather's remote parts, a halo, a whole input read by both devices). For
// each such (value, device) pair this pass inserts one Transfer node on the
// reading device, just before its first reader, and points every reader on
// that device at the copy. Graph outputs produced elsewhere are moved to
// device 0. Afterwards the graph is marked explicit_transfers and the
// verifier checks placement from then on.
//
// Each Transfer carries `kind`, for reports: "gather" (into a Concat that
// reassembles a split value), "halo" (neighbouring channels for LRN) or
// "copy" (a whole value).

#include <algorithm>

#include "passes/passes.h"

namespace anet {
namespace {

class InsertTransfers final : public Pass {
public:
  std::string_view name() const override { return "insert-transfers"; }

  Expected<bool> run(Graph &g, const PassContext &) override {
    if (g.explicit_transfers)
      return false;
    std::map<ValueId, int> device;
    for (const Node &n : g.nodes)
      for (ValueId v : n.outputs)
        device[v] = n.device;
    auto device_of = [&](ValueId v) {
      auto it = device.find(v);
      if (it != device.end())
        return it->second;
      return g.value(v).kind == ValueKind::Input ? 0 : -1;
    };

    std::map<std::pair<ValueId, int>, ValueId> copies;
    std::vector<Node> nodes;
    bool changed = false;
    // A copy of v on device `to`, named out_name; the node is named after
    // what it moves ("transfer:conv1@1").
    auto transfer = [&](ValueId v, int to, const std::string &kind, const std::string &out_name,
                        const std::string &what) {
      auto key = std::make_pair(v, to);
      if (auto it = copies.find(key); it != copies.end())
        return it->second;
      ValueId copy = g.add_value(out_name, g.type(v), ValueKind::Activation);
      Node t;
      t.op = OpKind::Transfer;
      t.name = "transfer:" + what + "@" + std::to_string(to);
      t.inputs = {v};
      t.outputs = {copy};
      t.device = to;
      t.attrs.set("kind", kind);
      nodes.push_back(std::move(t));
      device[copy] = to;
      changed = true;
      return copies[key] = copy;
    };

    for (Node &n : g.nodes) {
      for (ValueId &v : n.inputs) {
        int from = device_of(v);
        if (from < 0 || from == n.device)
          continue;
        std::string kind = n.name.find("/halo") != std::string::npos      ? "halo"
                           : n.name.find("/gather@") != std::string::npos ? "gather"
                                                                          : "copy";
        v = transfer(v, n.device, kind,
                     g.unique_value_name(g.value(v).name + "@dev" + std::to_string(n.device)),
                     g.value(v).name);
      }
      nodes.push_back(std::move(n));
    }
    for (ValueId &v : g.outputs) {
      if (device_of(v) <= 0)
        continue;
      std::string name = g.value(v).name;
      g.rename_value(v, g.unique_value_name(name + "@dev" + std::to_string(device_of(v))));
      v = transfer(v, 0, "copy", name, name);
    }
    g.nodes = std::move(nodes);
    g.explicit_transfers = true;
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> make_insert_transfers_pass() { return std::make_unique<InsertTransfers>(); }

} // namespace anet
