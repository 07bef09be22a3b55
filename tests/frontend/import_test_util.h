#pragma once
/// Helpers shared by the frontend tests: finding nodes in an imported graph
/// and checking an import error's exit code and message.

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "frontend/onnx_import.h"
#include "ir/printer.h"

namespace anet::test {

/// The nodes of `g` with op `op`, in order.
inline std::vector<const Node *> nodes_of(const Graph &g, OpKind op) {
  std::vector<const Node *> out;
  for (const Node &n : g.nodes)
    if (n.op == op)
      out.push_back(&n);
  return out;
}

/// The graph's only node of op `op` (a test failure if there is not exactly one).
inline const Node &only(const Graph &g, OpKind op) {
  auto found = nodes_of(g, op);
  EXPECT_EQ(found.size(), 1u) << "expected one " << op_name(op) << " node in\n" << print_graph(g);
  static const Node none;
  return found.empty() ? none : *found.front();
}

/// The type of the value named `name`.
inline TensorType type_of(const Graph &g, const std::string &name) {
  auto id = g.find_value(name);
  EXPECT_TRUE(id.has_value()) << "no value '" << name << "' in\n" << print_graph(g);
  return id ? g.type(*id) : TensorType{};
}

/// A fresh directory under the system's temp directory, removed afterwards.
class TempDir {
public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("anet_frontend_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path &path() const { return path_; }
  /// Writes `bytes` to the file `name` inside the directory; returns its path.
  std::string write(const std::string &name, const std::string &bytes) const {
    std::ofstream(path_ / name, std::ios::binary) << bytes;
    return (path_ / name).string();
  }

private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

/// Asserts that `result` is an error with `code` whose message contains
/// every fragment of `parts`.
template <class T>
::testing::AssertionResult fails_with(const Expected<T> &result, ExitCode code,
                                      const std::vector<std::string> &parts) {
  if (result.ok())
    return ::testing::AssertionFailure() << "import succeeded, expected an error containing '"
                                         << (parts.empty() ? "" : parts.front()) << "'";
  const Error &e = result.error();
  if (e.code != code)
    return ::testing::AssertionFailure()
           << "exit code " << static_cast<int>(e.code) << ", expected " << static_cast<int>(code)
           << ": " << e.message;
  for (const auto &part : parts)
    if (e.message.find(part) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks '" << part << "': " << e.message;
  return ::testing::AssertionSuccess();
}

} // namespace anet::test
