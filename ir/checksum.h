#pragma once
/// CRC-32 for the plan file and checkpoints: the IEEE 802.3 polynomial, as
/// zlib, gzip and PNG use it, so `python3 -c "import zlib; ..."` can check a
/// file by hand.

#include <cstdint>
#include <string_view>

namespace anet {

/// CRC-32 of `data`; pass a previous result as `crc` to continue it over
/// data that arrives in pieces (crc32(a + b) == crc32(b, crc32(a))).
uint32_t crc32(std::string_view data, uint32_t crc = 0);

} // namespace anet
