/// The batch loader: deterministic batch construction and the worker pool.

#include "runtime/data/loader.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <iostream>

namespace anet {

namespace {

/// Purposes that separate the random streams of one (seed, epoch).
constexpr uint64_t kShuffleStream = 0x5348554646ull; // "SHUFF"
constexpr uint64_t kSampleStream = 0x53414d50ull;    // "SAMP"

/// Writes HWC `img` into `dst` as CHW, times `scale`.
void to_chw(const RawImage &img, float scale, float *dst) {
  const int64_t c = img.channels, plane = img.height * img.width;
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t k = 0; k < c; ++k)
      dst[k * plane + p] = img.pixels[static_cast<size_t>(p * c + k)] * scale;
}

/// Rescales and centre-crops to stats.resize, subtracts the mean image and
/// frames the result with stats.pad zeros: the patch crops are cut from.
RawImage framed_patch(const RawImage &raw, const TrainingStats &stats) {
  RawImage img = rescale_center_crop(raw, stats.resize);
  assert(img.pixels.size() == stats.mean_image.size());
  for (size_t k = 0; k < img.pixels.size(); ++k)
    img.pixels[k] -= stats.mean_image[k];
  return pad_image(img, stats.pad);
}

/// Preprocesses and augments one sample into `dst` (C x crop x crop, CHW).
void augment_into(const RawImage &raw, const TrainingStats &stats, const LoaderOptions &opt,
                  CounterRng &rng, float *dst) {
  const RawImage img = framed_patch(raw, stats);
  RawImage out;
  if (opt.mode == AugmentMode::Train) {
    const int64_t y = rng.uniform_int(stats.patch() - opt.crop + 1);
    const int64_t x = rng.uniform_int(stats.patch() - opt.crop + 1);
    const bool flip = rng.uniform_int(2) == 1;
    out = crop(img, y, x, opt.crop, opt.crop, flip);
    if (opt.lighting_sigma > 0)
      add_lighting(out, stats.pca, draw_lighting(rng, opt.lighting_sigma));
  } else {
    out = center_crop(img, opt.crop);
  }
  to_chw(out, stats.scale, dst);
}

} // namespace

Tensor ten_crop_batch(const RawImage &image, const TrainingStats &stats, int64_t crop) {
  assert(crop <= stats.patch() && image.channels == stats.channels);
  const std::vector<RawImage> crops = ten_crop(framed_patch(image, stats), crop);
  Tensor t(TensorType{DType::F32, {10, stats.channels, crop, crop}});
  for (size_t k = 0; k < crops.size(); ++k)
    to_chw(crops[k], stats.scale, &t.data[k * static_cast<size_t>(stats.channels * crop * crop)]);
  return t;
}

Status check_crops_fit(const TrainingStats &stats, const TensorType &input,
                       const std::string &who) {
  if (input.rank() == 4 && input.shape[2] == input.shape[3] && input.shape[2] <= stats.patch())
    return {};
  return make_error(ExitCode::IncompatiblePlan, who, " takes ", to_string(input),
                    " crops; the preprocessing (resize ", stats.resize, ", pad ", stats.pad,
                    ") cuts square crops of at most ", stats.patch());
}

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    order[static_cast<size_t>(i)] = i;
  if (!shuffle)
    return order;
  CounterRng rng = CounterRng::for_sample(seed, static_cast<uint64_t>(epoch), 0, kShuffleStream);
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng.uniform_int(i + 1))]);
  return order;
}

Expected<Batch> build_batch(const Dataset &data, const TrainingStats &stats,
                            const LoaderOptions &opt, const std::vector<int64_t> &order,
                            int64_t epoch, int64_t index) {
  const int64_t n = data.size();
  const int64_t start = index * opt.batch_size;
  const int64_t count = std::min(opt.batch_size, n - start);
  assert(count > 0);
  Batch b;
  b.epoch = epoch;
  b.index = index;
  const int64_t c = stats.channels, plane = opt.crop * opt.crop;
  b.images = Tensor(TensorType{DType::F32, {count, c, opt.crop, opt.crop}});
  // Candidates: the nominal range, then the positions after it, wrapping.
  for (int64_t pos = start; static_cast<int64_t>(b.labels.size()) < count; ++pos) {
    if (pos - start >= count + n)
      return make_error(ExitCode::Dataset, data.sample_name(0),
                        ": no readable sample to fill batch ", index, " of epoch ", epoch);
    const int64_t i = order[static_cast<size_t>(pos % n)];
    auto s = data.sample(i);
    if (!s) {
      b.warnings.push_back("skipping " + s.error().message); // names the file
      continue;
    }
    CounterRng rng = CounterRng::for_sample(opt.seed, static_cast<uint64_t>(epoch),
                                            static_cast<uint64_t>(i), kSampleStream);
    augment_into(s->image, stats, opt, rng,
                 &b.images.data[b.labels.size() * static_cast<size_t>(c * plane)]);
    b.labels.push_back(s->label);
    b.indices.push_back(i);
  }
  return b;
}

Expected<std::unique_ptr<Loader>> Loader::create(Dataset data, TrainingStats stats,
                                                 LoaderOptions opt, int64_t epoch, int64_t batch) {
  if (opt.batch_size < 1 || opt.crop < 1 || opt.resize + 2 * stats.pad < opt.crop ||
      opt.threads < 1 || opt.prefetch < 1 || stats.pad < 0)
    return make_error(ExitCode::Usage,
                      "data loader: need batch_size, crop, threads, prefetch >= 1, pad >= 0 "
                      "and crop <= resize + 2 pad (got batch_size ",
                      opt.batch_size, ", crop ", opt.crop, ", resize ", opt.resize, ", pad ",
                      stats.pad, ", threads ", opt.threads, ", prefetch ", opt.prefetch, ")");
  if (stats.resize != opt.resize || stats.channels != data.channels())
    return make_error(ExitCode::Usage, "data loader: statistics are for resize ", stats.resize,
                      " and ", stats.channels, " channels, the loader needs ", opt.resize, " and ",
                      data.channels());
  const int64_t per_epoch = opt.drop_last ? data.size() / opt.batch_size
                                          : (data.size() + opt.batch_size - 1) / opt.batch_size;
  if (per_epoch < 1 || epoch < 0 || batch < 0 || batch >= per_epoch)
    return make_error(ExitCode::Usage, "data loader: cannot start at epoch ", epoch, " batch ",
                      batch, ": an epoch of ", data.size(), " examples has ", per_epoch,
                      " batches of ", opt.batch_size);
  const int64_t first = epoch * per_epoch + batch;
  return std::unique_ptr<Loader>(
      new Loader(std::move(data), std::move(stats), std::move(opt), first));
}

Loader::Loader(Dataset data, TrainingStats stats, LoaderOptions opt, int64_t first)
    : data_(std::move(data)), stats_(std::move(stats)), opt_(std::move(opt)), next_claim_(first),
      next_deliver_(first) {
  per_epoch_ = opt_.drop_last ? data_.size() / opt_.batch_size
                              : (data_.size() + opt_.batch_size - 1) / opt_.batch_size;
  for (int t = 0; t < opt_.threads; ++t)
    workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread &t : workers_)
    t.join();
}

void Loader::work() {
  int64_t order_epoch = -1;
  std::vector<int64_t> order;
  for (;;) {
    int64_t g;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ < next_deliver_ + opt_.prefetch; });
      if (stop_)
        return;
      g = next_claim_++;
    }
    const int64_t epoch = g / per_epoch_;
    if (epoch != order_epoch) {
      order = epoch_order(data_.size(), opt_.seed, epoch, opt_.shuffle);
      order_epoch = epoch;
    }
    auto batch = build_batch(data_, stats_, opt_, order, epoch, g % per_epoch_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(g, std::move(batch));
    }
    ready_cv_.notify_all();
  }
}

Expected<Batch> Loader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  ready_cv_.wait(lock, [&] { return ready_.count(next_deliver_) > 0; });
  auto node = ready_.extract(next_deliver_);
  ++next_deliver_;
  lock.unlock();
  work_cv_.notify_all();
  Expected<Batch> batch = std::move(node.mapped());
  if (batch) {
    for (const std::string &w : batch->warnings) {
      if (opt_.warn)
        opt_.warn(w);
      else
        std::cerr << "warning: " << w << "\n";
    }
    skipped_ += static_cast<int64_t>(batch->warnings.size());
  }
  return batch;
}

Expected<double> measure_images_per_second(Loader &loader, int64_t batches) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t images = 0;
  for (int64_t i = 0; i < batches; ++i) {
    ANET_ASSIGN_OR_RETURN(Batch b, loader.next());
    images += static_cast<int64_t>(b.labels.size());
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return static_cast<double>(images) / std::max(s, 1e-9);
}

} // namespace anet
