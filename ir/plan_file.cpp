// Plan files on disk. Writing is atomic (ir/atomic_file.h) so that an
// interrupted or failed compile never leaves a half-written plan where a
// good one was.

#include "ir/atomic_file.h"
#include "ir/plan.h"
#include "ir/read_file.h"

namespace anet {

Status write_plan_file(const Plan &plan, const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::string bytes, serialize_plan(plan));
  return write_file_atomically(path, {bytes}, "plan");
}

Expected<Plan> read_plan_file(const std::string &path) {
  ANET_ASSIGN_OR_RETURN(std::string bytes, read_whole_file(path, "plan"));
  return deserialize_plan(bytes, path);
}

} // namespace anet
