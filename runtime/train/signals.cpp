// SIGINT/SIGTERM handlers that only record a stop request. The handler
// touches nothing but a lock-free atomic and async-signal-safe calls
// (sigaction, raise).

#include "runtime/train/signals.h"

#include <atomic>
#include <cassert>
#include <csignal>

namespace anet {
namespace {

static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free atomic");

std::atomic<int> g_requested{0};
std::atomic<bool> g_installed{false};
struct sigaction g_old_int, g_old_term;

void on_stop_signal(int sig) {
  int expected = 0;
  if (g_requested.compare_exchange_strong(expected, sig))
    return;
  if (sig != SIGINT)
    return;
  // Asked again while stopping: quit now, as an uncaught Ctrl-C.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGINT, &dfl, nullptr);
  raise(SIGINT);
}

} // namespace

StopSignals::StopSignals() {
  [[maybe_unused]] const bool was_installed = g_installed.exchange(true);
  assert(!was_installed && "one StopSignals at a time");
  g_requested = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  [[maybe_unused]] int rc = sigaction(SIGINT, &action, &g_old_int);
  assert(rc == 0 && "sigaction(SIGINT) cannot fail");
  rc = sigaction(SIGTERM, &action, &g_old_term);
  assert(rc == 0 && "sigaction(SIGTERM) cannot fail");
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
  g_requested = 0;
  g_installed = false;
}

int StopSignals::requested() const { return g_requested.load(); }

int StopSignals::exit_code_for(int sig) { return 128 + sig; }

} // namespace anet
