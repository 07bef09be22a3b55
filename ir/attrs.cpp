#include "ir/attrs.h"

#include <algorithm>
#include <cassert>

namespace anet {

void Attrs::set(const std::string &name, AttrValue value) {
  auto it = std::lower_bound(items_.begin(), items_.end(), name,
                             [](const auto &item, const std::string &n) { return item.first < n; });
  if (it != items_.end() && it->first == name)
    it->second = std::move(value);
  else
    items_.insert(it, {name, std::move(value)});
}

void Attrs::erase(const std::string &name) {
  std::erase_if(items_, [&](const auto &item) { return item.first == name; });
}

const AttrValue *Attrs::find(const std::string &name) const {
  auto it = std::lower_bound(items_.begin(), items_.end(), name,
                             [](const auto &item, const std::string &n) { return item.first < n; });
  return it != items_.end() && it->first == name ? &it->second : nullptr;
}

template <class T> static const T &get(const Attrs &a, const std::string &name) {
  const T *v = a.get_if<T>(name);
  assert(v && "attribute missing or of another type; the verifier should have caught it");
  return *v;
}

int64_t Attrs::i(const std::string &name) const { return get<int64_t>(*this, name); }
float Attrs::f(const std::string &name) const { return get<float>(*this, name); }
const std::string &Attrs::s(const std::string &name) const { return get<std::string>(*this, name); }
const std::vector<int64_t> &Attrs::ints(const std::string &name) const {
  return get<std::vector<int64_t>>(*this, name);
}
const std::vector<float> &Attrs::floats(const std::string &name) const {
  return get<std::vector<float>>(*this, name);
}

} // namespace anet
