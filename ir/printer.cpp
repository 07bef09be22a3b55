// The IR printer. Values are declared in the text in the order of their ids
// so that parsing the text reproduces the ids exactly: the walk below
// interleaves declarations and nodes, and forward-declares (`value %x: ...`)
// any value whose id comes before the node that produces it is reached.

#include "ir/printer.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <ostream>
#include <sstream>
#include <variant>

namespace anet {
namespace {

bool is_bare_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '+' || c == '/' || c == '-' || c == '@';
}

void print_type(std::ostream &os, const TensorType &t) { os << to_string(t); }

void print_attr_value(std::ostream &os, const AttrValue &value) {
  std::visit(
      [&](const auto &v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          os << v;
        } else if constexpr (std::is_same_v<T, float>) {
          os << format_float(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << quote_string(v);
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          os << '[';
          for (size_t i = 0; i < v.size(); ++i)
            os << (i ? "," : "") << v[i];
          os << ']';
        } else {
          static_assert(std::is_same_v<T, std::vector<float>>);
          if (v.empty()) {
            os << "floats[]";
            return;
          }
          os << '[';
          for (size_t i = 0; i < v.size(); ++i)
            os << (i ? "," : "") << format_float(v[i]);
          os << ']';
        }
      },
      value);
}

void print_value_ref(std::ostream &os, const Graph &g, ValueId id) {
  os << '%' << name_text(g.value(id).name);
}

// `kind %name: type` and, for constants, `= [data]`.
void print_declaration(std::ostream &os, const Graph &g, ValueId id) {
  const Value &v = g.value(id);
  os << "  " << value_kind_name(v.kind) << ' ';
  print_value_ref(os, g, id);
  os << ": ";
  print_type(os, v.type);
  if (auto slice = g.param_slices.find(id); slice != g.param_slices.end()) {
    const ParamSlice &ps = slice->second;
    os << " from " << quote_string(ps.source) << ' ' << shape_string(ps.source_shape) << " axis "
       << ps.axis << " offset " << ps.offset;
  }
  if (v.kind == ValueKind::Constant) {
    if (auto it = g.constants.find(id); it != g.constants.end()) {
      os << " = [";
      for (size_t i = 0; i < it->second.size(); ++i)
        os << (i ? ", " : "") << format_float(it->second[i]);
      os << ']';
    }
  }
  os << '\n';
}

void print_node(std::ostream &os, const Graph &g, const Node &node) {
  os << "  ";
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    os << (i ? ", " : "");
    print_value_ref(os, g, node.outputs[i]);
    os << ": ";
    print_type(os, g.type(node.outputs[i]));
  }
  os << " = " << op_name(node.op) << '(';
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    os << (i ? ", " : "");
    print_value_ref(os, g, node.inputs[i]);
  }
  os << ')';
  if (!node.attrs.items().empty()) {
    os << " {";
    bool first = true;
    for (const auto &[key, value] : node.attrs.items()) {
      os << (first ? "" : ", ") << name_text(key) << '=';
      print_attr_value(os, value);
      first = false;
    }
    os << '}';
  }
  if (node.outputs.empty() || g.value(node.outputs[0]).name != node.name)
    os << " name=" << quote_string(node.name);
  if (node.device != 0)
    os << " device=" << node.device;
  os << '\n';
}

[[maybe_unused]] bool ids_in_range(const Graph &g) {
  auto ok = [&](ValueId v) { return v >= 0 && static_cast<size_t>(v) < g.values.size(); };
  for (const Node &node : g.nodes)
    if (!std::all_of(node.inputs.begin(), node.inputs.end(), ok) ||
        !std::all_of(node.outputs.begin(), node.outputs.end(), ok))
      return false;
  return std::all_of(g.inputs.begin(), g.inputs.end(), ok) &&
         std::all_of(g.outputs.begin(), g.outputs.end(), ok);
}

} // namespace

std::string format_float(float f) {
  if (std::isnan(f))
    return "nan";
  if (std::isinf(f))
    return f < 0 ? "-inf" : "inf";
  char buf[48];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  assert(ec == std::errc() && "a float always fits in 48 characters");
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos)
    s += ".0";
  return s;
}

std::string quote_string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (u < 0x20 || u == 0x7f) {
        out += "\\x";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c;
      }
    }
  }
  out += '"';
  return out;
}

std::string name_text(std::string_view s) {
  bool bare = !s.empty();
  for (char c : s)
    bare = bare && is_bare_char(c);
  return bare ? std::string(s) : quote_string(s);
}

void print_graph(std::ostream &os, const Graph &g) {
  assert(ids_in_range(g) && "print_graph needs every value id in range");
  const auto n_values = static_cast<ValueId>(g.values.size());
  os << "graph " << name_text(g.name) << " {\n";

  // Walk ids in order. Node j is printed as soon as its inputs are declared
  // and the outputs it would newly declare are exactly the next ids;
  // otherwise the next id is declared on its own line (an activation
  // produced later is forward-declared as `value`). Every iteration prints
  // something, and once every id is declared every remaining node prints,
  // so the walk ends; the parser assigns ids in first-declaration order.
  std::vector<bool> declared(g.values.size(), false);
  ValueId next_id = 0;
  size_t next_node = 0;
  while (next_id < n_values || next_node < g.nodes.size()) {
    if (next_node < g.nodes.size()) {
      const Node &node = g.nodes[next_node];
      std::vector<ValueId> fresh; // outputs this node would declare, first mentions only
      for (ValueId v : node.outputs)
        if (!declared[static_cast<size_t>(v)] &&
            std::find(fresh.begin(), fresh.end(), v) == fresh.end())
          fresh.push_back(v);
      bool in_order = true;
      for (size_t i = 0; i < fresh.size(); ++i)
        in_order = in_order && fresh[i] == next_id + static_cast<ValueId>(i);
      bool inputs_declared = std::all_of(node.inputs.begin(), node.inputs.end(), [&](ValueId v) {
        return declared[static_cast<size_t>(v)];
      });
      if (in_order && inputs_declared) {
        print_node(os, g, node);
        for (ValueId v : node.outputs)
          declared[static_cast<size_t>(v)] = true;
        next_id += static_cast<ValueId>(fresh.size());
        ++next_node;
        continue;
      }
    }
    print_declaration(os, g, next_id);
    declared[static_cast<size_t>(next_id)] = true;
    ++next_id;
  }

  std::vector<ValueId> default_inputs;
  for (ValueId id = 0; id < n_values; ++id)
    if (g.value(id).kind == ValueKind::Input)
      default_inputs.push_back(id);
  if (g.inputs != default_inputs) {
    os << "  inputs";
    for (size_t i = 0; i < g.inputs.size(); ++i) {
      os << (i ? ", " : " ");
      print_value_ref(os, g, g.inputs[i]);
    }
    os << '\n';
  }
  if (g.explicit_transfers)
    os << "  transfers explicit\n";
  for (const std::string &name : g.zero_init)
    os << "  state " << quote_string(name) << '\n';
  for (auto [param, update] : g.updates) {
    os << "  update ";
    print_value_ref(os, g, param);
    os << " = ";
    print_value_ref(os, g, update);
    os << '\n';
  }
  for (ValueId v : g.outputs) {
    os << "  output ";
    print_value_ref(os, g, v);
    os << '\n';
  }
  os << "}\n";
}

std::string print_graph(const Graph &g) {
  std::ostringstream os;
  print_graph(os, g);
  return os.str();
}

} // namespace anet
