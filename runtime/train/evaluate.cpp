// Evaluation (see evaluate.h).

#include "runtime/train/evaluate.h"

#include <cmath>
#include <numeric>

#include "runtime/data/augment.h"
#include "runtime/data/loader.h"

namespace anet {

bool in_top_k(const float *scores, int64_t classes, int64_t label, int64_t k) {
  if (label < 0 || label >= classes)
    return false;
  const float mine = scores[label];
  if (std::isnan(mine))
    return false;
  // Classes ranked above `label`: larger scores, or equal ones of lower index.
  int64_t above = 0;
  for (int64_t c = 0; c < classes; ++c) {
    float s = scores[c];
    if (std::isnan(s))
      continue;
    if (s > mine || (s == mine && c < label))
      ++above;
  }
  return above < k;
}

Expected<EvalResult> evaluate(const Graph &program, Executor &executor, const Dataset &data,
                              const TrainingStats &stats, const EvalOptions &options) {
  if (program.inputs.size() != 1 || program.outputs.empty())
    return make_error(ExitCode::IncompatiblePlan, "program '", program.name,
                      "' must take one image input and return class scores first");
  const TensorType in_type = program.type(program.inputs[0]);
  const TensorType &out_type = program.type(program.outputs[0]);
  const int64_t crops = options.ten_crop ? 10 : 1;
  if (in_type.rank() != 4 || in_type.shape[0] % crops != 0 || out_type.rank() != 2 ||
      out_type.shape[0] != in_type.shape[0] / crops)
    return make_error(ExitCode::IncompatiblePlan, "program '", program.name, "' (input ",
                      to_string(in_type), ", output ", to_string(out_type),
                      ") does not classify batches of ", crops == 10 ? "ten crops" : "images");
  if (in_type.shape[1] != data.channels())
    return make_error(ExitCode::Dataset, "the dataset has ", data.channels(),
                      "-channel images, the model takes ", in_type.shape[1]);
  const int64_t images = in_type.shape[0] / crops, crop = in_type.shape[2];
  ANET_RETURN_IF_ERR(check_crops_fit(stats, in_type, "program '" + program.name + "'"));
  const int64_t classes = out_type.shape[1];
  const int64_t total = options.limit > 0 ? std::min(options.limit, data.size()) : data.size();

  LoaderOptions lo;
  lo.batch_size = images;
  lo.resize = stats.resize;
  lo.crop = crop;
  lo.mode = AugmentMode::Eval;
  lo.shuffle = false;
  lo.drop_last = false;
  lo.lighting_sigma = 0;
  lo.threads = options.threads;
  std::vector<int64_t> order(static_cast<size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);

  EvalResult r;
  int64_t wrong1 = 0, wrong5 = 0;
  const int64_t sample = in_type.numel() / in_type.shape[0] * crops;
  for (int64_t first = 0, b = 0; first < total; first += images, ++b) {
    const int64_t count = std::min(images, total - first);
    Tensor in(in_type);
    std::vector<int> labels;
    if (crops == 1) {
      ANET_ASSIGN_OR_RETURN(Batch batch, build_batch(data, stats, lo, order, 0, b));
      r.skipped += static_cast<int64_t>(batch.warnings.size());
      std::copy_n(batch.images.data.begin(), count * sample, in.data.begin());
      labels.assign(batch.labels.begin(), batch.labels.begin() + count);
    } else {
      for (int64_t i = 0; i < count; ++i) {
        auto s = data.sample(first + i);
        if (!s.ok()) {
          ++r.skipped;
          labels.push_back(-1);
          continue;
        }
        Tensor ten = ten_crop_batch(s->image, stats, crop);
        std::copy(ten.data.begin(), ten.data.end(), in.data.begin() + i * sample);
        labels.push_back(s->label);
      }
    }
    ANET_ASSIGN_OR_RETURN(std::vector<Tensor> out, executor.run({in}));
    for (int64_t i = 0; i < count; ++i) {
      if (labels[static_cast<size_t>(i)] < 0)
        continue;
      const float *scores = out[0].data.data() + i * classes;
      ++r.examples;
      wrong1 += !in_top_k(scores, classes, labels[static_cast<size_t>(i)], 1);
      wrong5 += !in_top_k(scores, classes, labels[static_cast<size_t>(i)], 5);
    }
    if (options.progress)
      options.progress(first + count, total);
  }
  if (r.examples == 0)
    return make_error(ExitCode::Dataset, "no readable example to evaluate");
  r.top1_error = static_cast<double>(wrong1) / static_cast<double>(r.examples);
  r.top5_error = static_cast<double>(wrong5) / static_cast<double>(r.examples);
  return r;
}

} // namespace anet
