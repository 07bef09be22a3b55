#pragma once
/// Stopping a training run cleanly: SIGINT (Ctrl-C) and SIGTERM only ask
/// the run to stop; it finishes its step, saves a checkpoint and exits with
/// the conventional status (128 + signal). A second Ctrl-C while the stop is
/// under way quits at once.

namespace anet {

/// While alive, SIGINT and SIGTERM are caught (sigaction) and only recorded:
/// the first signal's number is what requested() returns. A SIGINT that
/// arrives when a stop has already been requested restores the default
/// action and re-raises itself, so the process dies as an uncaught Ctrl-C
/// would (status 130 in a shell). The destructor restores the handlers that
/// were installed before. One StopSignals may exist at a time (asserted).
class StopSignals {
public:
  /// Installs the handlers; nothing is requested yet.
  StopSignals();
  /// Restores the previous handlers.
  ~StopSignals();
  StopSignals(const StopSignals &) = delete;
  StopSignals &operator=(const StopSignals &) = delete;

  /// The signal that requested a stop (SIGINT or SIGTERM), or 0 if none has.
  int requested() const;

  /// The exit status for stopping because of `sig`: 128 + sig (130 for
  /// SIGINT, 143 for SIGTERM).
  static int exit_code_for(int sig);
};

} // namespace anet
