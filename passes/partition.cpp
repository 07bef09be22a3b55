// partition: splits the program over N logical devices.
//
// Design note. Two strategies, chosen by PassContext::partition:
//  - "model", the AlexNet paper's model parallelism: every layer's kernels
//    are split between the devices. A grouped convolution whose group count
//    N divides puts each device's share of the groups on that device, so it
//    reads only its own half of the input (conv2, conv4, conv5). Ungrouped
//    convolutions and fully connected layers are split by output channels or
//    neurons and need the whole input on every device (conv1 reads the
//    image, conv3 and fc6-fc8 gather: the paper's communication). Elementwise
//    ops, pooling and normalisation follow their input's split; LRN across a
//    channel split reads a halo of neighbouring channels.
//  - "data": each device is a replica running its share of the batch; every
//    op that is independent across the batch follows the batch split.
// Anything that cannot be split runs whole on one device.
//
// The pass works in explicit, numbered steps (after ggml's
// ggml_backend_sched_split_graph):
//  1. graph inputs start whole on device 0 ("data": scattered by batch);
//  2. each node, in order, is assigned a strategy from its op, its
//     attributes and how its inputs are distributed, and is replaced by one
//     node per device (or one whole node); each device's weights become
//     params of their own that slice the stored weight (Graph::param_slices);
//  3. values whose readers want another layout are gathered (Concat) or
//     sliced (Slice) where they are read; halos are sliced on the neighbour;
//  4. graph outputs are gathered whole on device 0 under their own names.
// Nodes may now read values from another device: the insert-transfers pass
// that follows lists those crossings and inserts the Transfer nodes.

#include <algorithm>
#include <numeric>

#include "passes/passes.h"

namespace anet {
namespace {

// How a value of the source graph is laid out over the devices.
struct Layout {
  bool split = false;
  ValueId whole = -1;              // !split: the value in the new graph
  int64_t axis = -1;               // split: the split axis
  std::vector<ValueId> parts;      // split: part d lives on device d
  std::vector<int64_t> offsets;    // split: part d covers [offsets[d], offsets[d+1])
  std::map<int, ValueId> gathered; // split: whole copies made so far, by device
};

class Partitioner {
public:
  Partitioner(const Graph &src, const PassContext &ctx)
      : src_(src), n_(ctx.devices), data_(ctx.partition == "data"), layout_(src.values.size()) {}

  Expected<Graph> run() {
    out_.name = src_.name;
    // Step 1: inputs.
    for (ValueId v : src_.inputs) {
      const Value &val = src_.value(v);
      ValueId nv = out_.add_value(val.name, val.type, ValueKind::Input);
      layout_[static_cast<size_t>(v)].whole = nv;
      if (data_ && val.type.rank() > 0 && val.type.shape[0] >= n_)
        scatter(v, nv);
    }
    // Steps 2 and 3: nodes.
    for (const Node &node : src_.nodes)
      ANET_RETURN_IF_ERR(place(node));
    // Step 4: outputs, whole on device 0, under their own names.
    reader_ = "output";
    for (ValueId v : src_.outputs) {
      const std::string &name = src_.value(v).name;
      Layout &l = layout_[static_cast<size_t>(v)];
      if (is_resident(v)) {
        out_.outputs.push_back(resident(v));
      } else if (!l.split) {
        out_.outputs.push_back(l.whole);
      } else if (auto it = l.gathered.find(0); it != l.gathered.end()) {
        if (out_.value(it->second).name != name)
          out_.rename_value(it->second, name);
        out_.outputs.push_back(it->second);
      } else {
        out_.outputs.push_back(l.gathered[0] = gather(v, 0, name));
      }
    }
    return std::move(out_);
  }

private:
  // --- values -------------------------------------------------------------

  // Params and constants are mapped on first use, under their own names.
  ValueId resident(ValueId v) {
    Layout &l = layout_[static_cast<size_t>(v)];
    if (l.whole >= 0 || l.split)
      return l.whole;
    const Value &val = src_.value(v);
    l.whole = out_.add_value(val.name, val.type, val.kind);
    if (val.kind == ValueKind::Constant)
      out_.constants[l.whole] = src_.constants.at(v);
    return l.whole;
  }

  bool is_resident(ValueId v) const {
    ValueKind k = src_.value(v).kind;
    return k == ValueKind::Param || k == ValueKind::Constant;
  }

  ValueId new_value(const std::string &stem, TensorType type) {
    return out_.add_value(out_.unique_value_name(stem), std::move(type), ValueKind::Activation);
  }

  std::vector<int64_t> even_offsets(int64_t total) const {
    std::vector<int64_t> off(static_cast<size_t>(n_) + 1, 0);
    for (int d = 0; d < n_; ++d)
      off[static_cast<size_t>(d) + 1] =
          off[static_cast<size_t>(d)] + total / n_ + (d < total % n_ ? 1 : 0);
    return off;
  }

  // The device a value of the new graph is produced on (-1: resident
  // everywhere; inputs live on device 0).
  int device_of(ValueId nv) const {
    auto it = device_.find(nv);
    if (it != device_.end())
      return it->second;
    return out_.value(nv).kind == ValueKind::Input ? 0 : -1;
  }

  // Appends a node to the new graph; output types from the op's shape rule.
  Expected<std::vector<ValueId>> emit(OpKind op, const std::string &name, Attrs attrs,
                                      std::vector<ValueId> inputs, int device,
                                      std::vector<std::string> out_names) {
    Node n;
    n.op = op;
    n.name = name;
    n.attrs = std::move(attrs);
    n.inputs = std::move(inputs);
    n.device = device;
    n.outputs.assign(out_names.size(), -1);
    std::vector<TensorType> in_types;
    for (ValueId v : n.inputs)
      in_types.push_back(out_.type(v));
    ANET_ASSIGN_OR_RETURN(auto types, infer_shapes(n, in_types));
    for (size_t i = 0; i < types.size(); ++i) {
      n.outputs[i] = new_value(out_names[i], types[i]);
      device_[n.outputs[i]] = device;
    }
    std::vector<ValueId> outs = n.outputs;
    out_.add_node(std::move(n));
    return outs;
  }

  // A slice [lo, hi) along axis of a value of the new graph, computed on
  // `device`.
  ValueId slice(ValueId nv, int64_t axis, int64_t lo, int64_t hi, int device,
                const std::string &name) {
    const Shape &s = out_.type(nv).shape;
    std::vector<int64_t> starts(s.size(), 0), ends = s, steps(s.size(), 1);
    starts[static_cast<size_t>(axis)] = lo;
    ends[static_cast<size_t>(axis)] = hi;
    Attrs a;
    a.set("starts", starts);
    a.set("ends", ends);
    a.set("steps", steps);
    auto outs =
        emit(OpKind::Slice, name, std::move(a), {nv}, device, {out_.value(nv).name + "/slice"});
    assert(outs.ok() && "a slice within bounds always has a shape");
    return (*outs)[0];
  }

  // The part [lo, hi) along axis of a param or constant, as a param slice
  // (weights) or sliced constant data.
  ValueId resident_part(ValueId v, int64_t axis, int64_t lo, int64_t hi, int d) {
    const Value &val = src_.value(v);
    if (lo == 0 && hi == val.type.shape[static_cast<size_t>(axis)])
      return resident(v);
    TensorType t = val.type;
    t.shape[static_cast<size_t>(axis)] = hi - lo;
    ValueId nv =
        out_.add_value(out_.unique_value_name(val.name + "@" + std::to_string(d)), t, val.kind);
    if (val.kind == ValueKind::Param) {
      out_.param_slices[nv] = ParamSlice{val.name, val.type.shape, axis, lo};
      return nv;
    }
    const std::vector<float> &data = src_.constants.at(v);
    int64_t outer = 1, inner = 1, dim = val.type.shape[static_cast<size_t>(axis)];
    for (int64_t i = 0; i < val.type.rank(); ++i)
      (i < axis ? outer : inner) *= i == axis ? 1 : val.type.shape[static_cast<size_t>(i)];
    std::vector<float> part;
    for (int64_t o = 0; o < outer; ++o)
      part.insert(part.end(), data.begin() + (o * dim + lo) * inner,
                  data.begin() + (o * dim + hi) * inner);
    out_.constants[nv] = std::move(part);
    return nv;
  }

  // The whole value, for a reader on device d: split values are gathered
  // there (once per device).
  ValueId whole_on(ValueId v, int d) {
    if (is_resident(v))
      return resident(v);
    Layout &l = layout_[static_cast<size_t>(v)];
    if (!l.split)
      return l.whole;
    auto it = l.gathered.find(d);
    if (it != l.gathered.end())
      return it->second;
    return l.gathered[d] = gather(v, d, src_.value(v).name + "@gather" + std::to_string(d));
  }

  ValueId gather(ValueId v, int d, const std::string &out_name) {
    const Layout &l = layout_[static_cast<size_t>(v)];
    Attrs a;
    a.set("axis", l.axis);
    auto outs =
        emit(OpKind::Concat, reader_ + "/gather@" + std::to_string(d), a, l.parts, d, {out_name});
    assert(outs.ok() && "parts of one value always concatenate");
    return (*outs)[0];
  }

  // Part [lo, hi) along axis of value v, for a reader on device d.
  ValueId part_on(ValueId v, int64_t axis, int64_t lo, int64_t hi, int d) {
    if (is_resident(v))
      return resident_part(v, axis, lo, hi, d);
    const Layout &l = layout_[static_cast<size_t>(v)];
    if (l.split && l.axis == axis && l.offsets[static_cast<size_t>(d)] == lo &&
        l.offsets[static_cast<size_t>(d) + 1] == hi)
      return l.parts[static_cast<size_t>(d)];
    ValueId whole = whole_on(v, d);
    if (lo == 0 && hi == out_.type(whole).shape[static_cast<size_t>(axis)])
      return whole;
    // Slice where the whole value lives, so only the part travels.
    int at = std::max(device_of(whole), 0);
    return slice(whole, axis, lo, hi, at, reader_ + "/part@" + std::to_string(d));
  }

  void set_split(ValueId v, int64_t axis, std::vector<ValueId> parts) {
    Layout &l = layout_[static_cast<size_t>(v)];
    l.split = true;
    l.axis = axis;
    l.parts = std::move(parts);
    l.offsets.assign(1, 0);
    for (ValueId p : l.parts)
      l.offsets.push_back(l.offsets.back() + out_.type(p).shape[static_cast<size_t>(axis)]);
  }

  // Data parallelism: an input is scattered by batch from device 0.
  void scatter(ValueId v, ValueId nv) {
    std::vector<int64_t> off = even_offsets(src_.type(v).shape[0]);
    std::vector<ValueId> parts;
    for (int d = 0; d < n_; ++d)
      parts.push_back(slice(nv, 0, off[static_cast<size_t>(d)], off[static_cast<size_t>(d) + 1], 0,
                            src_.value(v).name + "/scatter@" + std::to_string(d)));
    set_split(v, 0, parts);
  }

  // --- nodes --------------------------------------------------------------

  Status place(const Node &node) {
    reader_ = node.name;
    const Layout &first = layout_[static_cast<size_t>(node.inputs[0])];
    int64_t axis = first.split ? first.axis : -1;
    switch (node.op) {
    case OpKind::Conv:
      if (axis == 0)
        return follow(node, 0);
      return split_conv(node);
    case OpKind::Gemm:
    case OpKind::MatMul:
      if (axis == 0 && node.op == OpKind::Gemm && !node.attrs.i("transA") &&
          (node.inputs.size() < 3 || src_.type(node.inputs[2]).rank() < 2 ||
           src_.type(node.inputs[2]).shape[0] == 1))
        return follow(node, 0);
      if (axis == 0 && node.op == OpKind::MatMul && src_.type(node.inputs[0]).rank() > 2)
        return follow(node, 0);
      return split_columns(node);
    case OpKind::Relu:
    case OpKind::Sigmoid:
    case OpKind::Tanh:
    case OpKind::Clip:
    case OpKind::Identity:
    case OpKind::Dropout:
      return axis >= 0 ? follow(node, axis) : run_whole(node);
    case OpKind::MaxPool:
    case OpKind::AveragePool:
    case OpKind::GlobalAveragePool:
      return axis == 0 || axis == 1 ? follow(node, axis) : run_whole(node);
    case OpKind::BatchNormalization:
      return axis == 0 || axis == 1 ? follow(node, axis) : run_whole(node);
    case OpKind::LRN:
      if (axis == 0)
        return follow(node, 0);
      if (axis == 1)
        return lrn_with_halo(node);
      return run_whole(node);
    case OpKind::Softmax:
    case OpKind::LogSoftmax:
      return axis >= 0 && axis != node.attrs.i("axis") ? follow(node, axis) : run_whole(node);
    case OpKind::Flatten:
      // The split axis must stay where it is: batch (axis 0), or channels
      // when Flatten keeps the batch and merges from the channels on.
      return (axis == 0 && node.attrs.i("axis") >= 1) || (axis == 1 && node.attrs.i("axis") == 1)
                 ? follow(node, axis)
                 : run_whole(node);
    case OpKind::Reshape:
      return axis >= 0 && reshape_keeps_split(node, axis) ? follow(node, axis) : run_whole(node);
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
      return binary(node);
    default:
      return run_whole(node);
    }
  }

  std::string part_name(const std::string &name, int d) const {
    return name + "@" + std::to_string(d);
  }

  // One node on one device, reading whole inputs; outputs keep their names.
  Status run_whole(const Node &node) {
    int d = 0;
    for (ValueId v : node.inputs) {
      const Layout &l = layout_[static_cast<size_t>(v)];
      if (!is_resident(v) && !l.split) {
        d = std::max(device_of(l.whole), 0);
        break;
      }
    }
    std::vector<ValueId> ins;
    for (ValueId v : node.inputs)
      ins.push_back(whole_on(v, d));
    std::vector<std::string> names;
    for (ValueId v : node.outputs)
      names.push_back(src_.value(v).name);
    ANET_ASSIGN_OR_RETURN(auto outs, emit(node.op, node.name, node.attrs, ins, d, names));
    for (size_t i = 0; i < outs.size(); ++i)
      layout_[static_cast<size_t>(node.outputs[i])].whole = outs[i];
    return {};
  }

  // One node per device on its part of the first input (split along axis);
  // other inputs whole, or sliced per channel for BatchNormalization.
  Status follow(const Node &node, int64_t axis) {
    const Layout &l = layout_[static_cast<size_t>(node.inputs[0])];
    std::vector<ValueId> parts;
    for (int d = 0; d < n_; ++d) {
      std::vector<ValueId> ins = {l.parts[static_cast<size_t>(d)]};
      int64_t lo = l.offsets[static_cast<size_t>(d)], hi = l.offsets[static_cast<size_t>(d) + 1];
      for (size_t i = 1; i < node.inputs.size(); ++i)
        ins.push_back(node.op == OpKind::BatchNormalization && axis == 1
                          ? part_on(node.inputs[i], 0, lo, hi, d)
                          : whole_on(node.inputs[i], d));
      Attrs attrs = node.attrs;
      if (node.op == OpKind::Reshape) {
        Shape shape = attrs.ints("shape");
        int64_t part_numel = out_.type(ins[0]).numel(), rest = 1;
        for (size_t k = 0; k < shape.size(); ++k)
          if (static_cast<int64_t>(k) != axis)
            rest *= shape[k];
        shape[static_cast<size_t>(axis)] = rest ? part_numel / rest : 0;
        attrs.set("shape", shape);
      }
      ANET_ASSIGN_OR_RETURN(auto outs, emit(node.op, part_name(node.name, d), std::move(attrs), ins,
                                            d, {part_name(src_.value(node.outputs[0]).name, d)}));
      parts.push_back(outs[0]);
    }
    set_split(node.outputs[0], axis, std::move(parts));
    return {};
  }

  // A Reshape keeps a split along `axis` when it keeps every dimension
  // before it and either flattens everything from the split axis on
  // (each part is then one contiguous block per leading index), or keeps
  // the split dimension itself.
  bool reshape_keeps_split(const Node &node, int64_t axis) const {
    const Shape &in = src_.type(node.inputs[0]).shape;
    const Shape &out = node.attrs.ints("shape");
    auto a = static_cast<size_t>(axis);
    if (out.size() <= a || !std::equal(in.begin(), in.begin() + axis, out.begin()))
      return false;
    return out.size() == a + 1 || out[a] == in[a];
  }

  // Convolution: by groups when the device count divides them, else by
  // output channels with the whole input on every device.
  Status split_conv(const Node &node) {
    int64_t group = node.attrs.i("group");
    const TensorType &w = src_.type(node.inputs[1]);
    int64_t m = w.shape[0], cin_per_group = w.shape[1];
    if (n_ == 1 || !is_resident(node.inputs[1]) || (group > 1 && group % n_ != 0) || m < n_)
      return run_whole(node);
    std::vector<ValueId> parts;
    std::vector<int64_t> off = even_offsets(m);
    if (group > 1) {
      for (int d = 0; d <= n_; ++d)
        off[static_cast<size_t>(d)] = m / n_ * d;
    }
    for (int d = 0; d < n_; ++d) {
      int64_t lo = off[static_cast<size_t>(d)], hi = off[static_cast<size_t>(d) + 1];
      Attrs attrs = node.attrs;
      ValueId x;
      if (group > 1) {
        int64_t groups_here = group / n_;
        attrs.set("group", groups_here);
        int64_t cin = groups_here * cin_per_group;
        x = part_on(node.inputs[0], 1, cin * d, cin * (d + 1), d);
      } else {
        x = whole_on(node.inputs[0], d);
      }
      std::vector<ValueId> ins = {x, resident_part(node.inputs[1], 0, lo, hi, d)};
      if (node.inputs.size() == 3)
        ins.push_back(part_on(node.inputs[2], 0, lo, hi, d));
      ANET_ASSIGN_OR_RETURN(auto outs, emit(node.op, part_name(node.name, d), attrs, ins, d,
                                            {part_name(src_.value(node.outputs[0]).name, d)}));
      parts.push_back(outs[0]);
    }
    set_split(node.outputs[0], 1, std::move(parts));
    return {};
  }

  // Gemm / MatMul with a weight B: split by output columns (neurons); A
  // whole on every device.
  Status split_columns(const Node &node) {
    ValueId b = node.inputs[1];
    const TensorType &bt = src_.type(b);
    bool trans_b = node.op == OpKind::Gemm && node.attrs.i("transB");
    const TensorType &yt = src_.type(node.outputs[0]);
    if (n_ == 1 || !is_resident(b) || bt.rank() != 2 || yt.rank() != 2 || yt.shape[1] < n_)
      return run_whole(node);
    int64_t cols = yt.shape[1];
    std::vector<int64_t> off = even_offsets(cols);
    std::vector<ValueId> parts;
    for (int d = 0; d < n_; ++d) {
      int64_t lo = off[static_cast<size_t>(d)], hi = off[static_cast<size_t>(d) + 1];
      std::vector<ValueId> ins = {whole_on(node.inputs[0], d),
                                  resident_part(b, trans_b ? 0 : 1, lo, hi, d)};
      if (node.inputs.size() == 3) {
        ValueId c = node.inputs[2];
        const Shape &cs = src_.type(c).shape;
        if (cs.empty() || cs.back() == 1)
          ins.push_back(whole_on(c, d));
        else
          ins.push_back(part_on(c, static_cast<int64_t>(cs.size()) - 1, lo, hi, d));
      }
      ANET_ASSIGN_OR_RETURN(auto outs, emit(node.op, part_name(node.name, d), node.attrs, ins, d,
                                            {part_name(src_.value(node.outputs[0]).name, d)}));
      parts.push_back(outs[0]);
    }
    set_split(node.outputs[0], 1, std::move(parts));
    return {};
  }

  // LRN over a channel split: each device reads the channels within the
  // window's reach from its neighbours (a halo), normalises the extended
  // block and keeps its own channels. ONNX's window for channel c is
  // [c - floor((size-1)/2), c + ceil((size-1)/2)].
  Status lrn_with_halo(const Node &node) {
    ValueId x = node.inputs[0];
    const Layout &l = layout_[static_cast<size_t>(x)];
    int64_t size = node.attrs.i("size");
    int64_t before = (size - 1) / 2, after = size - 1 - before;
    for (int d = 0; d < n_; ++d) {
      int64_t width = l.offsets[static_cast<size_t>(d) + 1] - l.offsets[static_cast<size_t>(d)];
      if (width < std::max(before, after))
        return run_whole(node);
    }
    std::vector<ValueId> parts;
    const std::string &xname = src_.value(x).name;
    for (int d = 0; d < n_; ++d) {
      ValueId own = l.parts[static_cast<size_t>(d)];
      int64_t width = out_.type(own).shape[1];
      std::vector<ValueId> block;
      int64_t lead = 0;
      if (d > 0 && before > 0) {
        ValueId prev = l.parts[static_cast<size_t>(d) - 1];
        int64_t pw = out_.type(prev).shape[1];
        block.push_back(
            slice(prev, 1, pw - before, pw, d - 1, node.name + "/halo-prev@" + std::to_string(d)));
        lead = before;
      }
      block.push_back(own);
      if (d + 1 < n_ && after > 0)
        block.push_back(slice(l.parts[static_cast<size_t>(d) + 1], 1, 0, after, d + 1,
                              node.name + "/halo-next@" + std::to_string(d)));
      ValueId extended = own;
      if (block.size() > 1) {
        Attrs cat;
        cat.set("axis", int64_t{1});
        ANET_ASSIGN_OR_RETURN(auto outs,
                              emit(OpKind::Concat, node.name + "/halo@" + std::to_string(d), cat,
                                   block, d, {xname + "/with-halo"}));
        extended = outs[0];
      }
      ANET_ASSIGN_OR_RETURN(auto normed,
                            emit(OpKind::LRN, part_name(node.name, d), node.attrs, {extended}, d,
                                 {part_name(src_.value(node.outputs[0]).name, d)}));
      ValueId y = normed[0];
      if (extended != own)
        y = slice(y, 1, lead, lead + width, d, node.name + "/own@" + std::to_string(d));
      parts.push_back(y);
    }
    set_split(node.outputs[0], 1, std::move(parts));
    return {};
  }

  // Broadcasting binary ops follow a split operand when the other is split
  // the same way or is constant along the split axis.
  Status binary(const Node &node) {
    const Layout &a = layout_[static_cast<size_t>(node.inputs[0])];
    const Layout &b = layout_[static_cast<size_t>(node.inputs[1])];
    const Shape &out = src_.type(node.outputs[0]).shape;
    auto broadcast_along = [&](ValueId v, int64_t axis) {
      const Shape &s = src_.type(v).shape;
      int64_t k = axis - static_cast<int64_t>(out.size() - s.size());
      return k < 0 || s[static_cast<size_t>(k)] == 1;
    };
    const Layout *split = a.split ? &a : b.split ? &b : nullptr;
    if (!split || src_.type(node.inputs[a.split ? 0 : 1]).shape != out)
      return run_whole(node);
    int64_t axis = split->axis;
    size_t other = a.split ? 1 : 0;
    const Layout &ol = layout_[static_cast<size_t>(node.inputs[other])];
    bool same = ol.split && ol.axis == axis && ol.offsets == split->offsets &&
                src_.type(node.inputs[other]).shape == out;
    if (!same && (ol.split || !broadcast_along(node.inputs[other], axis)))
      return run_whole(node);
    std::vector<ValueId> parts;
    for (int d = 0; d < n_; ++d) {
      ValueId mine = split->parts[static_cast<size_t>(d)];
      ValueId theirs = same ? ol.parts[static_cast<size_t>(d)] : whole_on(node.inputs[other], d);
      std::vector<ValueId> ins =
          other == 1 ? std::vector<ValueId>{mine, theirs} : std::vector<ValueId>{theirs, mine};
      ANET_ASSIGN_OR_RETURN(auto outs, emit(node.op, part_name(node.name, d), node.attrs, ins, d,
                                            {part_name(src_.value(node.outputs[0]).name, d)}));
      parts.push_back(outs[0]);
    }
    set_split(node.outputs[0], axis, std::move(parts));
    return {};
  }

  const Graph &src_;
  int n_;
  bool data_;
  Graph out_;
  std::vector<Layout> layout_;
  std::map<ValueId, int> device_; // device of each node output of out_
  std::string reader_;            // the node being placed: names the nodes made for it
};

class Partition final : public Pass {
public:
  std::string_view name() const override { return "partition"; }

  Expected<bool> run(Graph &g, const PassContext &ctx) override {
    if (ctx.devices < 1)
      return make_error(ExitCode::Usage, "--devices must be at least 1, is ", ctx.devices);
    if (ctx.partition != "model" && ctx.partition != "data")
      return make_error(ExitCode::Usage, "--partition must be 'model' or 'data', is '",
                        ctx.partition, "'");
    if (ctx.devices == 1)
      return false;
    if (!g.param_slices.empty() || g.explicit_transfers)
      return make_error(ExitCode::InvalidModel, "graph '", g.name, "' is already partitioned");
    ANET_ASSIGN_OR_RETURN(Graph partitioned, Partitioner(g, ctx).run());
    g = std::move(partitioned);
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> make_partition_pass() { return std::make_unique<Partition>(); }

} // namespace anet
