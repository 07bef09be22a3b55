// Summaries of a plan for `anetc inspect`: what each program takes,
// returns and computes, what the weights weigh, and how the file is laid
// out, as text for people and as JSON for scripts.

#include <algorithm>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "ir/memory_plan.h"
#include "ir/plan.h"

namespace anet {
namespace {

// "243.9 MiB", "512 B".
std::string human_bytes(uint64_t n) {
  static constexpr const char *kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  std::ostringstream os;
  if (unit == 0)
    os << n << " B";
  else
    os << std::fixed << std::setprecision(1) << v << ' ' << kUnits[unit];
  return os.str();
}

nlohmann::json typed_names_json(const std::vector<TypedName> &values) {
  nlohmann::json out = nlohmann::json::array();
  for (const TypedName &v : values)
    out.push_back({{"name", v.name}, {"type", to_string(v.type)}, {"shape", v.type.shape}});
  return out;
}

// The layer a node belongs to: partitioning names the nodes it makes for a
// layer "layer@device" or "layer/what@device".
std::string layer_of(const std::string &node_name) {
  return node_name.substr(0, node_name.find_first_of("@/"));
}

void summarize_devices(const Graph &g, ProgramSummary &p) {
  MemoryPlan memory = plan_memory(g);
  p.devices.resize(memory.arena_bytes.size());
  for (size_t d = 0; d < p.devices.size(); ++d) {
    p.devices[d].device = static_cast<int>(d);
    p.devices[d].arena_bytes = memory.arena_bytes[d];
    p.devices[d].unplanned_bytes = memory.unplanned_bytes[d];
  }
  std::set<std::pair<ValueId, int>> resident;
  for (const Node &n : g.nodes) {
    DeviceSummary &dev = p.devices[static_cast<size_t>(n.device)];
    ++dev.nodes;
    for (ValueId v : n.inputs) {
      ValueKind k = g.value(v).kind;
      if ((k == ValueKind::Param || k == ValueKind::Constant) &&
          resident.insert({v, n.device}).second)
        dev.param_bytes += g.type(v).bytes();
    }
  }

  std::vector<NodeId> producer = g.producers();
  auto consumers = g.consumers();
  for (const Node &n : g.nodes) {
    if (n.op != OpKind::Transfer)
      continue;
    NodeId src = producer[static_cast<size_t>(n.inputs[0])];
    const auto &readers = consumers[static_cast<size_t>(n.outputs[0])];
    TransferSummary t;
    t.layer = readers.empty() ? "output" : layer_of(g.nodes[static_cast<size_t>(readers[0])].name);
    const std::string *kind = n.attrs.get_if<std::string>("kind");
    t.kind = kind ? *kind : "copy";
    t.from = src >= 0 ? g.nodes[static_cast<size_t>(src)].device : 0;
    t.to = n.device;
    t.bytes = g.type(n.outputs[0]).bytes();
    p.transfer_bytes += t.bytes;
    auto same = [&](const TransferSummary &o) {
      return o.layer == t.layer && o.kind == t.kind && o.from == t.from && o.to == t.to;
    };
    auto it = std::find_if(p.transfers.begin(), p.transfers.end(), same);
    if (it == p.transfers.end())
      p.transfers.push_back(t);
    else
      it->bytes += t.bytes;
  }
}

} // namespace

PlanSummary summarize(const Plan &plan) {
  PlanSummary s;
  s.producer_version = plan.producer_version;
  s.source_name = plan.source_name;
  for (const auto &[name, g] : plan.programs) {
    ProgramSummary p;
    p.name = name;
    p.node_count = static_cast<int64_t>(g.nodes.size());
    p.param_count = static_cast<int64_t>(g.params().size());
    for (const Node &n : g.nodes)
      ++p.op_counts[std::string(op_name(n.op))];
    for (ValueId v : g.inputs)
      p.inputs.push_back({g.value(v).name, g.type(v)});
    for (ValueId v : g.outputs)
      p.outputs.push_back({g.value(v).name, g.type(v)});
    summarize_devices(g, p);
    s.programs.push_back(std::move(p));
  }
  for (const auto &[name, data] : plan.weights) {
    ++s.weight_tensors;
    s.weight_elements += static_cast<int64_t>(data.size());
  }
  s.weight_bytes = s.weight_elements * static_cast<int64_t>(sizeof(float));
  s.sections = plan_sections(plan, s.file_bytes);
  std::map<std::string, PlanSummary::CudaArch> archs;
  for (const auto &[key, k] : plan.cuda_kernels) {
    const std::string arch = key.substr(0, key.find('/'));
    PlanSummary::CudaArch &a = archs[arch];
    a.arch = arch;
    ++a.kernels;
    a.max_registers = std::max(a.max_registers, k.registers);
    a.spilling += k.spill_bytes > 0;
    a.max_shared_bytes = std::max(a.max_shared_bytes, k.shared_bytes);
    a.bytes += k.image.size();
  }
  for (auto &[arch, a] : archs)
    s.cuda.push_back(a);
  s.preprocess = plan.preprocess;
  s.class_count = static_cast<int64_t>(plan.class_names.size());
  s.onnx_bytes = plan.onnx_model.size();
  return s;
}

std::string summary_text(const PlanSummary &s) {
  std::ostringstream os;
  os << "anet plan, format version " << s.format_version << ", written by anet "
     << s.producer_version << ", compiled from "
     << (s.source_name.empty() ? "(unnamed)" : s.source_name) << '\n';
  for (const ProgramSummary &p : s.programs) {
    os << "program " << p.name << ": " << p.node_count << " nodes, " << p.param_count
       << " parameters\n";
    for (const TypedName &v : p.inputs)
      os << "  input  " << v.name << ' ' << to_string(v.type) << '\n';
    for (const TypedName &v : p.outputs)
      os << "  output " << v.name << ' ' << to_string(v.type) << '\n';
    os << "  ops:";
    for (const auto &[op, count] : p.op_counts)
      os << ' ' << op << " x" << count;
    os << '\n';
    for (const DeviceSummary &d : p.devices)
      os << "  device " << d.device << ": " << d.nodes << " nodes, peak activations "
         << human_bytes(static_cast<uint64_t>(d.arena_bytes)) << " (unplanned "
         << human_bytes(static_cast<uint64_t>(d.unplanned_bytes)) << "), weights "
         << human_bytes(static_cast<uint64_t>(d.param_bytes)) << '\n';
    if (!p.transfers.empty()) {
      os << "  transfers per run: " << human_bytes(static_cast<uint64_t>(p.transfer_bytes)) << '\n';
      for (const TransferSummary &t : p.transfers)
        os << "    into " << std::left << std::setw(10) << t.layer << ' ' << std::setw(7) << t.kind
           << " device " << t.from << " -> " << t.to << "  "
           << human_bytes(static_cast<uint64_t>(t.bytes)) << '\n';
    }
  }
  os << "weights: " << s.weight_tensors << " tensors, " << s.weight_elements << " values ("
     << human_bytes(static_cast<uint64_t>(s.weight_bytes)) << ")\n";
  const Preprocess &pp = s.preprocess;
  os << "preprocess: resize " << pp.resize << ", ";
  if (pp.pad != 0)
    os << "pad " << pp.pad << ", ";
  if (!pp.mean_image.empty()) {
    os << "mean image of " << pp.mean_image.size() << " values";
  } else if (!pp.mean.empty()) {
    os << "mean [";
    for (size_t i = 0; i < pp.mean.size(); ++i)
      os << (i ? ", " : "") << pp.mean[i];
    os << ']';
  } else {
    os << "no mean";
  }
  os << ", scale " << pp.scale << '\n';
  os << "classes: " << (s.class_count ? std::to_string(s.class_count) + " names" : "none")
     << "; original ONNX model: " << human_bytes(s.onnx_bytes) << '\n';
  for (const PlanSummary::CudaArch &a : s.cuda) {
    os << "cuda kernels " << a.arch << ": " << a.kernels << " (" << human_bytes(a.bytes) << ")";
    if (a.max_registers >= 0)
      os << ", at most " << a.max_registers << " registers and "
         << human_bytes(static_cast<uint64_t>(a.max_shared_bytes)) << " shared, "
         << (a.spilling ? std::to_string(a.spilling) + " spilling" : std::string("no spills"));
    else
      os << ", PTX";
    os << '\n';
  }
  os << "file: " << s.file_bytes << " bytes (" << human_bytes(s.file_bytes) << ") in "
     << s.sections.size() << " sections\n";
  for (const SectionSummary &sec : s.sections) {
    std::string name = sec.tag + (sec.label.empty() ? "" : " " + sec.label);
    os << "  " << std::left << std::setw(20) << name << ' ' << sec.payload_bytes << " bytes\n";
  }
  return os.str();
}

nlohmann::json summary_json(const PlanSummary &s) {
  nlohmann::json programs = nlohmann::json::array();
  for (const ProgramSummary &p : s.programs) {
    nlohmann::json devices = nlohmann::json::array();
    for (const DeviceSummary &d : p.devices)
      devices.push_back({{"device", d.device},
                         {"nodes", d.nodes},
                         {"arena_bytes", d.arena_bytes},
                         {"unplanned_bytes", d.unplanned_bytes},
                         {"param_bytes", d.param_bytes}});
    nlohmann::json transfers = nlohmann::json::array();
    for (const TransferSummary &t : p.transfers)
      transfers.push_back({{"layer", t.layer},
                           {"kind", t.kind},
                           {"from", t.from},
                           {"to", t.to},
                           {"bytes", t.bytes}});
    programs.push_back({{"name", p.name},
                        {"nodes", p.node_count},
                        {"parameters", p.param_count},
                        {"ops", p.op_counts},
                        {"inputs", typed_names_json(p.inputs)},
                        {"outputs", typed_names_json(p.outputs)},
                        {"devices", devices},
                        {"transfers", transfers},
                        {"transfer_bytes", p.transfer_bytes}});
  }
  nlohmann::json cuda = nlohmann::json::array();
  for (const PlanSummary::CudaArch &a : s.cuda)
    cuda.push_back({{"arch", a.arch},
                    {"kernels", a.kernels},
                    {"max_registers", a.max_registers},
                    {"spilling", a.spilling},
                    {"max_shared_bytes", a.max_shared_bytes},
                    {"bytes", a.bytes}});
  nlohmann::json sections = nlohmann::json::array();
  for (const SectionSummary &sec : s.sections)
    sections.push_back({{"tag", sec.tag}, {"label", sec.label}, {"bytes", sec.payload_bytes}});
  return {
      {"format_version", s.format_version},
      {"producer_version", s.producer_version},
      {"source_name", s.source_name},
      {"programs", programs},
      {"weights",
       {{"tensors", s.weight_tensors}, {"values", s.weight_elements}, {"bytes", s.weight_bytes}}},
      {"preprocess",
       {{"resize", s.preprocess.resize},
        {"pad", s.preprocess.pad},
        {"mean", s.preprocess.mean},
        {"mean_image_values", s.preprocess.mean_image.size()},
        {"scale", s.preprocess.scale}}},
      {"cuda_kernels", cuda},
      {"class_count", s.class_count},
      {"onnx_bytes", s.onnx_bytes},
      {"file_bytes", s.file_bytes},
      {"sections", sections},
  };
}

} // namespace anet
