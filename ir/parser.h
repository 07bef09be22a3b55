#pragma once
/// Reads the IR text that ir/printer.h writes, so pass tests can be written
/// as "IR text in, checked IR text out" and plans can carry programs as
/// text. The grammar, one statement a line by convention (newlines are
/// plain whitespace; `#` starts a comment that runs to the end of the line):
///
///   graph  := 'graph' NAME '{' stmt* '}'
///   stmt   := KIND %name ':' type ['=' '[' number,* ']']     KIND: input param const value
///           | out,+ '=' OP '(' %name,* ')' [attrs] ['name' '=' STRING] ['device' '=' INT]
///           | 'inputs' %name,+             the call order, when it is not declaration order
///           | 'output' %name
///   out    := %name [':' type]             an omitted type is inferred
///   type   := 'f32' '[' INT,* ']'
///   attrs  := '{' (key '=' attr),* '}'
///   attr   := INT | FLOAT | STRING | '[' INT,* ']' | '[' FLOAT,+ ']' | 'floats' '[' number,* ']'
///
/// (x,* is a comma-separated list of x, possibly empty; x,+ has at least one;
/// an empty [] is an int list.) Values may be referenced before their declaration line; ids follow
/// the order of first declaration. `const` needs its data; `value` declares an activation that a
/// later node defines (or none, for a dead value).

#include <string_view>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet {

/// Parses one graph and verifies it (anet::verify). Errors carry
/// ExitCode::InvalidModel and a message "line L, column C: what is wrong".
Expected<Graph> parse_graph(std::string_view text);

} // namespace anet
