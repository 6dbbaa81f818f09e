// SPDX-License-Identifier: MIT
// The fuzzers' input format and the memory the calls point into.
//
// An input is a header read by each target, then mutation records of ten
// bytes, [field][kind][value: 8 bytes little-endian], applied in order to a
// valid call built from the header.  Short inputs read as zeros, so every
// byte string is an input and the seed corpus can be written by hand
// (fuzz/make_seeds.py).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

namespace mla_fuzz {

class reader {
 public:
  reader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool more() const { return n_ > 0; }
  uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= (uint32_t)u8() << (8 * i);
    return v;
  }
  uint64_t u64() { return (uint64_t)u32() | (uint64_t)u32() << 32; }

 private:
  const uint8_t* p_;
  size_t n_;
};

// splitmix64: the shapes and values of the valid call, from a 4-byte seed.
struct rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int below(int n) { return (int)(next() % (uint64_t)n); }
  float unit() { return (float)((double)(next() >> 11) * 0x1p-53 * 2.0 - 1.0); }  // [-1, 1)
};

// One mutation record.
struct mutation {
  uint8_t field, kind;
  uint64_t value;
};
inline mutation read_mutation(reader& r) {
  mutation m;
  m.field = r.u8();
  m.kind = r.u8();
  m.value = r.u64();
  return m;
}

// Values an integer field takes: specials (boundaries of every check and
// of int32/int64 arithmetic), small steps, products, raw bits.
inline int64_t mutate_int(int64_t orig, uint8_t kind, uint64_t value) {
  static const int64_t special[] = {0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1023,
                                    1024, 1025, 4096, 65535, 65536, INT16_MAX, INT32_MAX, INT32_MIN, INT32_MAX - 1,
                                    int64_t(1) << 31, int64_t(1) << 32, int64_t(1) << 40, int64_t(1) << 55,
                                    (int64_t(1) << 56) - 1, int64_t(1) << 56, int64_t(1) << 62, INT64_MAX, INT64_MIN};
  switch (kind % 4) {
    case 0: return special[value % (sizeof special / sizeof special[0])];
    case 1: return (int64_t)((uint64_t)orig + (uint64_t)(int64_t)(int8_t)value);
    case 2: return (int64_t)value;
    default: return (int64_t)((uint64_t)orig * (uint64_t)((int64_t)(value % 7) - 3));
  }
}

inline float mutate_float(uint8_t kind, uint64_t value) {
  static const float special[] = {0.0f, -0.0f, 1.0f, 0.5f, 0.0625f, 1e-45f, 1e-38f, 1e-10f, 100.0f, 65536.0f,
                                  65536.01f, 1e10f, 1e38f, 3.4e38f, -1.0f,
                                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                  std::numeric_limits<float>::quiet_NaN()};
  if (kind % 2 == 0) return special[value % (sizeof special / sizeof special[0])];
  float f;
  const uint32_t bits = (uint32_t)value;
  std::memcpy(&f, &bits, 4);
  return f;
}

// The call's buffers: each an exact-size heap allocation, so that ASan's
// redzones catch any byte a plugin touches outside what the call described.
class buffers {
 public:
  // Returns the buffer's id.
  int add(size_t bytes) {
    bufs_.push_back({std::unique_ptr<unsigned char[]>(new unsigned char[bytes ? bytes : 1]), bytes});
    std::memset(bufs_.back().data.get(), 0, bytes ? bytes : 1);
    return (int)bufs_.size() - 1;
  }
  unsigned char* data(int id) const { return bufs_[(size_t)id].data.get(); }
  size_t size(int id) const { return bufs_[(size_t)id].bytes; }
  int count() const { return (int)bufs_.size(); }
  // A pointer a mutation may set: NULL, or into (or just past) any buffer.
  void* pointer(uint64_t value) const {
    const uint64_t id = value % (uint64_t)(bufs_.size() + 1);
    if (id == bufs_.size()) return nullptr;
    const size_t bytes = bufs_[(size_t)id].bytes;
    return bufs_[(size_t)id].data.get() + ((value >> 8) % (bytes + 1));
  }
  // True when [first, last) lies inside one buffer (an empty range always).
  bool inside(uintptr_t first, uintptr_t last) const {
    if (first >= last) return true;
    for (const auto& b : bufs_) {
      const uintptr_t lo = reinterpret_cast<uintptr_t>(b.data.get());
      if (first >= lo && last <= lo + b.bytes) return true;
    }
    return false;
  }
  std::vector<std::vector<unsigned char>> snapshot() const {
    std::vector<std::vector<unsigned char>> s;
    for (const auto& b : bufs_) s.emplace_back(b.data.get(), b.data.get() + b.bytes);
    return s;
  }
  bool unchanged_since(const std::vector<std::vector<unsigned char>>& s) const {
    for (size_t i = 0; i < bufs_.size(); ++i)
      if (bufs_[i].bytes > 0 && std::memcmp(s[i].data(), bufs_[i].data.get(), bufs_[i].bytes) != 0) return false;
    return true;
  }

 private:
  struct buffer {
    std::unique_ptr<unsigned char[]> data;
    size_t bytes;
  };
  std::vector<buffer> bufs_;
};

}  // namespace mla_fuzz
