#pragma once
/// Node attributes: a small sorted map from name to a typed value.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace anet {

using AttrValue =
    std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>>;

/// A node's attributes, kept sorted by name so printing is deterministic.
/// Getters assert on a missing or mistyped attribute: a verified graph has
/// every attribute its op's shape rule reads.
class Attrs {
public:
  bool has(const std::string &name) const { return find(name) != nullptr; }
  void set(const std::string &name, AttrValue value);
  void erase(const std::string &name);

  int64_t i(const std::string &name) const;
  float f(const std::string &name) const;
  const std::string &s(const std::string &name) const;
  const std::vector<int64_t> &ints(const std::string &name) const;
  const std::vector<float> &floats(const std::string &name) const;

  /// The value, or nullptr when absent.
  const AttrValue *find(const std::string &name) const;
  /// The value if present with type T, else nullptr.
  template <class T> const T *get_if(const std::string &name) const {
    const AttrValue *v = find(name);
    return v ? std::get_if<T>(v) : nullptr;
  }

  const std::vector<std::pair<std::string, AttrValue>> &items() const { return items_; }
  bool operator==(const Attrs &) const = default;

private:
  std::vector<std::pair<std::string, AttrValue>> items_;
};

} // namespace anet
