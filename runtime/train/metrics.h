#pragma once
/// Metrics logs of a training run: one kind of record (per step, per epoch,
/// ...) appended to `<dir>/<name>.jsonl` (one JSON object a line, for
/// programs) and `<dir>/<name>.csv` (fixed columns, for spreadsheets), both
/// flushed after every record. A resumed run first cuts the logs back to the
/// step it resumes from, so that its logs equal an uninterrupted run's.

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "ir/error.h"

namespace anet {

/// One field of a record: a number or a text.
struct MetricValue {
  /// Any arithmetic value, stored as a double.
  template <class T>
  requires std::is_arithmetic_v<T> MetricValue(T number) : value(static_cast<double>(number)) {}
  /// A text field.
  MetricValue(std::string text) : value(std::move(text)) {}
  /// A text field.
  MetricValue(const char *text) : value(std::string(text)) {}

  std::variant<double, std::string> value; ///< the number or the text
};

/// One record: column name -> value. Columns it leaves out are empty in the
/// CSV and absent from the JSON line.
using MetricRecord = std::map<std::string, MetricValue>;

/// An open pair of log files. Numbers are written in the shortest form that
/// reads back exactly; integral ones without a fraction. JSON has no NaN or
/// infinity: non-finite numbers are `null` there (and "nan", "inf", "-inf"
/// in the CSV).
class MetricsLog {
public:
  /// Opens `<dir>/<name>.jsonl` and `<dir>/<name>.csv`, creating `dir` if
  /// needed, with the CSV columns `columns` (distinct). Without
  /// `resume_after_step` both files start empty (the CSV with its header
  /// line). With it (`columns` must include "step"), the JSON lines whose
  /// "step" is at most that value are kept, later ones dropped, and the CSV
  /// is rewritten from the kept lines; a line cut short by a crash (the
  /// last, without its newline) is dropped. Errors are ExitCode::IO naming
  /// the file: it cannot be created or written, or a complete JSON line is
  /// not an object with a numeric "step".
  static Expected<MetricsLog> open(const std::string &dir, const std::string &name,
                                   std::vector<std::string> columns,
                                   std::optional<int64_t> resume_after_step = std::nullopt);

  /// Appends `record` to both files and flushes them. Every field must be
  /// one of the columns (asserted). Errors are ExitCode::IO naming the file.
  Status append(const MetricRecord &record);

  /// The JSON-lines file's path.
  const std::string &jsonl_path() const { return jsonl_path_; }
  /// The CSV file's path.
  const std::string &csv_path() const { return csv_path_; }

private:
  struct CloseFile {
    void operator()(std::FILE *file) const { std::fclose(file); }
  };
  using File = std::unique_ptr<std::FILE, CloseFile>;

  MetricsLog(std::vector<std::string> columns, std::string jsonl_path, std::string csv_path,
             File jsonl, File csv);

  std::vector<std::string> columns_;
  std::string jsonl_path_, csv_path_;
  File jsonl_, csv_;
};

} // namespace anet
