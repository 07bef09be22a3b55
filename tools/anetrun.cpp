/// anetrun: runs plans. Subcommands:
///   infer  classify images or .npy tensors with the plan's "infer" program
///   bench  time the "infer" program on random input
/// docs/cli.md is the reference of every flag, default and exit code.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ir/plan.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/io/npy.h"
#include "tools/cli.h"
#include "tools/infer_inputs.h"

namespace anet::cli {
namespace {

constexpr const char *kTool = "anetrun";
constexpr const char *kProgram = "infer";

struct InferArgs {
  std::string plan;
  std::vector<std::string> inputs;
  int64_t top_k = 5;
  std::string output;
  std::string device = "cpu-ref";
  bool json = false;
};

struct BenchArgs {
  std::string plan;
  int64_t warmup = 5;
  int64_t iterations = 20;
  std::string device = "cpu-ref";
  bool json = false;
};

/// A plan with its "infer" program and, once started, a device and an
/// executor for it.
struct Loaded {
  Plan plan;
  const Graph *program = nullptr;
  std::unique_ptr<Device> device;
  std::optional<Executor> executor;
};

/// Reads the plan and checks that its "infer" program is one anetrun can feed.
Expected<Loaded> load(const std::string &plan_path) {
  Loaded l;
  ANET_ASSIGN_OR_RETURN(l.plan, read_plan_file(plan_path));
  auto it = l.plan.programs.find(kProgram);
  if (it == l.plan.programs.end())
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the plan has no '", kProgram,
                      "' program");
  l.program = &it->second;
  if (l.program->inputs.size() != 1 || l.program->outputs.empty())
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the '", kProgram,
                      "' program takes ", l.program->inputs.size(), " inputs and returns ",
                      l.program->outputs.size(),
                      " outputs; anetrun feeds one input and reads the first output");
  const TensorType &input = l.program->type(l.program->inputs[0]);
  if (input.rank() == 0 || input.shape[0] < 1)
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the '", kProgram,
                      "' program's input ", to_string(input), " has no batch axis of size >= 1");
  return l;
}

/// Opens the device and compiles the program for it.
Status start(Loaded &l, const std::string &plan_path, const std::string &device_name) {
  ANET_ASSIGN_OR_RETURN(l.device, make_device(device_name));
  auto executor = Executor::create(*l.program, l.plan.weights, *l.device);
  if (!executor.ok())
    return with_context(std::move(executor).take_error(), plan_path);
  l.executor.emplace(std::move(executor).value());
  return {};
}

/// The first output split into per-sample rows, with the shape one row has.
struct OutputRows {
  Shape row_shape;
  int64_t row_numel = 0;
  std::vector<float> rows; ///< samples * row_numel values
};

int run_infer(const InferArgs &args) {
  auto loaded = load(args.plan);
  if (!loaded.ok())
    return report(kTool, loaded.error());
  Loaded &l = *loaded;
  const Graph &g = *l.program;
  const TensorType input_type = g.type(g.inputs[0]);
  const int64_t batch = input_type.shape[0];
  const Shape sample_shape(input_type.shape.begin() + 1, input_type.shape.end());
  auto samples = load_samples(args.inputs, l.plan.preprocess, sample_shape);
  if (!samples.ok())
    return report(kTool, samples.error());

  // The output's leading axis is the batch when it has the batch's size;
  // otherwise (batch 1, an output without batch axis) the whole output is
  // one sample's row.
  const TensorType &out_type = g.type(g.outputs[0]);
  OutputRows out;
  const bool batched_output = out_type.rank() > 0 && out_type.shape[0] == batch;
  if (!batched_output && batch != 1)
    return report(kTool, make_error(ExitCode::IncompatiblePlan, args.plan, ": the first output ",
                                    to_string(out_type), " has no batch axis of size ", batch));
  out.row_shape =
      batched_output ? Shape(out_type.shape.begin() + 1, out_type.shape.end()) : out_type.shape;
  out.row_numel = checked_numel(out.row_shape);

  Status started = start(l, args.plan, args.device);
  if (!started.ok())
    return report(kTool, started.error());
  // Run in batches of the plan's size; the last one is padded with zeros.
  const int64_t sample_numel = checked_numel(sample_shape);
  for (size_t first = 0; first < samples->size(); first += static_cast<size_t>(batch)) {
    Tensor in(input_type);
    const size_t count = std::min(samples->size() - first, static_cast<size_t>(batch));
    for (size_t s = 0; s < count; ++s)
      std::copy((*samples)[first + s].values.begin(), (*samples)[first + s].values.end(),
                in.data.begin() + static_cast<int64_t>(s) * sample_numel);
    auto result = l.executor->run({in});
    if (!result.ok())
      return report(kTool, result.error());
    const std::vector<float> &data = (*result)[0].data;
    out.rows.insert(out.rows.end(), data.begin(),
                    data.begin() + static_cast<int64_t>(count) * out.row_numel);
  }

  if (!args.output.empty()) {
    Shape shape{static_cast<int64_t>(samples->size())};
    shape.insert(shape.end(), out.row_shape.begin(), out.row_shape.end());
    Status written = write_npy(args.output, Tensor(TensorType{DType::F32, shape}, out.rows));
    if (!written.ok())
      return report(kTool, written.error());
  }

  const bool prob = is_softmax_output(g, g.outputs[0]);
  const char *kind = prob ? "prob" : "score";
  const std::vector<std::string> &names = l.plan.class_names;
  const bool named = static_cast<int64_t>(names.size()) == out.row_numel;
  nlohmann::json results = nlohmann::json::array();
  for (size_t s = 0; s < samples->size(); ++s) {
    const std::span<const float> row(out.rows.data() + static_cast<int64_t>(s) * out.row_numel,
                                     static_cast<size_t>(out.row_numel));
    const std::vector<Ranked> top = top_k(row, args.top_k);
    if (args.json) {
      nlohmann::json entries = nlohmann::json::array();
      for (const Ranked &r : top) {
        nlohmann::json e = {{"class", r.index}, {kind, r.value}};
        if (named)
          e["label"] = names[static_cast<size_t>(r.index)];
        entries.push_back(std::move(e));
      }
      results.push_back({{"input", (*samples)[s].label}, {"top", std::move(entries)}});
      continue;
    }
    std::cout << (*samples)[s].label << "\n";
    for (size_t k = 0; k < top.size(); ++k) {
      std::cout << "  " << std::setw(2) << k + 1 << ". " << kind << " " << std::fixed
                << std::setprecision(6) << top[k].value << "  class " << top[k].index;
      if (named)
        std::cout << "  " << names[static_cast<size_t>(top[k].index)];
      std::cout << "\n";
    }
  }
  if (args.json)
    std::cout << nlohmann::json{{"plan", args.plan},
                                {"device", args.device},
                                {"kind", kind},
                                {"results", std::move(results)}}
                     .dump(2)
              << "\n";
  return 0;
}

/// The value at quantile `q` of sorted `v` (nearest rank).
double quantile(const std::vector<double> &v, double q) {
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

int run_bench(const BenchArgs &args) {
  auto loaded = load(args.plan);
  if (!loaded.ok())
    return report(kTool, loaded.error());
  Loaded &l = *loaded;
  Status started = start(l, args.plan, args.device);
  if (!started.ok())
    return report(kTool, started.error());
  const Graph &g = *l.program;
  Tensor input(g.type(g.inputs[0]));
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float &v : input.data)
    v = uniform(rng);

  std::vector<double> ms;
  for (int64_t i = 0; i < args.warmup + args.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto result = l.executor->run({input});
    const auto stop = std::chrono::steady_clock::now();
    if (!result.ok())
      return report(kTool, result.error());
    if (i >= args.warmup)
      ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::sort(ms.begin(), ms.end());
  const int64_t batch = input.type.shape[0];
  const double median = quantile(ms, 0.5);
  double mean = 0;
  for (double t : ms)
    mean += t / static_cast<double>(ms.size());
  const double images_per_s = median > 0 ? static_cast<double>(batch) * 1000.0 / median : 0.0;

  if (args.json) {
    std::cout << nlohmann::json{{"plan", args.plan},
                                {"device", args.device},
                                {"batch", batch},
                                {"warmup", args.warmup},
                                {"iterations", args.iterations},
                                {"min_ms", ms.front()},
                                {"median_ms", median},
                                {"mean_ms", mean},
                                {"p90_ms", quantile(ms, 0.9)},
                                {"p99_ms", quantile(ms, 0.99)},
                                {"max_ms", ms.back()},
                                {"images_per_s", images_per_s}}
                     .dump()
              << "\n";
    return 0;
  }
  std::cout << std::fixed << std::setprecision(3) << args.plan << " on " << args.device
            << ": batch " << batch << ", " << args.iterations << " iterations after " << args.warmup
            << " warm-up\n"
            << "  min " << ms.front() << " ms, median " << median << " ms, p90 "
            << quantile(ms, 0.9) << " ms, p99 " << quantile(ms, 0.99) << " ms, max " << ms.back()
            << " ms\n"
            << "  " << std::setprecision(1) << images_per_s << " images/s (batch / median)\n";
  return 0;
}

int tool_main(int argc, char **argv) {
  CLI::App app("anetrun: runs anet plans", kTool);
  configure_app(app, kTool);

  InferArgs infer;
  CLI::App *i = app.add_subcommand("infer", "Classify images or .npy tensors");
  i->add_option("plan", infer.plan, "The plan file")->required();
  i->add_option("inputs", infer.inputs,
                "JPEG or PNG images (preprocessed as the plan says) or .npy tensors "
                "([C,H,W] or [k,C,H,W])")
      ->required();
  i->add_option("--top-k", infer.top_k, "Classes shown per input")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Output");
  i->add_option("--output", infer.output, "Write the raw first output of all inputs as .npy")
      ->group("Output");
  i->add_flag("--json", infer.json, "Print the results as one JSON object")->group("Output");
  i->add_option("--device", infer.device, "Device to run on")
      ->capture_default_str()
      ->check(CLI::IsMember(device_names()))
      ->group("Execution");

  BenchArgs bench;
  CLI::App *b = app.add_subcommand("bench", "Time the infer program on random input");
  b->add_option("plan", bench.plan, "The plan file")->required();
  b->add_option("--warmup", bench.warmup, "Untimed runs first")
      ->capture_default_str()
      ->check(at_least(0))
      ->group("Measurement");
  b->add_option("--iterations", bench.iterations, "Timed runs")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Measurement");
  b->add_option("--device", bench.device, "Device to run on")
      ->capture_default_str()
      ->check(CLI::IsMember(device_names()))
      ->group("Execution");
  b->add_flag("--json", bench.json, "Print the timings as one JSON object")->group("Output");

  return parse_and_run(app, kTool, argc, argv, [&] {
    if (i->parsed())
      return run_infer(infer);
    return run_bench(bench);
  });
}

} // namespace
} // namespace anet::cli

int main(int argc, char **argv) {
  return anet::cli::guarded_main("anetrun", [&] { return anet::cli::tool_main(argc, argv); });
}
