/// anetc: the compiler driver. Subcommands:
///   compile  ONNX model -> plan file (program "infer", weights, preprocessing,
///            class names, the original ONNX bytes)
///   inspect  print a plan's summary (text or JSON)
///   model    write one of the built-in AlexNet models as ONNX
/// docs/cli.md is the reference of every flag, default and exit code.

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <anet/version.h>

#include "codegen/cuda/emit.h"
#include "codegen/cuda/nvrtc.h"
#ifdef ANET_WITH_LLVM
#include "codegen/cpu/emit.h"
#include "codegen/cpu/jit.h"
#endif
#include "frontend/onnx_import.h"
#include "ir/cache_dir.h"
#include "ir/dot.h"
#include "ir/plan.h"
#include "ir/printer.h"
#include "models/alexnet.h"
#include "models/paper_init.h"
#include "passes/passes.h"
#include "runtime/io/image.h"
#include "tools/cli.h"

namespace anet::cli {
namespace {

constexpr const char *kTool = "anetc";

/// ImageNet's mean RGB values on the 0-255 scale, subtracted by default.
const std::vector<float> kImageNetMeanRgb = {123.68f, 116.78f, 103.94f};

struct CompileArgs {
  std::string model;
  std::string output;
  int64_t batch = 0;
  int64_t resize = 0;
  int64_t pad = 0;
  std::string mean;
  float scale = 1.0f;
  std::string labels;
  int devices = 1;
  std::string partition = "model";
  std::vector<std::string> print_after;
  std::vector<std::string> disable_pass;
  bool print_ir = false;
  std::string mode = "infer";
  float momentum = 0.9f;
  float weight_decay = 0.0005f;
  std::string init = "model";
  uint64_t seed = 0;
  int64_t infer_batch = 0;
  bool embed_kernels = false;
  std::string target = "cpu";
  std::string arch = "sm_80,sm_90";
  CLI::Option *arch_opt = nullptr;
  CLI::Option *batch_opt = nullptr;
  CLI::Option *infer_batch_opt = nullptr;
  CLI::Option *resize_opt = nullptr;
  CLI::Option *pad_opt = nullptr;
  CLI::Option *mean_opt = nullptr;
  CLI::Option *scale_opt = nullptr;
  CLI::Option *labels_opt = nullptr;
};

struct InspectArgs {
  std::string plan;
  bool json = false;
  std::string format = "text";
  std::string program = "infer";
  std::string output;
  bool kernels = false;
};

struct ModelArgs {
  std::string name;
  std::string output;
  uint64_t seed = 0;
  int64_t batch = 0;
  int64_t num_classes = 0;
  int64_t channels = 0;
  CLI::Option *batch_opt = nullptr;
  CLI::Option *classes_opt = nullptr;
  CLI::Option *channels_opt = nullptr;
};

/// The default shorter side for a model's input crop: the paper's 256 for
/// ImageNet-sized crops (224 or 227), else the same 8/7 ratio (28 -> 32).
int64_t default_resize(int64_t crop) {
  if (crop >= 200 && crop <= 256)
    return 256;
  return static_cast<int64_t>(std::llround(static_cast<double>(crop) * 8.0 / 7.0));
}

/// One class name a line; a trailing empty line and '\r' are dropped.
Expected<std::vector<std::string>> read_labels(const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file_bytes(path, int64_t{64} << 20));
  std::vector<std::string> labels;
  std::string line;
  for (uint8_t c : bytes) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      continue;
    }
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    labels.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty())
    labels.push_back(line.back() == '\r' ? line.substr(0, line.size() - 1) : line);
  return labels;
}

/// The preprocessing stored in the plan for the program's image input.
Expected<Preprocess> make_preprocess(const CompileArgs &args, const Graph &g) {
  Preprocess pp;
  const bool image_input = g.inputs.size() == 1 && g.type(g.inputs[0]).rank() == 4;
  if (!image_input) {
    if (args.resize_opt->count() || args.pad_opt->count() || args.mean_opt->count() ||
        args.scale_opt->count())
      return make_error(ExitCode::Usage, args.model,
                        ": --resize, --pad, --mean and --scale need a model with one image "
                        "input [N,C,H,W]");
    return pp;
  }
  const Shape &s = g.type(g.inputs[0]).shape;
  const int64_t channels = s[1], crop = std::max(s[2], s[3]);
  // A frame replaces the enlargement: images keep the crop's size.
  pp.pad = args.pad;
  pp.resize = args.resize_opt->count() ? args.resize : pp.pad > 0 ? crop : default_resize(crop);
  if (pp.patch() < crop)
    return make_error(ExitCode::Usage, "--resize ", pp.resize, " and --pad ", pp.pad,
                      " make a patch of ", pp.patch(), ", smaller than the model's input crop ",
                      s[2], "x", s[3]);
  if (args.mean_opt->count()) {
    ANET_ASSIGN_OR_RETURN(pp.mean, parse_float_list("--mean", args.mean));
    if (pp.mean.size() != static_cast<size_t>(channels))
      return make_error(ExitCode::Usage, "--mean has ", pp.mean.size(),
                        " values but the model's input has ", channels, " channels");
  } else if (channels == 3) {
    pp.mean = kImageNetMeanRgb;
  }
  if (!(args.scale > 0.0f) || !std::isfinite(args.scale))
    return make_error(ExitCode::Usage, "--scale ", args.scale, " must be a positive finite number");
  pp.scale = args.scale;
  return pp;
}

/// "12,345,678".
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n);
  for (int64_t i = static_cast<int64_t>(digits.size()) - 3; i > 0; i -= 3)
    digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

/// Runs the inference (or, with `training`, the training) pipeline over
/// `g` as the flags ask: devices and partition strategy, passes disabled,
/// IR printed after chosen passes when `print`.
Status run_passes(const CompileArgs &args, Graph &g, bool training, bool print) {
  std::vector<std::string> known = all_pass_names();
  for (const auto *list : {&args.print_after, &args.disable_pass})
    for (const std::string &name : *list)
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string all;
        for (const std::string &k : known)
          all += (all.empty() ? "" : ", ") + k;
        return make_error(ExitCode::Usage, "no pass is called '", name, "' (the passes: ", all,
                          ")");
      }
  PassContext ctx;
  ctx.devices = args.devices;
  ctx.partition = args.partition;
  ctx.training = training;
  ctx.momentum = args.momentum;
  ctx.weight_decay = args.weight_decay;
  ctx.disabled.insert(args.disable_pass.begin(), args.disable_pass.end());
  ctx.after_pass = [&](std::string_view pass, const Graph &graph) {
    bool wanted = print && std::find(args.print_after.begin(), args.print_after.end(), pass) !=
                               args.print_after.end();
    if (wanted)
      std::cout << "// IR after " << pass << "\n" << print_graph(graph);
  };
  if (args.print_ir && print)
    std::cout << "// IR as imported\n" << print_graph(g);
  auto changed = run_pipeline(g, training ? training_pipeline() : inference_pipeline(), ctx);
  if (!changed)
    return with_context(std::move(changed).take_error(), args.model);
  if (args.print_ir && print)
    std::cout << "// IR as compiled\n" << print_graph(g);
  return {};
}

/// Imports the model at `batch` (0: the model's own or --batch) and
/// compiles it.
Expected<ImportedModel> compile_program(const CompileArgs &args, int64_t batch, bool training,
                                        bool print) {
  ImportOptions opts;
  if (batch > 0)
    opts.batch = batch;
  ANET_ASSIGN_OR_RETURN(ImportedModel imported, import_onnx_file(args.model, opts));
  ANET_RETURN_IF_ERR(run_passes(args, imported.graph, training, print));
  return imported;
}

/// Turns an inference program over 10k crops into infer_tencrop: the
/// classifier's output averaged over each image's ten consecutive crops.
Status average_ten_crops(Graph &g, const std::string &model) {
  ValueId out = g.outputs[0];
  const Shape s = g.type(out).shape;
  if (s.size() != 2 || s[0] % 10 != 0)
    return make_error(ExitCode::InvalidModel, model,
                      ": ten-crop averaging needs a [N, K] output, '", g.value(out).name, "' is ",
                      to_string(g.type(out)));
  const std::string name = g.value(out).name;
  g.rename_value(out, g.unique_value_name(name + "/crops"));
  auto add = [&](OpKind op, const std::string &stem, std::vector<ValueId> in, Attrs a,
                 const std::string &out_name) -> Expected<ValueId> {
    Node n;
    n.op = op;
    n.name = stem;
    n.inputs = std::move(in);
    n.attrs = std::move(a);
    std::vector<TensorType> types;
    for (ValueId v : n.inputs)
      types.push_back(g.type(v));
    n.outputs = {-1};
    ANET_ASSIGN_OR_RETURN(auto t, infer_shapes(n, types));
    n.outputs = {g.add_value(out_name, t[0], ValueKind::Activation)};
    ValueId v = n.outputs[0];
    g.add_node(std::move(n));
    return v;
  };
  Attrs r;
  r.set("shape", Shape{s[0] / 10, 10, s[1]});
  ANET_ASSIGN_OR_RETURN(ValueId grouped, add(OpKind::Reshape, "tencrop/group", {out}, r,
                                             g.unique_value_name("tencrop/group")));
  Attrs sum;
  sum.set("axes", std::vector<int64_t>{1});
  sum.set("keepdims", int64_t{0});
  ANET_ASSIGN_OR_RETURN(ValueId total, add(OpKind::ReduceSum, "tencrop/sum", {grouped}, sum,
                                           g.unique_value_name("tencrop/sum")));
  ValueId tenth = g.add_value(g.unique_value_name("tencrop/tenth"), TensorType{DType::F32, {}},
                              ValueKind::Constant);
  g.constants[tenth] = {0.1f};
  ANET_ASSIGN_OR_RETURN(ValueId mean, add(OpKind::Mul, "tencrop/mean", {total, tenth}, {}, name));
  g.outputs[0] = mean;
  return verify(g);
}

/// The plan's programs for --mode train besides infer: train_step at the
/// training batch, and infer_tencrop over ten crops of a tenth as many
/// images as infer takes (at least one). All share the stored weights by name.
Status add_training_programs(const CompileArgs &args, Plan &plan, int64_t batch,
                             int64_t infer_batch) {
  ANET_ASSIGN_OR_RETURN(ImportedModel train, compile_program(args, batch, true, true));
  plan.programs.emplace("train_step", std::move(train.graph));
  ANET_ASSIGN_OR_RETURN(
      ImportedModel ten,
      compile_program(args, 10 * std::max<int64_t>(1, infer_batch / 10), false, false));
  ANET_RETURN_IF_ERR(average_ten_crops(ten.graph, args.model));
  ten.graph.name = ten.graph.name + "/tencrop";
  plan.programs.emplace("infer_tencrop", std::move(ten.graph));
  return {};
}

/// Compiles the CPU kernels of every node of every program of `plan` for
/// this machine and stores them in the plan (Plan::kernel_objects).
Status embed_cpu_kernels(Plan &plan) {
#ifdef ANET_WITH_LLVM
  ANET_ASSIGN_OR_RETURN(std::unique_ptr<cpu::Jit> jit, cpu::Jit::create());
  std::vector<cpu::KernelRequest> requests;
  for (const auto &[name, program] : plan.programs)
    for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id) {
      const Node &node = program.nodes[static_cast<size_t>(id)];
      ANET_ASSIGN_OR_RETURN(std::string body, cpu::emit_kernel(program, id));
      requests.push_back({std::move(body), "program '" + name + "': " + node_label(node)});
    }
  ANET_RETURN_IF_ERR(jit->load(requests));
  plan.kernel_objects = jit->objects();
  return {};
#else
  (void)plan;
  return make_error(ExitCode::Usage,
                    "--embed-kernels: this anetc was built without LLVM (ANET_WITH_LLVM=OFF)");
#endif
}

/// Compiles the CUDA kernel of every node of every program of `plan` with
/// NVRTC for each of `archs` (cubins), plus PTX for the newest (which the
/// driver compiles for later GPUs), in parallel, into Plan::cuda_kernels.
Status embed_cuda_kernels(Plan &plan, const std::string &arch_list, cuda::CompileCounts &counts) {
  if (!cuda::nvrtc_available())
    return make_error(ExitCode::Usage,
                      "--target cuda: this anetc was built without NVRTC (no CUDA toolkit)");
  std::vector<std::string> archs;
  for (size_t start = 0; start <= arch_list.size();) {
    const size_t comma = std::min(arch_list.find(',', start), arch_list.size());
    const std::string arch = arch_list.substr(start, comma - start);
    const bool valid = arch.size() > 3 && arch.starts_with("sm_") &&
                       arch.find_first_not_of("0123456789", 3) == std::string::npos;
    if (!valid)
      return make_error(ExitCode::Usage, "--arch: '", arch,
                        "' is not a GPU architecture such as sm_80 or sm_90");
    archs.push_back(arch);
    start = comma + 1;
  }
  std::sort(archs.begin(), archs.end(), [](const std::string &a, const std::string &b) {
    return std::stoi(a.substr(3)) < std::stoi(b.substr(3));
  });
  archs.push_back("compute_" + archs.back().substr(3));
  // Distinct sources, each with a node that uses it (for errors).
  std::map<std::string, std::string> sources;
  for (const auto &[name, program] : plan.programs)
    for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id) {
      ANET_ASSIGN_OR_RETURN(cuda::KernelSource k, cuda::emit_kernel(program, id));
      sources.emplace(k.source, "program '" + name +
                                    "': " + node_label(program.nodes[static_cast<size_t>(id)]));
    }
  std::vector<cuda::CompileJob> jobs;
  for (const auto &[source, where] : sources)
    for (const std::string &arch : archs)
      jobs.push_back({source, arch, where});
  std::vector<Expected<cuda::CompiledKernel>> results =
      cuda::nvrtc_compile_all(jobs, default_kernel_cache_dir(), &counts);
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!results[i])
      return results[i].error();
    const cuda::CompiledKernel &k = *results[i];
    const bool ptx = jobs[i].arch.starts_with("compute_");
    plan.cuda_kernels[cuda::kernel_key(jobs[i].source, jobs[i].arch)] =
        CudaBinary{k.image, ptx ? -1 : k.registers, k.spill_stores + k.spill_loads, k.shared_bytes};
  }
  return {};
}

int run_compile(const CompileArgs &args) {
  const bool train = args.mode == "train";
  const int64_t batch = args.batch_opt->count() ? args.batch : train ? 128 : 0;
  if (args.infer_batch_opt->count() && !train)
    return report(kTool, make_error(ExitCode::Usage, "--infer-batch needs --mode train (the "
                                                     "inference plan's batch is --batch)"));
  const int64_t infer_batch = args.infer_batch_opt->count() ? args.infer_batch : batch;
  if (args.arch_opt->count() && args.target != "cuda")
    return report(kTool, make_error(ExitCode::Usage, "--arch needs --target cuda"));
  auto imported = compile_program(args, infer_batch, false, !train);
  if (!imported.ok())
    return report(kTool, imported.error());
  Graph &g = imported->graph;
  if (g.inputs.empty() || g.outputs.empty())
    return report(kTool, make_error(ExitCode::InvalidModel, args.model,
                                    ": the model has no inputs or no outputs to run"));
  auto pp = make_preprocess(args, g);
  if (!pp.ok())
    return report(kTool, pp.error());

  Plan plan;
  plan.producer_version = kProducerVersion;
  plan.source_name = base_name(args.model);
  plan.preprocess = std::move(*pp);
  if (args.labels_opt->count()) {
    auto labels = read_labels(args.labels);
    if (!labels.ok())
      return report(kTool, labels.error());
    const TensorType &out = g.type(g.outputs[0]);
    const int64_t classes = out.rank() == 0 ? 1 : out.shape.back();
    if (static_cast<int64_t>(labels->size()) != classes)
      return report(kTool, make_error(ExitCode::Dataset, args.labels, ": ", labels->size(),
                                      " labels but the model's output '",
                                      g.value(g.outputs[0]).name, "' has ", classes, " classes"));
    plan.class_names = std::move(*labels);
  }
  int64_t parameters = 0;
  for (const auto &[name, data] : imported->weights)
    parameters += static_cast<int64_t>(data.size());
  const std::string input = g.value(g.inputs[0]).name + " " + to_string(g.type(g.inputs[0]));
  const std::string output = g.value(g.outputs[0]).name + " " + to_string(g.type(g.outputs[0]));
  const size_t nodes = g.nodes.size();
  if (args.init == "paper") {
    if (Status s = models::paper_init(g, imported->weights, args.seed); !s.ok())
      return report(kTool, s.error());
  }
  plan.programs.emplace("infer", std::move(g));
  plan.weights = std::move(imported->weights);
  plan.onnx_model = std::move(imported->onnx_bytes);
  if (train) {
    if (Status s = add_training_programs(args, plan, batch, infer_batch); !s.ok())
      return report(kTool, s.error());
  }

  if (args.embed_kernels) {
    if (Status s = embed_cpu_kernels(plan); !s.ok())
      return report(kTool, s.error());
  }
  cuda::CompileCounts nvrtc;
  if (args.target == "cuda") {
    if (Status s = embed_cuda_kernels(plan, args.arch, nvrtc); !s.ok())
      return report(kTool, s.error());
  }

  Status written = write_plan_file(plan, args.output);
  if (!written.ok())
    return report(kTool, written.error());
  std::cout << "wrote " << args.output << ": program infer (" << nodes << " nodes, input " << input
            << ", output " << output << ")";
  if (train) {
    const Graph &step = plan.programs.at("train_step");
    std::cout << ", train_step (" << step.nodes.size() << " nodes, batch " << batch
              << "), infer_tencrop";
  }
  std::cout << ", " << with_commas(parameters) << " parameters, resize " << plan.preprocess.resize;
  if (plan.preprocess.pad > 0)
    std::cout << ", pad " << plan.preprocess.pad;
  if (args.embed_kernels)
    std::cout << ", " << plan.kernel_objects.size() << " CPU kernels";
  if (args.target == "cuda")
    std::cout << ", " << plan.cuda_kernels.size() << " CUDA kernels (" << args.arch
              << " and PTX, NVRTC " << cuda::nvrtc_version() << "; " << nvrtc.compiled
              << " compiled, " << nvrtc.from_cache << " from the cache)";
  std::cout << "\n";
  return 0;
}

/// Renders Graphviz source to SVG with Graphviz's `dot`.
Expected<std::string> render_svg(const std::string &dot_source) {
  char tmpl[] = "/tmp/anetc-dot-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0)
    return make_error(ExitCode::IO, "cannot create a temporary file for Graphviz");
  std::string path = tmpl;
  {
    std::ofstream out(path);
    out << dot_source;
  }
  close(fd);
  std::string command = "dot -Tsvg '" + path + "' 2>&1";
  FILE *pipe = popen(command.c_str(), "r");
  std::string svg;
  if (pipe) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0)
      svg.append(buf, n);
  }
  int status = pipe ? pclose(pipe) : -1;
  std::remove(path.c_str());
  if (status != 0)
    return make_error(ExitCode::Runtime,
                      "Graphviz's dot failed (is the graphviz package installed?): ", svg);
  return svg;
}

/// Each node's CUDA kernel in `plan`, per architecture it carries: what
/// ptxas reported (registers, shared memory, spills) and its size, found by
/// emitting the node's source again (its key names no node). JSON: one
/// object per node and architecture.
nlohmann::json cuda_kernel_rows(const Plan &plan) {
  std::set<std::string> archs;
  for (const auto &[key, k] : plan.cuda_kernels)
    archs.insert(key.substr(0, key.find('/')));
  nlohmann::json rows = nlohmann::json::array();
  for (const auto &[name, program] : plan.programs)
    for (NodeId id = 0; id < static_cast<NodeId>(program.nodes.size()); ++id) {
      const Node &node = program.nodes[static_cast<size_t>(id)];
      auto k = cuda::emit_kernel(program, id);
      for (const std::string &arch : archs) {
        nlohmann::json row = {{"program", name},
                              {"node", node.name},
                              {"op", std::string(op_name(node.op))},
                              {"arch", arch}};
        auto found = k.ok() ? plan.cuda_kernels.find(cuda::kernel_key(k->source, arch))
                            : plan.cuda_kernels.end();
        if (found == plan.cuda_kernels.end()) {
          row["missing"] = true; // compiled by another NVRTC or kernel library
        } else {
          const CudaBinary &b = found->second;
          row["registers"] = b.registers;
          row["shared_bytes"] = b.shared_bytes;
          row["spill_bytes"] = b.spill_bytes;
          row["bytes"] = b.image.size();
          row["scratch_bytes"] = k->scratch_bytes;
        }
        rows.push_back(std::move(row));
      }
    }
  return rows;
}

std::string cuda_kernel_table(const nlohmann::json &rows) {
  std::ostringstream os;
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %-34s %-22s %-11s %5s %9s %7s %9s %9s\n", "program",
                "node", "op", "arch", "regs", "shared_B", "spill_B", "bytes", "scratch_B");
  os << line;
  for (const nlohmann::json &r : rows) {
    const std::string program = r["program"], node = r["node"], op = r["op"], arch = r["arch"];
    if (r.contains("missing")) {
      std::snprintf(line, sizeof line, "%-14s %-34s %-22s %-11s not in the plan\n", program.c_str(),
                    node.c_str(), op.c_str(), arch.c_str());
    } else {
      const int registers = r["registers"];
      std::snprintf(line, sizeof line, "%-14s %-34s %-22s %-11s %5s %9lld %7lld %9lld %9lld\n",
                    program.c_str(), node.c_str(), op.c_str(), arch.c_str(),
                    registers < 0 ? "ptx" : std::to_string(registers).c_str(),
                    r["shared_bytes"].get<long long>(), r["spill_bytes"].get<long long>(),
                    r["bytes"].get<long long>(), r["scratch_bytes"].get<long long>());
    }
    os << line;
  }
  return os.str();
}

int run_inspect(const InspectArgs &args) {
  auto plan = read_plan_file(args.plan);
  if (!plan.ok())
    return report(kTool, plan.error());
  std::string format = args.json ? "json" : args.format;
  std::string text;
  if (args.kernels) {
    if (format != "text" && format != "json")
      return report(kTool,
                    make_error(ExitCode::Usage, "--kernels prints text or json, not ", format));
    if (plan->cuda_kernels.empty()) {
      text = format == "json" ? "[]\n"
                              : args.plan + ": the plan carries no CUDA kernels (anetc compile "
                                            "--target cuda adds them)\n";
    } else {
      const nlohmann::json rows = cuda_kernel_rows(*plan);
      text = format == "json" ? rows.dump(2) + "\n" : cuda_kernel_table(rows);
    }
  } else if (format == "text" || format == "json") {
    const PlanSummary summary = summarize(*plan);
    text = format == "json" ? summary_json(summary).dump(2) + "\n" : summary_text(summary);
  } else {
    auto program = plan->programs.find(args.program);
    if (program == plan->programs.end())
      return report(kTool, make_error(ExitCode::Usage, args.plan, ": the plan has no program '",
                                      args.program, "'"));
    text = graph_to_dot(program->second);
    if (format == "svg") {
      auto svg = render_svg(text);
      if (!svg.ok())
        return report(kTool, svg.error());
      text = std::move(*svg);
    }
  }
  if (args.output.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(args.output, std::ios::binary);
  out << text;
  out.close();
  if (!out)
    return report(kTool, make_error(ExitCode::IO, args.output, ": cannot write"));
  return 0;
}

int run_model(const ModelArgs &args) {
  models::BuildOptions opts;
  opts.seed = args.seed;
  if (args.batch_opt->count())
    opts.batch = args.batch;
  if (args.classes_opt->count())
    opts.num_classes = args.num_classes;
  if (args.channels_opt->count())
    opts.channels = args.channels;
  auto model = models::build_model(args.name, opts);
  if (!model.ok())
    return report(kTool, model.error());
  Status written = models::write_model(*model, args.output);
  if (!written.ok())
    return report(kTool, written.error());
  std::cout << "wrote " << args.output << ": " << args.name << "\n";
  return 0;
}

int tool_main(int argc, char **argv) {
  CLI::App app("anetc: compiles ONNX convolutional networks into anet plans", kTool);
  configure_app(app, kTool);

  CompileArgs compile;
  CLI::App *c = app.add_subcommand("compile", "Compile an ONNX model into a plan file");
  c->add_option("model", compile.model, "The ONNX model file")->required();
  c->add_option("-o,--output", compile.output, "Where to write the plan")
      ->required()
      ->group("Output");
  compile.batch_opt = c->add_option("--batch", compile.batch,
                                    "Batch size bound to a symbolic batch dimension [default: 1]")
                          ->check(at_least(1))
                          ->group("Import");
  compile.resize_opt = c->add_option("--resize", compile.resize,
                                     "Shorter side images are rescaled to before the centre crop "
                                     "[default: 256 for crops of 200-256, else crop*8/7]")
                           ->check(at_least(1))
                           ->group("Preprocessing");
  compile.pad_opt =
      c->add_option("--pad", compile.pad,
                    "Zeros framing each mean-subtracted image on every side before crops are "
                    "cut, as small-image training's 'pad 4, random crop'; with it, --resize "
                    "defaults to the crop [default: 0]")
          ->check(CLI::Range(int64_t{0}, static_cast<int64_t>(plan_layout::kMaxPad)))
          ->group("Preprocessing");
  compile.mean_opt = c->add_option("--mean", compile.mean,
                                   "Per-channel mean subtracted from images, e.g. R,G,B "
                                   "[default: 123.68,116.78,103.94 for 3 channels, else none]")
                         ->group("Preprocessing");
  compile.scale_opt =
      c->add_option("--scale", compile.scale,
                    "Factor applied after mean subtraction, e.g. 0.00392157 (1/255) for models "
                    "initialised for [0, 1] pixels [default: 1, the paper's 0-255 values]")
          ->group("Preprocessing");
  compile.labels_opt =
      c->add_option("--labels", compile.labels, "Class names, one a line, in class order")
          ->group("Preprocessing");
  c->add_option("--devices", compile.devices, "Logical devices the program is split over")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Passes");
  c->add_option("--partition", compile.partition,
                "How to split: 'model' (the paper's model parallelism) or 'data' (batch shares)")
      ->capture_default_str()
      ->check(CLI::IsMember({"model", "data"}))
      ->group("Passes");
  c->add_option("--print-after", compile.print_after,
                "Print the IR after this pass (repeatable; names: see --disable-pass)")
      ->group("Passes");
  c->add_option("--disable-pass", compile.disable_pass,
                "Skip this pass (repeatable): canonicalise, dead-code, training-mode, add-loss, "
                "fuse, partition, insert-transfers, autodiff, optimizer")
      ->group("Passes");
  c->add_flag("--print-ir", compile.print_ir, "Print the IR as imported and as compiled")
      ->group("Passes");
  c->add_option("--mode", compile.mode,
                "infer (program infer) or train (also train_step: forward, loss, backward and "
                "SGD update; and infer_tencrop); --batch defaults to 128 in train mode")
      ->capture_default_str()
      ->check(CLI::IsMember({"infer", "train"}))
      ->group("Training");
  compile.infer_batch_opt =
      c->add_option("--infer-batch", compile.infer_batch,
                    "Batch of the infer program in train mode (infer_tencrop takes ten crops of "
                    "max(1, N/10) images) [default: --batch]")
          ->check(at_least(1))
          ->group("Training");
  c->add_option("--momentum", compile.momentum, "SGD momentum")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->group("Training");
  c->add_option("--weight-decay", compile.weight_decay, "SGD weight decay")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0))
      ->group("Training");
  c->add_option("--init", compile.init,
                "Initial weights: 'model' (the ONNX initializers) or 'paper' (N(0, 0.01), biases "
                "1 in conv2, conv4, conv5 and the hidden fully connected layers, else 0)")
      ->capture_default_str()
      ->check(CLI::IsMember({"model", "paper"}))
      ->group("Training");
  c->add_option("--seed", compile.seed, "Seed of --init paper")
      ->capture_default_str()
      ->group("Training");
  c->add_flag("--embed-kernels", compile.embed_kernels,
              "Compile the cpu device's kernels for this machine into the plan: anetrun on the "
              "same CPU and anet version starts without compiling (elsewhere it compiles)")
      ->group("Kernels");
  c->add_option("--target", compile.target,
                "cuda: also compile every node's CUDA kernel with NVRTC into the plan (the cuda "
                "device then starts without compiling)")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->group("Kernels");
  compile.arch_opt =
      c->add_option("--arch", compile.arch,
                    "With --target cuda: GPU architectures to compile cubins for, plus PTX for "
                    "the newest")
          ->capture_default_str()
          ->group("Kernels");

  InspectArgs inspect;
  CLI::App *i = app.add_subcommand("inspect", "Print a plan's summary");
  i->add_option("plan", inspect.plan, "The plan file")->required();
  i->add_flag("--json", inspect.json, "Print the summary as one JSON object (--format json)")
      ->group("Output");
  i->add_option("--format", inspect.format,
                "text or json (the summary), dot or svg (the partitioned graph, one lane per "
                "device)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json", "dot", "svg"}))
      ->group("Output");
  i->add_option("--program", inspect.program, "The program drawn by --format dot|svg")
      ->capture_default_str()
      ->group("Output");
  i->add_option("-o,--output", inspect.output, "Write to this file instead of standard output")
      ->group("Output");
  i->add_flag("--kernels", inspect.kernels,
              "List each node's CUDA kernel per architecture: registers, shared memory, spills, "
              "size and scratch (text or json)")
      ->group("Output");

  ModelArgs model;
  CLI::App *m = app.add_subcommand("model", "Write a built-in AlexNet model as ONNX");
  m->add_option("name", model.name, "The model")
      ->required()
      ->check(CLI::IsMember(models::model_names()));
  m->add_option("-o,--output", model.output, "Where to write the ONNX model")
      ->required()
      ->group("Output");
  m->add_option("--seed", model.seed, "Seed of the weight initialisation")
      ->capture_default_str()
      ->group("Model");
  model.batch_opt =
      m->add_option("--batch", model.batch, "Batch size [default: the symbolic dimension N]")
          ->check(at_least(1))
          ->group("Model");
  model.classes_opt = m->add_option("--num-classes", model.num_classes,
                                    "Number of classes [default: 1000; 10 for alexnet-mini]")
                          ->check(at_least(1))
                          ->group("Model");
  model.channels_opt =
      m->add_option("--channels", model.channels, "Input channels [default: 3; 1 for alexnet-mini]")
          ->check(at_least(1))
          ->group("Model");

  return parse_and_run(app, kTool, argc, argv, [&] {
    if (c->parsed())
      return run_compile(compile);
    if (i->parsed())
      return run_inspect(inspect);
    return run_model(model);
  });
}

} // namespace
} // namespace anet::cli

int main(int argc, char **argv) {
  return anet::cli::guarded_main("anetc", [&] { return anet::cli::tool_main(argc, argv); });
}
