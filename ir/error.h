#pragma once
/// Errors a user can cause travel as values: Expected<T> holds either a T
/// or an Error with an exit code and a message that names the file, node,
/// op and reason. Bugs are asserts, never Errors.

#include <cassert>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace anet {

/// Process exit codes, as documented in the README.
enum class ExitCode : int {
  Ok = 0,
  Runtime = 1,
  Usage = 2,
  InvalidModel = 3,
  IncompatiblePlan = 4,
  Dataset = 5,
  NonFinite = 6,
  IO = 74,
};

/// A failure a user can cause: what went wrong and which exit code it maps to.
struct Error {
  ExitCode code = ExitCode::Runtime;
  std::string message;
};

/// Builds an Error whose message is the concatenation of `parts`.
template <class... Parts> Error make_error(ExitCode code, const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  return Error{code, os.str()};
}

/// Either a value or an Error. Check with `ok()` / `operator bool` first.
template <class T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T &value() & {
    assert(ok() && "Expected holds an error");
    return std::get<0>(v_);
  }
  const T &value() const & {
    assert(ok() && "Expected holds an error");
    return std::get<0>(v_);
  }
  T &&value() && {
    assert(ok() && "Expected holds an error");
    return std::get<0>(std::move(v_));
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T &&operator*() && { return std::move(*this).value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  const Error &error() const {
    assert(!ok() && "Expected holds a value");
    return std::get<1>(v_);
  }
  Error take_error() && {
    assert(!ok() && "Expected holds a value");
    return std::get<1>(std::move(v_));
  }

private:
  std::variant<T, Error> v_;
};

/// Success or an Error.
template <> class [[nodiscard]] Expected<void> {
public:
  Expected() = default;
  Expected(Error error) : e_(std::move(error)) {}

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error &error() const {
    assert(!ok() && "Expected holds no error");
    return *e_;
  }
  Error take_error() && {
    assert(!ok() && "Expected holds no error");
    return std::move(*e_);
  }

private:
  std::optional<Error> e_;
};

using Status = Expected<void>;

/// Adds context in front of an error's message, keeping its exit code.
inline Error with_context(Error e, const std::string &context) {
  e.message = context + ": " + e.message;
  return e;
}

} // namespace anet

#define ANET_CONCAT_IMPL(a, b) a##b
#define ANET_CONCAT(a, b) ANET_CONCAT_IMPL(a, b)

/// Returns the error of `expr` (an Expected) from the enclosing function.
#define ANET_RETURN_IF_ERR(expr)                                                                   \
  do {                                                                                             \
    auto &&anet_status_ = (expr);                                                                  \
    if (!anet_status_.ok())                                                                        \
      return std::move(anet_status_).take_error();                                                 \
  } while (0)

/// `ANET_ASSIGN_OR_RETURN(auto x, f());` declares x from f()'s value or
/// returns f()'s error.
#define ANET_ASSIGN_OR_RETURN(lhs, expr)                                                           \
  ANET_ASSIGN_OR_RETURN_IMPL(ANET_CONCAT(anet_expected_, __LINE__), lhs, expr)
#define ANET_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                                                 \
  auto tmp = (expr);                                                                               \
  if (!tmp.ok())                                                                                   \
    return std::move(tmp).take_error();                                                            \
  lhs = std::move(tmp).value()
