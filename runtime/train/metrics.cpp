// Metrics logs: JSON lines and CSV written side by side, flushed per
// record, cut back to a step on resume.
//
// Design note. The JSON lines are the log of record: on resume they are
// filtered by step, kept byte for byte, and the CSV is regenerated from the
// kept ones, so the two files cannot disagree and a CSV written with other
// columns is simply rewritten with this run's. Both files are replaced
// atomically at open (ir/atomic_file.h), so a crash while resuming never
// loses the old logs, and then appended to with stdio.

#include "runtime/train/metrics.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "ir/atomic_file.h"
#include "ir/read_file.h"

namespace anet {
namespace {

namespace fs = std::filesystem;

Error io_error(const char *doing, const std::string &path, int err) {
  return make_error(ExitCode::IO, doing, " '", path, "': ", std::strerror(err));
}

// The shortest text that reads back as `v` ("5", "0.1", "1e+20", "nan").
std::string format_number(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  assert(ec == std::errc() && "64 characters hold any double");
  return std::string(buf, end);
}

nlohmann::ordered_json to_json(const MetricValue &field) {
  if (const std::string *text = std::get_if<std::string>(&field.value))
    return *text;
  const double v = std::get<double>(field.value);
  if (!std::isfinite(v))
    return nullptr;
  // Integral values (steps, epochs, counts) without a fraction.
  constexpr double kExactIntegers = 9007199254740992.0; // 2^53
  if (v == std::trunc(v) && std::fabs(v) <= kExactIntegers)
    return static_cast<int64_t>(v);
  return v;
}

// A CSV field, quoted (RFC 4180) when it holds a separator, quote or newline.
std::string csv_field(const std::string &text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos)
    return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_line(const std::vector<std::string> &columns, const MetricRecord &record) {
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0)
      line += ',';
    auto it = record.find(columns[i]);
    if (it == record.end())
      continue;
    if (const std::string *text = std::get_if<std::string>(&it->second.value))
      line += csv_field(*text);
    else
      line += format_number(std::get<double>(it->second.value));
  }
  return line + '\n';
}

std::string csv_header(const std::vector<std::string> &columns) {
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i)
    line += (i > 0 ? "," : "") + csv_field(columns[i]);
  return line + '\n';
}

// A logged JSON object back as a record: numbers, texts, and null as NaN.
MetricRecord from_json(const nlohmann::json &object) {
  MetricRecord record;
  for (const auto &[key, value] : object.items()) {
    if (value.is_number())
      record.emplace(key, value.get<double>());
    else if (value.is_string())
      record.emplace(key, value.get<std::string>());
    else if (value.is_null())
      record.emplace(key, std::numeric_limits<double>::quiet_NaN());
  }
  return record;
}

struct KeptLog {
  std::string jsonl; ///< the kept lines, byte for byte
  std::string csv;   ///< the CSV regenerated from them, header included
};

// Filters the JSON lines at `path` (missing: none) to steps <= `last_step`.
Expected<KeptLog> keep_through_step(const std::string &path,
                                    const std::vector<std::string> &columns, int64_t last_step) {
  KeptLog kept{"", csv_header(columns)};
  std::error_code ec;
  if (!fs::exists(path, ec) && !ec)
    return kept;
  ANET_ASSIGN_OR_RETURN(std::string text, read_whole_file(path, "metrics log"));
  size_t pos = 0;
  for (int64_t line_number = 1;; ++line_number) {
    const size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      break; // nothing left, or a line cut short by a crash
    const std::string_view line = std::string_view(text).substr(pos, end - pos);
    pos = end + 1;
    if (line.empty())
      continue;
    nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!object.is_object() || !object.contains("step") || !object["step"].is_number())
      return make_error(ExitCode::IO, "cannot resume metrics log '", path, "': line ", line_number,
                        " is not a JSON object with a numeric \"step\"");
    if (object["step"].get<double>() > static_cast<double>(last_step))
      continue;
    kept.jsonl.append(line);
    kept.jsonl += '\n';
    kept.csv += csv_line(columns, from_json(object));
  }
  return kept;
}

} // namespace

MetricsLog::MetricsLog(std::vector<std::string> columns, std::string jsonl_path,
                       std::string csv_path, File jsonl, File csv)
    : columns_(std::move(columns)), jsonl_path_(std::move(jsonl_path)),
      csv_path_(std::move(csv_path)), jsonl_(std::move(jsonl)), csv_(std::move(csv)) {}

Expected<MetricsLog> MetricsLog::open(const std::string &dir, const std::string &name,
                                      std::vector<std::string> columns,
                                      std::optional<int64_t> resume_after_step) {
  assert(!columns.empty() && "a metrics log needs columns");
  assert(std::all_of(columns.begin(), columns.end(),
                     [&](const std::string &c) {
                       return std::count(columns.begin(), columns.end(), c) == 1;
                     }) &&
         "metrics columns are distinct");
  assert(
      (!resume_after_step || std::find(columns.begin(), columns.end(), "step") != columns.end()) &&
      "resuming a metrics log needs a \"step\" column");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return make_error(ExitCode::IO, "cannot create metrics directory '", dir, "': ", ec.message());
  const std::string stem = (fs::path(dir) / name).string();
  std::string jsonl_path = stem + ".jsonl", csv_path = stem + ".csv";

  KeptLog kept{"", csv_header(columns)};
  if (resume_after_step) {
    ANET_ASSIGN_OR_RETURN(kept, keep_through_step(jsonl_path, columns, *resume_after_step));
  }
  ANET_RETURN_IF_ERR(write_file_atomically(jsonl_path, {kept.jsonl}, "metrics log"));
  ANET_RETURN_IF_ERR(write_file_atomically(csv_path, {kept.csv}, "metrics log"));

  File jsonl(std::fopen(jsonl_path.c_str(), "ae"));
  if (!jsonl)
    return io_error("cannot open metrics log", jsonl_path, errno);
  File csv(std::fopen(csv_path.c_str(), "ae"));
  if (!csv)
    return io_error("cannot open metrics log", csv_path, errno);
  return MetricsLog(std::move(columns), std::move(jsonl_path), std::move(csv_path),
                    std::move(jsonl), std::move(csv));
}

Status MetricsLog::append(const MetricRecord &record) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const std::string &column : columns_)
    if (auto it = record.find(column); it != record.end())
      object[column] = to_json(it->second);
  assert(object.size() == record.size() && "every field of a metrics record is a column");
  const std::string json_line =
      object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
  const std::string csv = csv_line(columns_, record);
  for (auto [file, path, line] : {std::tuple{jsonl_.get(), &jsonl_path_, &json_line},
                                  std::tuple{csv_.get(), &csv_path_, &csv}}) {
    if (std::fwrite(line->data(), 1, line->size(), file) != line->size() || std::fflush(file) != 0)
      return io_error("cannot write metrics log", *path, errno);
  }
  return {};
}

} // namespace anet
