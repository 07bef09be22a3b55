#pragma once
/// The partitioned graph as a picture, the way the AlexNet paper's Figure 2
/// draws it: one lane per device, layers as boxes with their output shapes,
/// and every transfer as an edge between lanes labelled with its bytes.
/// Graphviz's `dot` renders the text (`anetc inspect --format svg`).

#include <string>

#include "ir/graph.h"

namespace anet {

/// Graphviz source for `g`.
std::string graph_to_dot(const Graph &g);

} // namespace anet
