/// anetrun: runs plans. Subcommands:
///   infer   classify images or .npy tensors with the plan's "infer" program
///           (or, --ten-crop, "infer_tencrop"), optionally with trained weights
///   bench   time the "infer" program on random input
///   train   train a plan compiled with --mode train (runtime/train/trainer.h)
///   eval    top-1/top-5 error on a dataset split
///   export  write trained weights back into the plan's original ONNX model
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

#include "frontend/onnx_export.h"
#include "ir/cost.h"
#include "ir/plan.h"
#include "ir/program_names.h"
#include "runtime/data/augment.h"
#include "runtime/data/loader.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/io/image.h"
#include "runtime/io/npy.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/evaluate.h"
#include "runtime/train/progress.h"
#include "runtime/train/trainer.h"
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
  cli::ExecutionArgs exec;
  std::string checkpoint;
  bool ten_crop = false;
  bool json = false;
};

struct EvalArgs {
  std::string plan;
  std::string data;
  std::string checkpoint;
  std::string split = "val";
  cli::ExecutionArgs exec;
  bool ten_crop = false;
  int64_t limit = 0;
  int threads = 2;
  bool json = false;
};

struct ExportArgs {
  std::string plan;
  std::string checkpoint;
  std::string output;
};

struct BenchArgs {
  std::string plan;
  int64_t warmup = 5;
  int64_t iterations = 20;
  std::string program = kProgram;
  bool profile = false;
  double peak_gflops = 0;
  cli::ExecutionArgs exec;
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

/// Trained weights and the training set's mean image from a checkpoint,
/// checked against the plan: they replace the plan's weights, and the mean
/// image (CHW, at the plan's resize) its preprocessing.
Status apply_checkpoint(Plan &plan, const std::string &path) {
  ANET_ASSIGN_OR_RETURN(Checkpoint c, read_checkpoint(path));
  if (plan.programs.count("train_step"))
    ANET_RETURN_IF_ERR(check_plan_fingerprint(c, plan_fingerprint(plan), path));
  for (auto &[name, data] : plan.weights) {
    auto it = c.weights.find(name);
    if (it == c.weights.end() || it->second.size() != data.size())
      return make_error(ExitCode::IncompatiblePlan, path, ": the checkpoint has no weight '", name,
                        "' of ", data.size(), " values: it belongs to another model");
    data = it->second;
  }
  auto mean = c.weights.find(kMeanImageKey);
  if (mean != c.weights.end()) {
    const int64_t side = plan.preprocess.resize;
    const int64_t channels =
        side > 0 ? static_cast<int64_t>(mean->second.size()) / (side * side) : 0;
    if (channels < 1 || channels * side * side != static_cast<int64_t>(mean->second.size()))
      return make_error(ExitCode::IncompatiblePlan, path, ": its mean image of ",
                        mean->second.size(), " values does not fit the plan's resize ", side);
    std::vector<float> chw(mean->second.size());
    for (int64_t y = 0; y < side; ++y)
      for (int64_t x = 0; x < side; ++x)
        for (int64_t ch = 0; ch < channels; ++ch)
          chw[static_cast<size_t>((ch * side + y) * side + x)] =
              mean->second[static_cast<size_t>((y * side + x) * channels + ch)];
    plan.preprocess.mean_image = std::move(chw);
    plan.preprocess.mean.clear();
  }
  return {};
}

/// Reads the plan and checks that its program `program` is one anetrun can feed.
Expected<Loaded> load(const std::string &plan_path, const std::string &checkpoint = "",
                      const char *program = kProgram, bool one_input = true) {
  Loaded l;
  ANET_ASSIGN_OR_RETURN(l.plan, read_plan_file(plan_path));
  if (!checkpoint.empty())
    ANET_RETURN_IF_ERR(apply_checkpoint(l.plan, checkpoint));
  auto it = l.plan.programs.find(program);
  if (it == l.plan.programs.end())
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the plan has no '", program,
                      "' program");
  l.program = &it->second;
  if (!one_input)
    return l;
  if (l.program->inputs.size() != 1 || l.program->outputs.empty())
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the '", program, "' program takes ",
                      l.program->inputs.size(), " inputs and returns ", l.program->outputs.size(),
                      " outputs; anetrun feeds one input and reads the first output");
  const TensorType &input = l.program->type(l.program->inputs[0]);
  if (input.rank() == 0 || input.shape[0] < 1)
    return make_error(ExitCode::IncompatiblePlan, plan_path, ": the '", program,
                      "' program's input ", to_string(input), " has no batch axis of size >= 1");
  return l;
}

/// Opens the device and compiles the program for it.
Status start(Loaded &l, const std::string &plan_path, cli::ExecutionArgs exec) {
  exec.options.kernel_objects = &l.plan.kernel_objects;
  exec.options.cuda_kernels = &l.plan.cuda_kernels;
  ANET_ASSIGN_OR_RETURN(l.device, make_device(exec.device, exec.options));
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

/// The training statistics inference subtracts: the mean image the
/// preprocessing holds (a checkpoint's), else its per-channel mean.
TrainingStats stats_of(const Preprocess &pp, int64_t channels) {
  TrainingStats s;
  s.resize = pp.resize;
  s.channels = channels;
  s.scale = pp.scale;
  s.pad = pp.pad;
  const auto side = static_cast<size_t>(pp.resize);
  s.mean_image.assign(side * side * static_cast<size_t>(channels), 0.f);
  for (size_t i = 0; i < side * side; ++i)
    for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
      float m = !pp.mean_image.empty() ? pp.mean_image[c * side * side + i]
                : c < pp.mean.size()   ? pp.mean[c]
                                       : 0.f;
      s.mean_image[i * static_cast<size_t>(channels) + c] = m;
    }
  return s;
}

/// The ten crops of each image INPUT, as one sample of [10, C, H, W] each.
Expected<std::vector<Sample>> load_ten_crops(const std::vector<std::string> &paths,
                                             const Preprocess &pp, const Shape &crop_shape) {
  const int64_t channels = crop_shape[1], crop = crop_shape[2];
  const TrainingStats stats = stats_of(pp, channels);
  std::vector<Sample> samples;
  for (const std::string &path : paths) {
    ANET_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file_bytes(path, kMaxImageFileBytes));
    if (sniff_image_format(bytes.data(), bytes.size()) == ImageFormat::Unknown)
      return make_error(ExitCode::Dataset, path, ": --ten-crop takes JPEG or PNG images");
    ANET_ASSIGN_OR_RETURN(RgbImage rgb, decode_image(path, bytes));
    RawImage raw{rgb.height, rgb.width, channels, {}};
    raw.pixels.resize(static_cast<size_t>(rgb.height * rgb.width * channels));
    for (int64_t i = 0; i < rgb.height * rgb.width; ++i) {
      const float *p = &rgb.pixels[static_cast<size_t>(3 * i)];
      if (channels == 1) // ITU-R 601 luma, as PIL's convert("L")
        raw.pixels[static_cast<size_t>(i)] = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
      else
        std::copy_n(p, 3, &raw.pixels[static_cast<size_t>(3 * i)]);
    }
    Tensor t = ten_crop_batch(rescale_center_crop(raw, pp.resize), stats, crop);
    samples.push_back(Sample{path, std::move(t.data)});
  }
  return samples;
}

int run_infer(const InferArgs &args) {
  auto loaded = load(args.plan, args.checkpoint, args.ten_crop ? "infer_tencrop" : kProgram);
  if (!loaded.ok())
    return report(kTool, loaded.error());
  Loaded &l = *loaded;
  const Graph &g = *l.program;
  const TensorType input_type = g.type(g.inputs[0]);
  // With ten crops, one sample is an image's ten crops and the program's
  // batch counts images.
  const int64_t per_sample = args.ten_crop ? 10 : 1;
  if (args.ten_crop && (input_type.rank() != 4 || input_type.shape[0] % 10 != 0))
    return report(kTool,
                  make_error(ExitCode::IncompatiblePlan, args.plan, ": infer_tencrop's input ",
                             to_string(input_type), " is not a batch of ten crops"));
  const int64_t batch = input_type.shape[0] / per_sample;
  const Shape sample_shape(input_type.shape.begin() + 1, input_type.shape.end());
  if (args.ten_crop && l.plan.preprocess.patch() < input_type.shape[2])
    return report(kTool, make_error(ExitCode::IncompatiblePlan, args.plan,
                                    ": the plan's resize and pad make a patch smaller than its "
                                    "crop"));
  auto samples = args.ten_crop ? load_ten_crops(args.inputs, l.plan.preprocess, input_type.shape)
                               : load_samples(args.inputs, l.plan.preprocess, sample_shape);
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

  Status started = start(l, args.plan, args.exec);
  if (!started.ok())
    return report(kTool, started.error());
  // Run in batches of the plan's size; the last one is padded with zeros.
  const int64_t sample_numel = checked_numel(sample_shape) * per_sample;
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

  // infer_tencrop averages the infer program's output over the crops: it is
  // a probability when that output is one.
  auto single = l.plan.programs.find(kProgram);
  const Graph &scored = args.ten_crop && single != l.plan.programs.end() ? single->second : g;
  const bool prob = is_softmax_output(scored, scored.outputs[0]);
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
                                {"device", args.exec.device},
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

/// Inputs for a timing run of `g`: uniform in [-1, 1), except the training
/// inputs: labels class 0, step 0, and a tiny learning rate (the weights
/// barely move, so every iteration does the same work).
std::vector<Tensor> bench_inputs(const Graph &g) {
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<Tensor> inputs;
  for (ValueId v : g.inputs) {
    Tensor t(g.type(v));
    const std::string &name = g.value(v).name;
    for (float &x : t.data)
      x = name == kLabelsName || name == kStepName ? 0.f
          : name == kLearningRateName              ? 1e-6f
                                                   : uniform(rng);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

/// The per-node table of `anetrun bench --profile`: each node's median
/// time over the timed runs, its GFLOP/s and share of the peak.
void print_profile(const Graph &g, const std::vector<std::vector<double>> &runs, double peak,
                   bool json) {
  nlohmann::json rows = nlohmann::json::array();
  if (!json)
    std::cout << "  node                              op               median_ms   GFLOP/s  "
                 "of_peak\n";
  for (NodeId id = 0; id < static_cast<NodeId>(g.nodes.size()); ++id) {
    const Node &node = g.nodes[static_cast<size_t>(id)];
    std::vector<double> t;
    for (const auto &run : runs)
      t.push_back(run[static_cast<size_t>(id)] * 1e3);
    std::sort(t.begin(), t.end());
    const double ms = quantile(t, 0.5);
    const double gflops = ms > 0 ? static_cast<double>(node_flops(g, node)) / ms / 1e6 : 0;
    if (json) {
      rows.push_back({{"node", node.name},
                      {"op", op_name(node.op)},
                      {"median_ms", ms},
                      {"gflops", gflops},
                      {"of_peak", peak > 0 ? gflops / peak : 0}});
      continue;
    }
    std::cout << "  " << std::left << std::setw(34) << node.name << std::setw(16)
              << op_name(node.op) << std::right << std::fixed << std::setprecision(3)
              << std::setw(10) << ms << std::setprecision(1) << std::setw(10) << gflops;
    if (peak > 0 && gflops > 0)
      std::cout << std::setw(8) << 100 * gflops / peak << "%";
    std::cout << "\n";
  }
  if (json)
    std::cout << nlohmann::json{{"profile", rows}}.dump() << "\n";
}

int run_bench(const BenchArgs &args) {
  auto loaded = load(args.plan, "", args.program.c_str(), false);
  if (!loaded.ok())
    return report(kTool, loaded.error());
  Loaded &l = *loaded;
  const auto compile_start = std::chrono::steady_clock::now();
  Status started = start(l, args.plan, args.exec);
  if (!started.ok())
    return report(kTool, started.error());
  const double start_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - compile_start).count();
  const Graph &g = *l.program;
  const std::vector<Tensor> inputs = bench_inputs(g);
  l.executor->set_profiling(args.profile);
  std::vector<std::vector<double>> node_runs;

  std::vector<double> ms;
  for (int64_t i = 0; i < args.warmup + args.iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto result = l.executor->run(inputs);
    const auto stop = std::chrono::steady_clock::now();
    if (!result.ok())
      return report(kTool, result.error());
    if (i < args.warmup)
      continue;
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    if (args.profile)
      node_runs.push_back(l.executor->node_seconds());
  }
  std::sort(ms.begin(), ms.end());
  const TensorType &first = inputs.empty() ? TensorType{} : inputs[0].type;
  const int64_t batch = first.rank() > 0 ? first.shape[0] : 1;
  const double median = quantile(ms, 0.5);
  double mean = 0;
  for (double t : ms)
    mean += t / static_cast<double>(ms.size());
  const double images_per_s = median > 0 ? static_cast<double>(batch) * 1000.0 / median : 0.0;

  if (args.json) {
    std::cout << nlohmann::json{{"plan", args.plan},
                                {"program", args.program},
                                {"device", args.exec.device},
                                {"start_s", start_s},
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
    if (args.profile)
      print_profile(g, node_runs, args.peak_gflops, true);
    return 0;
  }
  std::cout << std::fixed << std::setprecision(3) << args.plan << " on " << args.exec.device
            << ": batch " << batch << ", " << args.iterations << " iterations after " << args.warmup
            << " warm-up\n"
            << "  min " << ms.front() << " ms, median " << median << " ms, p90 "
            << quantile(ms, 0.9) << " ms, p99 " << quantile(ms, 0.99) << " ms, max " << ms.back()
            << " ms\n"
            << "  " << std::setprecision(1) << images_per_s << " images/s (batch / median)\n"
            << "  start (load and compile): " << std::setprecision(3) << start_s << " s\n";
  if (args.profile)
    print_profile(g, node_runs, args.peak_gflops, false);
  return 0;
}

int run_train(const TrainOptions &options, bool json) {
  auto result = train(options, std::cerr);
  if (!result.ok())
    return report(kTool, result.error());
  const TrainResult &r = *result;
  auto pct = [](double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(100 * v); };
  if (json) {
    std::cout << nlohmann::json{{"plan", options.plan_path},
                                {"steps", r.steps},
                                {"epochs", r.epochs},
                                {"final_loss", r.final_loss},
                                {"val_top1_error_pct", pct(r.val_top1)},
                                {"val_top5_error_pct", pct(r.val_top5)},
                                {"val_tencrop_top1_error_pct", pct(r.val_tencrop_top1)},
                                {"val_tencrop_top5_error_pct", pct(r.val_tencrop_top5)},
                                {"seconds", r.seconds},
                                {"step_images_per_s", r.step_images_per_second},
                                {"pipeline_images_per_s", r.pipeline_images_per_second},
                                {"last_checkpoint", r.last_checkpoint},
                                {"exit_code", r.exit_code}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << std::fixed << std::setprecision(2) << "trained " << r.steps << " steps ("
              << r.epochs << " epochs) in " << r.seconds << " s: final loss "
              << std::setprecision(4) << r.final_loss << std::setprecision(1) << ", "
              << r.step_images_per_second << " images/s per step, data pipeline alone "
              << r.pipeline_images_per_second << " images/s\n";
    if (r.val_top1 >= 0)
      std::cout << std::setprecision(2) << "validation error (centre crop): top-1 "
                << 100 * r.val_top1 << "%, top-5 " << 100 * r.val_top5 << "%\n";
    if (r.val_tencrop_top1 >= 0)
      std::cout << std::setprecision(2) << "validation error (ten crops):   top-1 "
                << 100 * r.val_tencrop_top1 << "%, top-5 " << 100 * r.val_tencrop_top5 << "%\n";
    if (!r.last_checkpoint.empty())
      std::cout << "last checkpoint: " << r.last_checkpoint << "\n";
  }
  return r.exit_code;
}

int run_eval(const EvalArgs &args) {
  const char *program = args.ten_crop ? "infer_tencrop" : kProgram;
  auto loaded = load(args.plan, args.checkpoint, program);
  if (!loaded.ok())
    return report(kTool, loaded.error());
  Loaded &l = *loaded;
  if (Status s = start(l, args.plan, args.exec); !s.ok())
    return report(kTool, s.error());
  auto data = open_dataset(args.data, args.split == "train"  ? Split::Train
                                      : args.split == "test" ? Split::Test
                                                             : Split::Val);
  if (!data.ok())
    return report(kTool, data.error());
  const TensorType &in = l.program->type(l.program->inputs[0]);
  const TrainingStats stats = stats_of(l.plan.preprocess, in.rank() == 4 ? in.shape[1] : 1);
  EvalOptions eo;
  eo.ten_crop = args.ten_crop;
  eo.limit = args.limit;
  eo.threads = args.threads;
  Progress bar("eval", args.limit > 0 ? std::min(args.limit, data->size()) : data->size(),
               std::cerr, is_terminal(stderr), ProgressOptions{.unit = "img"});
  eo.progress = [&](int64_t done, int64_t) { bar.update(done); };
  auto r = evaluate(*l.program, *l.executor, *data, stats, eo);
  if (!r.ok())
    return report(kTool, r.error());
  bar.finish();
  if (args.json) {
    std::cout << nlohmann::json{{"plan", args.plan},
                                {"data", args.data},
                                {"split", args.split},
                                {"ten_crop", args.ten_crop},
                                {"examples", r->examples},
                                {"skipped", r->skipped},
                                {"top1_error_pct", 100 * r->top1_error},
                                {"top5_error_pct", 100 * r->top5_error}}
                     .dump(2)
              << "\n";
    return 0;
  }
  std::cout << std::fixed << std::setprecision(2) << args.data << " (" << args.split << ", "
            << r->examples << " images, " << (args.ten_crop ? "ten crops" : "centre crop")
            << "): top-1 error " << 100 * r->top1_error << "%, top-5 error " << 100 * r->top5_error
            << "% (accuracy " << 100 * (1 - r->top1_error) << "%)\n";
  if (r->skipped > 0)
    std::cout << r->skipped << " unreadable images skipped\n";
  return 0;
}

int run_export(const ExportArgs &args) {
  auto plan = read_plan_file(args.plan);
  if (!plan.ok())
    return report(kTool, plan.error());
  if (Status s = apply_checkpoint(*plan, args.checkpoint); !s.ok())
    return report(kTool, s.error());
  if (plan->onnx_model.empty())
    return report(kTool, make_error(ExitCode::IncompatiblePlan, args.plan,
                                    ": the plan carries no ONNX model to export into"));
  if (Status s = write_exported_model(plan->onnx_model, plan->weights, args.output); !s.ok())
    return report(kTool, s.error());
  std::cout << "wrote " << args.output << ": " << plan->source_name << " with "
            << plan->weights.size() << " trained initializers from " << args.checkpoint << "\n";
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
  i->add_option("--checkpoint", infer.checkpoint,
                "Use the weights (and the training set's mean image) of this training checkpoint")
      ->group("Model");
  i->add_flag("--ten-crop", infer.ten_crop,
              "Average the softmax over the four corner crops, the centre crop and their mirrors "
              "(program infer_tencrop; images only)")
      ->group("Model");
  cli::add_execution_options(i, infer.exec);

  BenchArgs bench;
  CLI::App *b = app.add_subcommand("bench", "Time a program on random input");
  b->add_option("plan", bench.plan, "The plan file")->required();
  b->add_option("--program", bench.program, "The program: infer, infer_tencrop or train_step")
      ->capture_default_str()
      ->group("Measurement");
  b->add_flag("--profile", bench.profile, "Also time every node (median over the iterations)")
      ->group("Measurement");
  b->add_option("--peak-gflops", bench.peak_gflops,
                "The processor's peak GFLOP/s at the threads used: --profile shows each node's "
                "share of it")
      ->check(CLI::PositiveNumber)
      ->group("Measurement");
  b->add_option("--warmup", bench.warmup, "Untimed runs first")
      ->capture_default_str()
      ->check(at_least(0))
      ->group("Measurement");
  b->add_option("--iterations", bench.iterations, "Timed runs")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Measurement");
  cli::add_execution_options(b, bench.exec);
  b->add_flag("--json", bench.json, "Print the timings as one JSON object")->group("Output");

  TrainOptions train_opts;
  std::string schedule = "plateau";
  bool train_json = false;
  cli::ExecutionArgs train_exec;
  CLI::App *t = app.add_subcommand("train", "Train a plan compiled with --mode train");
  t->add_option("plan", train_opts.plan_path, "The plan file")->required();
  t->add_option("--data", train_opts.data_dir,
                "Dataset folder: IDX files (MNIST format) or train/CLASS/*.jpg|png")
      ->required()
      ->group("Data");
  t->add_option("--val-data", train_opts.val_dir,
                "Validation dataset folder [default: --data's val (or test) split]")
      ->group("Data");
  t->add_option("--data-threads", train_opts.threads, "Data pipeline threads")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Data");
  t->add_option("--val-limit", train_opts.val_limit,
                "Validate on the first N images only [default: all]")
      ->check(at_least(1))
      ->group("Data");
  t->add_option("--epochs", train_opts.epochs, "Epochs to train (or --steps)")
      ->check(at_least(1))
      ->group("Schedule");
  t->add_option("--steps", train_opts.steps, "Steps to train in all (or --epochs)")
      ->check(at_least(1))
      ->group("Schedule");
  t->add_option("--lr", train_opts.lr, "Initial learning rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->group("Schedule");
  t->add_option("--lr-schedule", schedule,
                "plateau (divide by 10 when validation error stops improving), constant, or "
                "step:E:F (times F every E epochs)")
      ->capture_default_str()
      ->group("Schedule");
  t->add_option("--plateau-patience", train_opts.schedule.patience,
                "Epochs without improvement before the plateau schedule divides")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Schedule");
  t->add_option("--seed", train_opts.seed, "Seed of the sample order and augmentation")
      ->capture_default_str()
      ->group("Schedule");
  t->add_option("--checkpoint-dir", train_opts.checkpoint_dir,
                "Write a checkpoint here after every epoch and on SIGINT/SIGTERM")
      ->group("Checkpoints");
  t->add_option("--keep", train_opts.keep, "Checkpoints kept")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Checkpoints");
  t->add_option("--checkpoint-every", train_opts.checkpoint_every,
                "Also checkpoint every N steps [default: epoch ends only]")
      ->check(at_least(1))
      ->group("Checkpoints");
  t->add_option("--resume", train_opts.resume,
                "Continue from a checkpoint: 'auto' (the latest in --checkpoint-dir) or a path")
      ->group("Checkpoints");
  t->add_option("--log-dir", train_opts.log_dir,
                "Write metrics (train/epochs .jsonl and .csv) and curves (loss.png, error.png)")
      ->group("Output");
  t->add_option("--log-every", train_opts.log_every, "Steps between metric records")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Output");
  t->add_flag("--json", train_json, "Print the final summary as one JSON object")->group("Output");
  t->add_flag("--ten-crop-every-epoch", train_opts.ten_crop_every_epoch,
              "Validate with ten crops after every epoch, not only the last (ten times the work)")
      ->group("Output");
  t->add_flag("!--no-final-ten-crop", train_opts.final_ten_crop,
              "Skip the ten-crop validation after the last epoch")
      ->group("Output");
  cli::add_execution_options(t, train_exec);

  EvalArgs eval;
  CLI::App *e = app.add_subcommand("eval", "Top-1 and top-5 error on a dataset");
  e->add_option("plan", eval.plan, "The plan file")->required();
  e->add_option("--data", eval.data, "Dataset folder (as anetrun train takes)")
      ->required()
      ->group("Data");
  e->add_option("--split", eval.split, "Which split: val, test or train")
      ->capture_default_str()
      ->check(CLI::IsMember({"val", "test", "train"}))
      ->group("Data");
  e->add_option("--limit", eval.limit, "Evaluate the first N images only")
      ->check(at_least(1))
      ->group("Data");
  e->add_option("--data-threads", eval.threads, "Decoding threads")
      ->capture_default_str()
      ->check(at_least(1))
      ->group("Data");
  e->add_option("--checkpoint", eval.checkpoint, "Trained weights from this checkpoint")
      ->group("Model");
  e->add_flag("--ten-crop", eval.ten_crop, "Average over the paper's ten crops")->group("Model");
  cli::add_execution_options(e, eval.exec);
  e->add_flag("--json", eval.json, "Print the result as one JSON object")->group("Output");

  ExportArgs exp;
  CLI::App *x = app.add_subcommand("export", "Write trained weights into the original ONNX model");
  x->add_option("plan", exp.plan, "The plan file")->required();
  x->add_option("--checkpoint", exp.checkpoint, "The training checkpoint")->required();
  x->add_option("-o,--output", exp.output, "The ONNX file to write")->required();

  return parse_and_run(app, kTool, argc, argv, [&] {
    if (i->parsed())
      return run_infer(infer);
    if (t->parsed()) {
      auto parsed = parse_lr_schedule(schedule);
      if (!parsed.ok())
        return report(kTool, parsed.error());
      const int64_t patience = train_opts.schedule.patience;
      train_opts.schedule = *parsed;
      train_opts.schedule.patience = patience;
      train_opts.terminal = is_terminal(stderr);
      train_opts.device = train_exec.device;
      train_opts.device_options = train_exec.options;
      return run_train(train_opts, train_json);
    }
    if (e->parsed())
      return run_eval(eval);
    if (x->parsed())
      return run_export(exp);
    return run_bench(bench);
  });
}

} // namespace
} // namespace anet::cli

int main(int argc, char **argv) {
  return anet::cli::guarded_main("anetrun", [&] { return anet::cli::tool_main(argc, argv); });
}
