#include "ir/dot.h"

#include <map>
#include <sstream>

namespace anet {
namespace {

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string human_bytes(int64_t b) {
  std::ostringstream os;
  os.precision(3);
  if (b >= int64_t{1} << 20)
    os << static_cast<double>(b) / (1 << 20) << " MiB";
  else if (b >= 1024)
    os << static_cast<double>(b) / 1024 << " KiB";
  else
    os << b << " B";
  return os.str();
}

// Nodes partitioning adds around a layer (slices, gathers, halos) are
// named "layer/what@device": drawn small, so the layers stand out.
bool is_helper(const Node &n) { return n.name.find('/') != std::string::npos; }

} // namespace

std::string graph_to_dot(const Graph &g) {
  std::ostringstream os;
  os << "digraph \"" << escape(g.name) << "\" {\n"
     << "  rankdir=TB; newrank=true; compound=true;\n"
     << "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", "
        "fontname=\"Helvetica\", fontsize=10];\n"
     << "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n";

  // Where each value comes from: a drawn node, or (through transfers) the
  // node on the other device that produced it.
  std::vector<NodeId> producer = g.producers();
  auto source_of = [&](ValueId v) {
    NodeId p = producer[static_cast<size_t>(v)];
    while (p >= 0 && g.nodes[static_cast<size_t>(p)].op == OpKind::Transfer) {
      v = g.nodes[static_cast<size_t>(p)].inputs[0];
      p = producer[static_cast<size_t>(v)];
    }
    return std::make_pair(p, v);
  };

  std::map<int, std::vector<NodeId>> lanes;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].op != OpKind::Transfer)
      lanes[g.nodes[i].device].push_back(static_cast<NodeId>(i));
  for (ValueId v : g.inputs)
    os << "  v" << v << " [label=\"" << escape(g.value(v).name) << "\\n"
       << shape_string(g.type(v).shape) << "\", shape=oval, fillcolor=\"#fff4d6\"];\n";
  for (const auto &[device, nodes] : lanes) {
    os << "  subgraph cluster_device" << device << " {\n"
       << "    label=\"device " << device << "\"; style=\"rounded,dashed\"; color=\"#8899aa\";\n";
    for (NodeId id : nodes) {
      const Node &n = g.nodes[static_cast<size_t>(id)];
      const Shape &shape = g.type(n.outputs[0]).shape;
      os << "    n" << id << " [label=\"";
      if (is_helper(n)) {
        os << op_name(n.op) << "\", shape=ellipse, fillcolor=\"#f2f2f2\", fontsize=8";
      } else {
        os << escape(n.name) << "\\n" << op_name(n.op);
        if (const std::string *act = n.attrs.get_if<std::string>("activation"))
          os << "+" << *act;
        os << "\\n" << shape_string(shape) << "\"";
      }
      os << "];\n";
    }
    os << "  }\n";
  }

  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node &n = g.nodes[i];
    if (n.op == OpKind::Transfer)
      continue;
    for (ValueId v : n.inputs) {
      if (g.value(v).kind == ValueKind::Param || g.value(v).kind == ValueKind::Constant)
        continue;
      auto [p, origin] = source_of(v);
      std::string from = p >= 0 ? "n" + std::to_string(p) : "v" + std::to_string(origin);
      bool crosses =
          producer[static_cast<size_t>(v)] >= 0 &&
          g.nodes[static_cast<size_t>(producer[static_cast<size_t>(v)])].op == OpKind::Transfer;
      os << "  " << from << " -> n" << i;
      if (crosses)
        os << " [color=\"#c0392b\", penwidth=1.6, fontcolor=\"#c0392b\", label=\""
           << human_bytes(g.type(v).bytes()) << "\"]";
      os << ";\n";
    }
  }
  for (ValueId v : g.outputs) {
    auto [p, origin] = source_of(v);
    os << "  out" << v << " [label=\"" << escape(g.value(v).name)
       << "\", shape=oval, fillcolor=\"#e2f5e2\"];\n";
    os << "  " << (p >= 0 ? "n" + std::to_string(p) : "v" + std::to_string(origin)) << " -> out"
       << v << ";\n";
  }
  os << "}\n";
  return os.str();
}

} // namespace anet
