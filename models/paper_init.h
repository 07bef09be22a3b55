#pragma once
/// The AlexNet paper's weight initialisation (section 5), for any imported
/// classifier: every weight (a param of rank >= 2) from N(0, 0.01^2); the
/// biases of the second, fourth and fifth convolutional layers and of the
/// fully connected hidden layers set to 1 (to give the ReLUs positive
/// inputs early on), every other bias to 0. Layers are counted in the
/// program's node order.

#include <cstdint>

#include "ir/error.h"
#include "ir/graph.h"

namespace anet::models {

/// Overwrites the weights of `forward`'s Conv and Gemm layers in `weights`
/// (by param name) as the paper initialises them, from `seed`. Other params
/// (batch normalisation, ...) keep their values.
Status paper_init(const Graph &forward, WeightStore &weights, uint64_t seed);

} // namespace anet::models
