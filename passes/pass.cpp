#include "passes/pass.h"

namespace anet {

Expected<bool> run_pass(Graph &g, Pass &pass, const PassContext &ctx) {
  std::string name(pass.name());
  if (ctx.disabled.count(name))
    return false;
  auto changed = pass.run(g, ctx);
  if (!changed)
    return with_context(std::move(changed).take_error(), "pass " + name);
  if (ctx.verify) {
    Status s = verify(g);
    if (!s) {
      // The input verified, so a broken output is the pass's bug; it is
      // reported as an error so tests show the pass and the invariant.
      Error e = std::move(s).take_error();
      e.code = ExitCode::Runtime;
      return with_context(std::move(e), "verifier after pass " + name);
    }
  }
  if (ctx.after_pass)
    ctx.after_pass(name, g);
  return changed;
}

Expected<bool> run_pipeline(Graph &g, const Pipeline &pipeline, const PassContext &ctx) {
  if (ctx.verify)
    ANET_RETURN_IF_ERR(verify(g));
  bool changed = false;
  for (const PipelineStep &step : pipeline) {
    ANET_ASSIGN_OR_RETURN(bool step_changed, run_pass(g, *step.pass, ctx));
    changed |= step_changed;
  }
  return changed;
}

} // namespace anet
