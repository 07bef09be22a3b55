#pragma once
/// The IR's text form, for `--print-after`, plan files and pass tests ("IR
/// text in, checked IR text out"). The text is deterministic and parses back
/// (ir/parser.h) into an equal graph, value ids included:
///
///   graph tiny {
///     input %x: f32[1,4]
///     param %w: f32[3,4]
///     const %c: f32[2] = [0.5, -inf]
///     %y: f32[1,3] = Gemm(%x, %w) {alpha=1.0, beta=1.0, transA=0, transB=1} name="fc"
///     %a: f32[1,1], %b: f32[1,2] = Split(%y) {axis=1, split=[1,2]} device=1
///     output %a
///   }
///
/// A partitioned program adds `from "w" [shape] axis A offset O` after a
/// param that slices a stored weight, and `transfers explicit` once
/// insert-transfers has run.
///
/// Names outside [A-Za-z0-9_.+/@-] are quoted (%"conv1/w:0"); floats always
/// carry a '.', an exponent, or are inf/-inf/nan, so int and float
/// attributes stay apart; an empty float list prints as floats[].

#include <iosfwd>
#include <string>
#include <string_view>

#include "ir/graph.h"

namespace anet {

/// Writes `g` as IR text. Works on unverified graphs too (for debugging a
/// failed pass) as long as every value id is in range.
void print_graph(std::ostream &os, const Graph &g);
/// `g` as IR text.
std::string print_graph(const Graph &g);

/// The shortest text that parses back to exactly `f` ("1.0", "0.1",
/// "1e+10", "-inf", "nan"); never looks like an integer.
std::string format_float(float f);
/// `s` in double quotes, with \" \\ \n \r \t and \xHH escapes.
std::string quote_string(std::string_view s);
/// `s` bare when it is a non-empty run of [A-Za-z0-9_.+/@-], else quoted.
std::string name_text(std::string_view s);

} // namespace anet
