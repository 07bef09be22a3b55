/// Shared command-line plumbing of anetc and anetrun (see cli.h).

#include "tools/cli.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <new>
#include <sstream>

#include <anet/version.h>

#include "ir/plan.h"

namespace anet::cli {

std::string version_text(const std::string &tool) {
  std::ostringstream os;
  os << tool << " " << kProducerVersion << "\n"
     << "plan format version: " << kPlanFormatVersion << "\n"
     << "ONNX library: " << kOnnxLibraryVersion << "\n"
     << "LLVM: not used by this build\n"
     << "CUDA: " << kCudaVersion;
  return os.str();
}

void configure_app(CLI::App &app, const std::string &tool) {
  app.set_version_flag("--version", version_text(tool), "Print the versions and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");
  app.require_subcommand(0, 1);
  app.get_formatter()->column_width(40);
}

CLI::Validator at_least(int64_t min) {
  return CLI::Validator(
      [min](std::string &text) -> std::string {
        int64_t value = 0;
        if (!CLI::detail::lexical_cast(text, value))
          return "'" + text + "' is not an integer";
        if (value < min)
          return "must be at least " + std::to_string(min) + ", not " + text;
        return {};
      },
      "");
}

int report(const std::string &tool, const Error &error) {
  std::cerr << tool << ": error: " << error.message << "\n";
  return static_cast<int>(error.code);
}

int parse_and_run(CLI::App &app, const std::string &tool, int argc, char **argv,
                  const std::function<int()> &run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e); // --help, --version: printed to stdout
    std::cerr << tool << ": error: " << e.what() << "\n"
              << "Run '" << tool << " --help' for usage.\n";
    return static_cast<int>(ExitCode::Usage);
  }
  // Checked here rather than by CLI11 so that an unknown flag is reported
  // as such, not as a missing subcommand.
  if (app.get_subcommands().empty()) {
    std::string names;
    const CLI::App &declared = app;
    for (const CLI::App *sub : declared.get_subcommands(nullptr))
      names += (names.empty() ? "" : ", ") + sub->get_name();
    std::cerr << tool << ": error: a subcommand is required (" << names << ")\n"
              << "Run '" << tool << " --help' for usage.\n";
    return static_cast<int>(ExitCode::Usage);
  }
  return run();
}

int guarded_main(const std::string &tool, const std::function<int()> &body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    std::cerr << tool << ": error: out of memory\n";
  } catch (const std::exception &e) {
    std::cerr << tool << ": error: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << tool << ": error: internal error: unknown exception\n";
  }
  return static_cast<int>(ExitCode::Runtime);
}

Expected<std::vector<float>> parse_float_list(const std::string &flag, const std::string &text) {
  std::vector<float> values;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const char *begin = item.c_str();
    char *end = nullptr;
    errno = 0;
    const float v = std::strtof(begin, &end);
    if (item.empty() || end != begin + item.size() || errno == ERANGE || !std::isfinite(v))
      return make_error(ExitCode::Usage, flag, ": '", item,
                        "' is not a finite number (expected a comma-separated list like "
                        "123.68,116.78,103.94)");
    values.push_back(v);
    if (comma == std::string::npos)
      return values;
    start = comma + 1;
  }
}

std::string base_name(const std::string &path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void add_execution_options(CLI::App *cmd, ExecutionArgs &args) {
  cmd->add_option("--device", args.device,
                  "Device to run on: cpu (kernels compiled for this CPU), cpu-ref (the "
                  "reference kernels), emu (the CUDA kernels, emulated on the CPU: slow) or cuda "
                  "(the CUDA kernels on the GPU)")
      ->capture_default_str()
      ->check(CLI::IsMember(device_names()))
      ->group("Execution");
  cmd->add_option("--threads", args.options.threads,
                  "Worker threads of the cpu device [default: all cores]")
      ->check(at_least(1))
      ->group("Execution");
  cmd->add_option("--kernel-cache", args.options.kernel_cache,
                  "Folder of compiled kernels (cpu, emu and NVRTC's), or 'none' [default: "
                  "$ANET_CACHE_DIR, else ~/.cache/anet/kernels]")
      ->group("Execution");
  cmd->add_flag("--emu-check", args.options.emu_checking,
                "With --device emu: check bounds, barriers and shared-memory races (slower)")
      ->group("Execution");
  cmd->add_option("--gpus", args.options.gpus,
                  "With --device cuda: the GPUs to run on (CUDA numbers, comma-separated), "
                  "logical device d on the (d mod N)-th; Transfers between two GPUs go "
                  "through NCCL [default: $ANET_CUDA_DEVICE, else 0]")
      ->delimiter(',')
      ->check(CLI::NonNegativeNumber)
      ->group("Execution");
  cmd->add_flag("!--no-graphs", args.options.graphs,
                "With --device cuda or emu: launch every kernel on every run instead of "
                "replaying the first run's launches as one CUDA graph")
      ->group("Execution");
}

} // namespace anet::cli
