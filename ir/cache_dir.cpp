// The default kernel cache folder; see cache_dir.h.

#include "ir/cache_dir.h"

#include <cstdlib>
#include <filesystem>

namespace anet {

std::string default_kernel_cache_dir() {
  namespace fs = std::filesystem;
  if (const char *dir = std::getenv("ANET_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return (fs::path(xdg) / "anet" / "kernels").string();
  if (const char *home = std::getenv("HOME"); home && *home)
    return (fs::path(home) / ".cache" / "anet" / "kernels").string();
  return "";
}

} // namespace anet
