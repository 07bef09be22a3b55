#pragma once
/// What anetc and anetrun share: the --version text, CLI11 set up the same
/// way (GNU long options, help grouped by topic with defaults, parse errors
/// mapped to exit code 2), error reporting as "tool: error: message", and a
/// main() guard that turns any escaped exception into exit code 1.

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ir/error.h"
#include "runtime/device.h"

namespace anet::cli {

/// The text --version prints: the tool, the producer version, the plan
/// format version, and the versions of the libraries the build uses.
std::string version_text(const std::string &tool);

/// A CLI11 application configured as both tools are: --help, --version, a
/// subcommand required. Options with a default show it in --help through
/// capture_default_str() (or "[default: ...]" in their description when the
/// default depends on the model).
void configure_app(CLI::App &app, const std::string &tool);

/// Parses argv into `app` and runs the selected subcommand's `run`. --help
/// and --version print to stdout and give 0; a parse error (unknown flag,
/// missing argument, bad value, no subcommand) prints "tool: error: ..." and gives 2.
/// Otherwise returns what `run` returns.
int parse_and_run(CLI::App &app, const std::string &tool, int argc, char **argv,
                  const std::function<int()> &run);

/// A CLI11 check that an integer option is at least `min`; its failure
/// reads "--flag: must be at least 1, not 0".
CLI::Validator at_least(int64_t min);

/// Prints "tool: error: message" to stderr and returns the error's exit code.
int report(const std::string &tool, const Error &error);

/// Runs `body` (a tool's main) so that nothing escapes: std::bad_alloc and
/// any other exception print "tool: error: ..." and give exit code 1.
int guarded_main(const std::string &tool, const std::function<int()> &body);

/// Parses a comma-separated list of numbers ("123.68,116.78,103.94") given
/// to `flag`; a malformed list is an ExitCode::Usage error.
Expected<std::vector<float>> parse_float_list(const std::string &flag, const std::string &text);

/// Where a command runs its kernels: --device, --threads, --kernel-cache.
struct ExecutionArgs {
  std::string device = device_names().front(); ///< the fastest host device
  DeviceOptions options;
};

/// Adds --device, --threads and --kernel-cache to `cmd`, in help group
/// "Execution".
void add_execution_options(CLI::App *cmd, ExecutionArgs &args);

/// The last path component of `path` ("models/a.onnx" -> "a.onnx").
std::string base_name(const std::string &path);

} // namespace anet::cli
