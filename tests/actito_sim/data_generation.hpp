// Deterministic randomness and the seeded history of creation/update moments, bulk plateaus
// included (contract 4.5, A22).
#pragma once

#include <cstdint>
#include <vector>

namespace replicator::actito_sim {

// SplitMix64 finaliser: a fast, well-mixed 64-bit hash.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// hash(seed, id, version, salt): the source of every generated attribute value.
constexpr std::uint64_t value_hash(std::uint64_t seed, std::int64_t id, std::uint64_t version,
                                   std::uint64_t salt) noexcept {
  return mix64(seed ^ mix64(static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ULL ^
                            mix64(version * 0xD1B54A32D192ED03ULL + salt)));
}

// A small deterministic PRNG (SplitMix64 stream). Not thread-safe; one per user.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) noexcept : state_(seed) {}
  std::uint64_t next() noexcept {
    state_ += 0x9E3779B97F4A7C15ULL;
    return mix64(state_);
  }
  // Uniform in [0, bound) for bound > 0 (the modulo bias is below 2^-40 for our bounds).
  std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }
  // True with probability `p`.
  bool chance(double p) noexcept {
    return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0) < p;
  }

 private:
  std::uint64_t state_;
};

// How seeded history looks.
struct HistoryOptions {
  std::int64_t anchor_ms = 0;       // "now" of the generation; every moment is before it
  std::int64_t history_days = 400;  // moments spread over this many days before anchor
  double plateau_share = 0.2;       // share of rows that sit in bulk plateaus
  std::int64_t plateau_max = 5000;  // largest plateau
};

struct SeededMoments {
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  std::uint32_t version = 0;
};

// Moments of `count` rows in id order: creationMoment is non-decreasing with the id (ids are
// assigned in creation order), creationMoment <= updateMoment < anchor. About half of the plateau
// share is bulk imports (consecutive ids sharing creation = update moment), the other half bulk
// updates (random earlier rows sharing one updateMoment).
std::vector<SeededMoments> generate_history(std::size_t count, const HistoryOptions& options,
                                            Rng& rng);

// Picks `count` distinct indexes in [0, population), in increasing order.
std::vector<std::size_t> sample_indexes(std::size_t population, std::size_t count, Rng& rng);

}  // namespace replicator::actito_sim
