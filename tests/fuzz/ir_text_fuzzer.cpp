// Fuzz target for the IR text parser (parse_graph). Properties: a refusal
// is InvalidModel with a "line L, column C: " position; a graph that parses
// prints to text that parses again and prints identically.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ir/parser.h"
#include "ir/printer.h"

namespace {

[[noreturn]] void fail(const char *what, const std::string &detail) {
  std::fprintf(stderr, "ir_text fuzz check failed: %s\n%s\n", what, detail.c_str());
  std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto graph = anet::parse_graph(text);
  if (!graph.ok()) {
    if (graph.error().code != anet::ExitCode::InvalidModel ||
        graph.error().message.rfind("line ", 0) != 0)
      fail("refusal without a position or with the wrong exit code", graph.error().message);
    return 0;
  }
  std::string printed = anet::print_graph(*graph);
  auto again = anet::parse_graph(printed);
  if (!again.ok())
    fail("printed text does not parse", again.error().message + "\n" + printed);
  if (anet::print_graph(*again) != printed)
    fail("print(parse(print(g))) differs from print(g)", printed);
  return 0;
}
