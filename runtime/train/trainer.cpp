// The training run (see trainer.h).
//
// One loop, in the order a reader expects: set up (plan, data, statistics,
// executors, resume), then steps; after every step the stop checks (signal,
// non-finite loss, step budget); at each epoch's end validation, schedule,
// checkpoint, metrics and curves. Everything a resumed run needs to continue
// bit for bit goes into the checkpoint's state: the position, the learning
// rate and schedule, and the curve history.

#include "runtime/train/trainer.h"

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "ir/checksum.h"
#include "ir/printer.h"
#include "ir/program_names.h"
#include "runtime/data/loader.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/train/checkpoint.h"
#include "runtime/train/evaluate.h"
#include "runtime/train/metrics.h"
#include "runtime/train/plot.h"
#include "runtime/train/progress.h"
#include "runtime/train/signals.h"

namespace anet {

Expected<LrSchedule> parse_lr_schedule(const std::string &text) {
  LrSchedule s;
  if (text == "plateau" || text == "constant") {
    s.kind = text;
    return s;
  }
  int64_t every = 0;
  double factor = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "step:%ld:%lf%c", &every, &factor, &tail) == 2 && every > 0 &&
      factor > 0 && factor <= 1) {
    s.kind = "step";
    s.every = every;
    s.factor = factor;
    return s;
  }
  return make_error(ExitCode::Usage, "--lr-schedule '", text,
                    "' is not 'plateau', 'constant' or 'step:E:F' (every E >= 1 epochs, times "
                    "0 < F <= 1)");
}

std::string plan_fingerprint(const Plan &plan) {
  auto it = plan.programs.find("train_step");
  std::string text = it == plan.programs.end() ? "" : print_graph(it->second);
  char hex[16];
  std::snprintf(hex, sizeof hex, "%08x", crc32(text));
  return hex;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

// The train_step program's inputs, by role.
struct TrainInputs {
  int data = -1, labels = -1, lr = -1, step = -1;
};

Expected<TrainInputs> train_inputs(const Graph &g, const std::string &plan) {
  TrainInputs r;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value &v = g.value(g.inputs[i]);
    int *slot = v.name == kLabelsName         ? &r.labels
                : v.name == kLearningRateName ? &r.lr
                : v.name == kStepName         ? &r.step
                : v.type.rank() == 4          ? &r.data
                                              : nullptr;
    if (!slot || *slot >= 0)
      return make_error(ExitCode::IncompatiblePlan, plan, ": train_step input '", v.name, "' ",
                        to_string(v.type), " is not one the trainer feeds");
    *slot = static_cast<int>(i);
  }
  if (r.data < 0 || r.labels < 0 || r.lr < 0)
    return make_error(ExitCode::IncompatiblePlan, plan,
                      ": train_step must take an image batch, labels and lr");
  if (g.outputs.empty() || g.value(g.outputs[0]).name != "loss")
    return make_error(ExitCode::IncompatiblePlan, plan,
                      ": train_step's first output is not the loss");
  return r;
}

// The schedule's and the curves' state, carried by checkpoints.
struct RunState {
  double lr = 0;
  double best_error = 2; // above any error rate
  int64_t epochs_without_improvement = 0;
  std::vector<std::array<double, 2>> loss_curve; // (step, mean loss)
  std::vector<std::array<double, 3>> val_curve;  // (epoch, top-1, top-5)
  double interval_loss = 0;                      // sums since the last record
  int64_t interval_steps = 0;
  int64_t interval_wrong = 0;
  int64_t interval_examples = 0;

  nlohmann::json to_json() const {
    return {{"lr", lr},
            {"best_error", best_error},
            {"epochs_without_improvement", epochs_without_improvement},
            {"loss_curve", loss_curve},
            {"val_curve", val_curve},
            {"interval", {interval_loss, interval_steps, interval_wrong, interval_examples}}};
  }
  static Expected<RunState> from_json(const nlohmann::json &j, const std::string &path) {
    try {
      RunState s;
      s.lr = j.at("lr").get<double>();
      s.best_error = j.at("best_error").get<double>();
      s.epochs_without_improvement = j.at("epochs_without_improvement").get<int64_t>();
      s.loss_curve = j.at("loss_curve").get<std::vector<std::array<double, 2>>>();
      s.val_curve = j.at("val_curve").get<std::vector<std::array<double, 3>>>();
      const auto &iv = j.at("interval");
      s.interval_loss = iv.at(0).get<double>();
      s.interval_steps = iv.at(1).get<int64_t>();
      s.interval_wrong = iv.at(2).get<int64_t>();
      s.interval_examples = iv.at(3).get<int64_t>();
      return s;
    } catch (const nlohmann::json::exception &e) {
      return make_error(ExitCode::IncompatiblePlan, path,
                        ": the checkpoint's trainer state is not this trainer's: ", e.what());
    }
  }
};

class Run {
public:
  Run(const TrainOptions &o, std::ostream &log) : o_(o), log_(log) {}

  Expected<TrainResult> go();

private:
  Status setup();
  Status resume();
  Status step(Batch &batch);
  /// The next batch: the one step() fetched ahead, else the loader's.
  Expected<Batch> next_batch();
  Status end_of_epoch(int64_t epoch);
  Expected<EvalResult> validate(bool ten_crop);
  Expected<std::string> save_checkpoint();
  Status log_interval();
  Status draw_curves();
  int64_t total_steps() const { return o_.steps > 0 ? o_.steps : o_.epochs * per_epoch_; }

  const TrainOptions &o_;
  std::ostream &log_;
  Plan plan_;
  const Graph *train_ = nullptr, *infer_ = nullptr, *tencrop_ = nullptr;
  TrainInputs in_;
  std::optional<Dataset> train_data_, val_data_;
  TrainingStats stats_;
  std::unique_ptr<Device> device_;
  std::optional<Executor> train_exec_, infer_exec_, tencrop_exec_;
  std::optional<CheckpointDir> checkpoints_;
  std::optional<MetricsLog> step_log_, epoch_log_;
  std::unique_ptr<Loader> loader_;
  RunState state_;
  int64_t step_ = 0, epoch_ = 0, batch_ = 0, per_epoch_ = 0;
  double run_seconds_ = 0, wait_seconds_ = 0;
  /// The batch after the current one, fetched while the step's kernels ran,
  /// its images already staged (Executor::stage), or the loader's error.
  std::optional<Expected<Batch>> ahead_;
  int64_t steps_this_run_ = 0;
  TrainResult result_;
  Clock::time_point started_ = Clock::now();
};

Status Run::setup() {
  ANET_ASSIGN_OR_RETURN(plan_, read_plan_file(o_.plan_path));
  auto program = [&](const char *name) -> Expected<const Graph *> {
    auto it = plan_.programs.find(name);
    if (it == plan_.programs.end())
      return make_error(ExitCode::IncompatiblePlan, o_.plan_path, ": the plan has no '", name,
                        "' program; compile it with `anetc compile --mode train`");
    return &it->second;
  };
  ANET_ASSIGN_OR_RETURN(train_, program("train_step"));
  ANET_ASSIGN_OR_RETURN(infer_, program("infer"));
  ANET_ASSIGN_OR_RETURN(tencrop_, program("infer_tencrop"));
  ANET_ASSIGN_OR_RETURN(in_, train_inputs(*train_, o_.plan_path));
  const TensorType &images = train_->type(train_->inputs[static_cast<size_t>(in_.data)]);

  ANET_ASSIGN_OR_RETURN(Dataset train_data, open_dataset(o_.data_dir, Split::Train));
  train_data_ = std::move(train_data);
  if (train_data_->channels() != images.shape[1])
    return make_error(ExitCode::Dataset, o_.data_dir, ": the images have ", train_data_->channels(),
                      " channels, the model takes ", images.shape[1]);
  const int64_t classes =
      train_->type(train_->outputs.size() > 1 ? train_->outputs[1] : train_->outputs[0])
          .shape.back();
  if (train_data_->num_classes() > classes)
    return make_error(ExitCode::Dataset, o_.data_dir, ": ", train_data_->num_classes(),
                      " classes, the model classifies ", classes);
  // Validation: --val-data's val split (IDX: t10k), else the training
  // folder's.
  auto val = open_dataset(o_.val_dir.empty() ? o_.data_dir : o_.val_dir, Split::Val);
  if (val.ok()) {
    val_data_ = std::move(*val);
  } else if (!o_.val_dir.empty()) {
    return std::move(val).take_error();
  } else {
    log_ << "note: no validation split (" << val.error().message
         << "); the plateau schedule will not change the learning rate\n";
  }

  auto warn = [this](const std::string &w) { log_ << "warning: " << w << "\n"; };
  std::string cache = o_.cache_dir;
  if (cache.empty()) {
    const char *home = std::getenv("HOME");
    cache = std::string(home ? home : "/tmp") + "/.cache/anet/stats";
  }
  ANET_ASSIGN_OR_RETURN(
      stats_, load_or_compute_training_stats(*train_data_, plan_.preprocess.resize, cache, warn));
  stats_.scale = plan_.preprocess.scale;
  stats_.pad = plan_.preprocess.pad;
  // Before any kernel is compiled for a plan that cannot be fed.
  if (Status fit = check_crops_fit(stats_, images, "train_step"); !fit)
    return with_context(fit.error(), o_.plan_path);
  DeviceOptions device_options = o_.device_options;
  device_options.kernel_objects = &plan_.kernel_objects;
  device_options.cuda_kernels = &plan_.cuda_kernels;
  ANET_ASSIGN_OR_RETURN(device_, make_device(o_.device, device_options));
  auto exec = [&](const Graph &g) -> Expected<Executor> {
    auto e = Executor::create(g, plan_.weights, *device_);
    if (!e)
      return with_context(std::move(e).take_error(), o_.plan_path);
    return e;
  };
  ANET_ASSIGN_OR_RETURN(Executor t, exec(*train_));
  train_exec_.emplace(std::move(t));
  state_.lr = o_.lr;
  if (!o_.checkpoint_dir.empty())
    checkpoints_.emplace(o_.checkpoint_dir, o_.keep);
  ANET_RETURN_IF_ERR(resume());

  LoaderOptions lo;
  lo.batch_size = images.shape[0];
  lo.resize = plan_.preprocess.resize;
  lo.crop = images.shape[2];
  lo.mode = AugmentMode::Train;
  lo.threads = o_.threads;
  lo.seed = o_.seed;
  lo.warn = warn;
  {
    // The pipeline's throughput alone, before training competes for cores
    // (its skipped samples are reported when training reaches them).
    LoaderOptions quiet = lo;
    quiet.warn = [](const std::string &) {};
    ANET_ASSIGN_OR_RETURN(auto probe, Loader::create(*train_data_, stats_, quiet, 0, 0));
    ANET_ASSIGN_OR_RETURN(
        result_.pipeline_images_per_second,
        measure_images_per_second(*probe, std::min<int64_t>(8, probe->batches_per_epoch())));
  }
  ANET_ASSIGN_OR_RETURN(loader_, Loader::create(*train_data_, stats_, lo, epoch_, batch_));
  per_epoch_ = loader_->batches_per_epoch();

  if (!o_.log_dir.empty()) {
    std::optional<int64_t> after = step_ > 0 ? std::optional<int64_t>(step_) : std::nullopt;
    ANET_ASSIGN_OR_RETURN(MetricsLog s,
                          MetricsLog::open(o_.log_dir, "train",
                                           {"step", "epoch", "loss", "train_top1_error", "lr",
                                            "step_images_per_s", "wait_fraction"},
                                           after));
    step_log_.emplace(std::move(s));
    ANET_ASSIGN_OR_RETURN(
        MetricsLog e,
        MetricsLog::open(o_.log_dir, "epochs",
                         {"step", "epoch", "lr", "val_top1_error", "val_top5_error",
                          "val_tencrop_top1_error", "val_tencrop_top5_error", "seconds"},
                         after));
    epoch_log_.emplace(std::move(e));
  }
  log_ << "training " << o_.plan_path << " on " << o_.data_dir << ": " << train_data_->size()
       << " images, " << per_epoch_ << " steps of " << images.shape[0] << " per epoch, "
       << total_steps() << " steps in all, device " << o_.device << "\n"
       << "data pipeline alone: " << fixed(result_.pipeline_images_per_second, 0) << " images/s on "
       << o_.threads << " threads\n";
  return {};
}

Status Run::resume() {
  if (o_.resume.empty())
    return {};
  ANET_ASSIGN_OR_RETURN(std::string path, resolve_resume(o_.resume, o_.checkpoint_dir));
  if (path.empty()) {
    log_ << "no checkpoint in " << o_.checkpoint_dir << ": starting from the plan's weights\n";
    return {};
  }
  ANET_ASSIGN_OR_RETURN(Checkpoint c, read_checkpoint(path));
  ANET_RETURN_IF_ERR(check_plan_fingerprint(c, plan_fingerprint(plan_), path));
  ANET_RETURN_IF_ERR(train_exec_->load_weights(c.weights));
  ANET_ASSIGN_OR_RETURN(state_, RunState::from_json(c.state, path));
  // The sample order and augmentation follow the seed: continuing exactly
  // needs the one the run started with.
  if (c.state.contains("seed") && c.state["seed"].is_number_unsigned() &&
      c.state["seed"].get<uint64_t>() != o_.seed)
    return make_error(ExitCode::Usage, path, ": this run was trained with --seed ",
                      c.state["seed"].get<uint64_t>(), "; resume it with the same seed (given ",
                      o_.seed, ")");
  step_ = c.step;
  epoch_ = c.epoch;
  batch_ = c.batch;
  log_ << "resumed from " << path << " at step " << step_ << " (epoch " << epoch_ + 1 << ", batch "
       << batch_ << "), lr " << state_.lr << "\n";
  return {};
}

Expected<Batch> Run::next_batch() {
  if (ahead_) {
    Expected<Batch> b = std::move(*ahead_);
    ahead_.reset();
    return b;
  }
  auto t0 = Clock::now();
  Expected<Batch> b = loader_->next(); // it has reported skipped samples
  wait_seconds_ += seconds_since(t0);
  return b;
}

Status Run::step(Batch &batch) {
  std::vector<Tensor> inputs(train_->inputs.size());
  // A batch fetched ahead has its images staged already: left empty here.
  if (!batch.images.data.empty())
    inputs[static_cast<size_t>(in_.data)] = std::move(batch.images);
  Tensor labels(train_->type(train_->inputs[static_cast<size_t>(in_.labels)]));
  for (size_t i = 0; i < batch.labels.size(); ++i)
    labels.data[i] = static_cast<float>(batch.labels[i]);
  inputs[static_cast<size_t>(in_.labels)] = std::move(labels);
  inputs[static_cast<size_t>(in_.lr)] =
      Tensor(TensorType{DType::F32, {}}, {static_cast<float>(state_.lr)});
  if (in_.step >= 0)
    inputs[static_cast<size_t>(in_.step)] =
        Tensor(TensorType{DType::F32, {}}, {static_cast<float>(step_)});
  // While the kernels run, the next batch is fetched and its images staged:
  // on a GPU the host's copy overlaps this step. A loader error waits for
  // the next step, where it would have come without fetching ahead.
  // Only the time blocked on the loader counts as waiting: the staging copy
  // is the step's own work, and on a GPU the kernels run meanwhile.
  double blocked = 0;
  auto fetch_ahead = [&]() -> Status {
    if (step_ + 1 >= total_steps())
      return {};
    auto t0 = Clock::now();
    ahead_ = loader_->next();
    blocked = seconds_since(t0);
    if (*ahead_) {
      Tensor &images = (*ahead_)->images;
      if (Status s = train_exec_->stage(static_cast<size_t>(in_.data), images); !s)
        return s;
      images = Tensor();
    }
    return {};
  };
  auto t0 = Clock::now();
  ANET_ASSIGN_OR_RETURN(std::vector<Tensor> out, train_exec_->run(inputs, fetch_ahead));
  run_seconds_ += seconds_since(t0) - blocked;
  wait_seconds_ += blocked;
  const double loss = out[0].data[0];
  if (!std::isfinite(loss))
    return make_error(ExitCode::NonFinite, "training stopped at step ", step_ + 1, " (epoch ",
                      epoch_ + 1, ", batch ", batch_ + 1, "): the loss is ",
                      std::isnan(loss) ? "NaN" : "infinite", " (learning rate ", state_.lr,
                      "); the weights of that step were not saved",
                      result_.last_checkpoint.empty()
                          ? std::string()
                          : "; the last good checkpoint is " + result_.last_checkpoint);
  state_.interval_loss += loss;
  state_.interval_steps += 1;
  if (out.size() > 1) {
    const Tensor &scores = out[1];
    const int64_t classes = scores.type.shape.back();
    for (size_t i = 0; i < batch.labels.size(); ++i)
      state_.interval_wrong += !in_top_k(scores.data.data() + static_cast<int64_t>(i) * classes,
                                         classes, batch.labels[i], 1);
    state_.interval_examples += static_cast<int64_t>(batch.labels.size());
  }
  result_.final_loss = loss;
  ++step_;
  ++steps_this_run_;
  if (++batch_ == per_epoch_) {
    batch_ = 0;
    ++epoch_;
  }
  return {};
}

Status Run::log_interval() {
  if (state_.interval_steps == 0)
    return {};
  const double loss = state_.interval_loss / static_cast<double>(state_.interval_steps);
  state_.loss_curve.push_back({static_cast<double>(step_), loss});
  const double images =
      static_cast<double>(train_->type(train_->inputs[static_cast<size_t>(in_.data)]).shape[0]);
  result_.step_images_per_second =
      run_seconds_ > 0 ? images * static_cast<double>(steps_this_run_) / run_seconds_ : 0;
  if (step_log_) {
    MetricRecord r{{"step", step_},
                   {"epoch", static_cast<double>(step_) / static_cast<double>(per_epoch_)},
                   {"loss", loss},
                   {"lr", state_.lr},
                   {"step_images_per_s", result_.step_images_per_second},
                   {"wait_fraction", wait_seconds_ / std::max(1e-9, wait_seconds_ + run_seconds_)}};
    if (state_.interval_examples > 0)
      r.emplace("train_top1_error", static_cast<double>(state_.interval_wrong) /
                                        static_cast<double>(state_.interval_examples));
    ANET_RETURN_IF_ERR(step_log_->append(r));
  }
  state_.interval_loss = 0;
  state_.interval_steps = 0;
  state_.interval_wrong = 0;
  state_.interval_examples = 0;
  return {};
}

Expected<std::string> Run::save_checkpoint() {
  if (!checkpoints_)
    return std::string();
  Checkpoint c;
  c.step = step_;
  c.epoch = epoch_;
  c.batch = batch_;
  c.plan_fingerprint = plan_fingerprint(plan_);
  ANET_RETURN_IF_ERR(train_exec_->read_weights(c.weights));
  c.weights[kMeanImageKey] = stats_.mean_image;
  c.state = state_.to_json();
  c.state["seed"] = o_.seed;
  c.state["stats"] = {{"resize", stats_.resize}, {"channels", stats_.channels}};
  ANET_ASSIGN_OR_RETURN(std::string path, checkpoints_->save(c));
  result_.last_checkpoint = path;
  return path;
}

Status Run::draw_curves() {
  if (o_.log_dir.empty())
    return {};
  Series loss{"training loss", {}, {}};
  for (const auto &[s, l] : state_.loss_curve) {
    loss.x.push_back(s / static_cast<double>(per_epoch_));
    loss.y.push_back(l);
  }
  ANET_RETURN_IF_ERR(write_curves_png(o_.log_dir + "/loss.png", "training loss", {loss}, "epoch"));
  Series top1{"val top-1 error", {}, {}}, top5{"val top-5 error", {}, {}};
  for (const auto &[e, t1, t5] : state_.val_curve) {
    top1.x.push_back(e);
    top1.y.push_back(t1);
    top5.x.push_back(e);
    top5.y.push_back(t5);
  }
  return write_curves_png(o_.log_dir + "/error.png", "validation error", {top1, top5}, "epoch");
}

// Hands the trained weights to an inference program's executor, creating
// it on first use.
Status sync_weights(std::optional<Executor> &exec, const Graph &g, const WeightStore &weights,
                    Device &device) {
  if (!exec) {
    ANET_ASSIGN_OR_RETURN(Executor e, Executor::create(g, weights, device));
    exec.emplace(std::move(e));
    return {};
  }
  return exec->load_weights(weights);
}

Expected<EvalResult> Run::validate(bool ten_crop) {
  WeightStore weights = plan_.weights;
  ANET_RETURN_IF_ERR(train_exec_->read_weights(weights));
  std::optional<Executor> &exec = ten_crop ? tencrop_exec_ : infer_exec_;
  const Graph &program = ten_crop ? *tencrop_ : *infer_;
  ANET_RETURN_IF_ERR(sync_weights(exec, program, weights, *device_));
  EvalOptions eo;
  eo.ten_crop = ten_crop;
  eo.limit = o_.val_limit;
  eo.threads = o_.threads;
  Progress bar(ten_crop ? "validate (ten crops)" : "validate", 0, log_, o_.terminal,
               ProgressOptions{.unit = "img"});
  eo.progress = [&](int64_t done, int64_t) { bar.update(done); };
  ANET_ASSIGN_OR_RETURN(EvalResult v, evaluate(program, *exec, *val_data_, stats_, eo));
  bar.finish();
  if (ten_crop) {
    result_.val_tencrop_top1 = v.top1_error;
    result_.val_tencrop_top5 = v.top5_error;
    log_ << "ten-crop validation: top-1 error " << fixed(100 * v.top1_error, 2) << "%, top-5 "
         << fixed(100 * v.top5_error, 2) << "% (" << v.examples << " images)\n";
  }
  return v;
}

Status Run::end_of_epoch(int64_t epoch) {
  ANET_RETURN_IF_ERR(log_interval());
  MetricRecord r{{"step", step_}, {"epoch", epoch}, {"lr", state_.lr}};
  r.emplace("seconds", seconds_since(started_)); // wall time of this invocation
  if (val_data_) {
    ANET_ASSIGN_OR_RETURN(EvalResult v, validate(false));
    result_.val_top1 = v.top1_error;
    result_.val_top5 = v.top5_error;
    r.emplace("val_top1_error", v.top1_error);
    r.emplace("val_top5_error", v.top5_error);
    state_.val_curve.push_back({static_cast<double>(epoch), v.top1_error, v.top5_error});
    log_ << "epoch " << epoch << ": validation top-1 error " << fixed(100 * v.top1_error, 2)
         << "%, top-5 " << fixed(100 * v.top5_error, 2) << "% (" << v.examples
         << " images, centre crop)\n";
    // The schedule.
    if (v.top1_error < state_.best_error) {
      state_.best_error = v.top1_error;
      state_.epochs_without_improvement = 0;
    } else if (++state_.epochs_without_improvement >= o_.schedule.patience &&
               o_.schedule.kind == "plateau") {
      state_.lr /= 10;
      state_.epochs_without_improvement = 0;
      log_ << "validation error stopped improving: learning rate now " << state_.lr << "\n";
    }
    if (o_.ten_crop_every_epoch) {
      ANET_ASSIGN_OR_RETURN(EvalResult ten, validate(true));
      r.emplace("val_tencrop_top1_error", ten.top1_error);
      r.emplace("val_tencrop_top5_error", ten.top5_error);
    }
  }
  if (o_.schedule.kind == "step" && epoch % o_.schedule.every == 0) {
    state_.lr *= o_.schedule.factor;
    log_ << "learning rate now " << state_.lr << "\n";
  }
  if (epoch_log_)
    ANET_RETURN_IF_ERR(epoch_log_->append(r));
  ANET_RETURN_IF_ERR(draw_curves());
  ANET_ASSIGN_OR_RETURN(std::string saved, save_checkpoint());
  if (!saved.empty())
    log_ << "saved " << saved << "\n";
  return {};
}

Expected<TrainResult> Run::go() {
  auto start = Clock::now();
  ANET_RETURN_IF_ERR(setup());
  StopSignals signals;
  const int64_t total = total_steps();
  // The bar counts images, so its rate is the step's images/s.
  const int64_t per_step = train_->type(train_->inputs[static_cast<size_t>(in_.data)]).shape[0];
  Progress bar("train", total * per_step, log_, o_.terminal,
               ProgressOptions{.unit = "img", .initial = step_ * per_step});
  while (step_ < total) {
    ANET_ASSIGN_OR_RETURN(Batch batch, next_batch());
    const int64_t epoch_before = epoch_;
    ANET_RETURN_IF_ERR(step(batch));
    if (step_ % o_.log_every == 0)
      ANET_RETURN_IF_ERR(log_interval());
    bar.update(step_ * per_step, {{"step", std::to_string(step_)},
                                  {"epoch", std::to_string(epoch_ + (batch_ == 0 ? 0 : 1))},
                                  {"loss", fixed(result_.final_loss, 4)},
                                  {"lr", fixed(state_.lr, 5)}});
    if (epoch_ != epoch_before)
      ANET_RETURN_IF_ERR(end_of_epoch(epoch_));
    else if (o_.checkpoint_every > 0 && step_ % o_.checkpoint_every == 0)
      ANET_RETURN_IF_ERR(save_checkpoint());
    if (int sig = signals.requested()) {
      bar.finish();
      if (epoch_ == epoch_before) { // an epoch's end has just saved one
        ANET_RETURN_IF_ERR(save_checkpoint());
      }
      log_ << "stopped by signal " << sig << " at step " << step_
           << (result_.last_checkpoint.empty() ? std::string(" (no --checkpoint-dir)")
                                               : "; checkpoint " + result_.last_checkpoint)
           << "\n";
      result_.exit_code = StopSignals::exit_code_for(sig);
      break;
    }
  }
  if (result_.exit_code == 0) {
    bar.finish(); // the signal's stop has finished it
    // A run that ends mid-epoch (--steps) saves before its last metrics
    // record: the checkpoint keeps the unfinished interval, so a run resumed
    // from it records what an uninterrupted run records.
    if (batch_ != 0 && checkpoints_) {
      ANET_RETURN_IF_ERR(save_checkpoint());
    }
    ANET_RETURN_IF_ERR(log_interval());
    if (val_data_ && o_.final_ten_crop && !(o_.ten_crop_every_epoch && batch_ == 0)) {
      ANET_ASSIGN_OR_RETURN(EvalResult v, validate(true));
      if (epoch_log_)
        ANET_RETURN_IF_ERR(epoch_log_->append({{"step", step_},
                                               {"epoch", epoch_},
                                               {"lr", state_.lr},
                                               {"val_tencrop_top1_error", v.top1_error},
                                               {"val_tencrop_top5_error", v.top5_error}}));
    }
  }
  ANET_RETURN_IF_ERR(draw_curves()); // also for runs that end mid-epoch
  result_.steps = step_;
  result_.epochs = epoch_;
  result_.seconds = seconds_since(start);
  return result_;
}

} // namespace

Expected<TrainResult> train(const TrainOptions &options, std::ostream &log) {
  if ((options.epochs > 0) == (options.steps > 0))
    return make_error(ExitCode::Usage, "give exactly one of --epochs and --steps");
  if (options.resume == "auto" && options.checkpoint_dir.empty())
    return make_error(ExitCode::Usage,
                      "--resume auto needs --checkpoint-dir (the folder whose latest checkpoint "
                      "it resumes from)");
  Run run(options, log);
  return run.go();
}

} // namespace anet
