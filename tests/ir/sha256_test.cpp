// SHA-256 against the test vectors of FIPS 180-4's examples (NIST CSRC) and
// Python's hashlib on lengths around the padding boundaries.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "ir/sha256.h"

namespace anet {
namespace {

TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundariesMatchPython) {
  // 55, 56, 63, 64 and 65 bytes: one or two padding blocks.
  for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string data(n, 'x');
    const std::string cmd = "python3 -c \"import hashlib; print(hashlib.sha256(b'x' * " +
                            std::to_string(n) + ").hexdigest())\"";
    FILE *p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    char line[80] = {};
    ASSERT_NE(std::fgets(line, sizeof line, p), nullptr);
    ::pclose(p);
    EXPECT_EQ(sha256_hex(data), std::string(line, 64)) << n;
  }
}

// The disk caches' envelope: what seal wrote unseals to the payload; another
// magic, a flipped byte, a cut and an empty payload do not.
TEST(Sha256, SealedPayloadsComeBackAndDamageIsRefused) {
  const std::string payload = "registers 40\n" + std::string(300, '\x7f');
  const std::string sealed = seal("MAGIC1\n", payload);
  EXPECT_EQ(sealed.size(), 7 + 32 + payload.size());
  EXPECT_EQ(unseal("MAGIC1\n", sealed), payload);
  EXPECT_EQ(unseal("MAGIC2\n", sealed), std::nullopt);
  for (size_t at : {size_t{3}, size_t{20}, sealed.size() - 1}) {
    std::string flipped = sealed;
    flipped[at] ^= 1;
    EXPECT_EQ(unseal("MAGIC1\n", flipped), std::nullopt) << at;
  }
  EXPECT_EQ(unseal("MAGIC1\n", sealed.substr(0, sealed.size() - 1)), std::nullopt);
  EXPECT_EQ(unseal("MAGIC1\n", seal("MAGIC1\n", "")), std::nullopt);
}

} // namespace
} // namespace anet
