#include "tests/actito_sim/data_generation.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace replicator::actito_sim {
namespace {

constexpr std::int64_t kMsPerDay = 86'400'000;

std::vector<std::size_t> plateau_sizes(std::size_t budget, std::int64_t plateau_max, Rng& rng) {
  std::vector<std::size_t> sizes;
  const auto largest = static_cast<std::size_t>(std::max<std::int64_t>(plateau_max, 2));
  while (budget >= 2) {
    const std::size_t cap = std::min(largest, budget);
    const std::size_t size = 2 + static_cast<std::size_t>(rng.below(cap - 1));
    sizes.push_back(size);
    budget -= size;
  }
  return sizes;
}

}  // namespace

std::vector<SeededMoments> generate_history(std::size_t count, const HistoryOptions& options,
                                            Rng& rng) {
  std::vector<SeededMoments> rows(count);
  if (count == 0) return rows;
  const double share = std::clamp(options.plateau_share, 0.0, 1.0);
  const auto plateau_rows =
      static_cast<std::size_t>(std::llround(share * static_cast<double>(count)));
  const std::size_t import_budget = (plateau_rows + 1) / 2;
  std::size_t update_budget = plateau_rows - import_budget;

  // Groups of rows created at one moment: bulk imports and single creations, shuffled in time.
  std::vector<std::size_t> groups = plateau_sizes(import_budget, options.plateau_max, rng);
  std::size_t grouped = 0;
  for (auto size : groups) grouped += size;
  groups.resize(groups.size() + (count - grouped), 1);
  for (std::size_t i = groups.size(); i > 1; --i) std::swap(groups[i - 1], groups[rng.below(i)]);

  const std::int64_t history_ms = std::max<std::int64_t>(options.history_days, 1) * kMsPerDay;
  const std::int64_t start = options.anchor_ms - history_ms;
  const double step = static_cast<double>(history_ms - 1000) / static_cast<double>(groups.size());
  std::size_t row = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto jitter = static_cast<std::int64_t>(static_cast<double>(rng.below(1'000'000)) /
                                                  1'000'000.0 * step * 0.9);
    const std::int64_t created =
        start + static_cast<std::int64_t>(static_cast<double>(g) * step) + jitter;
    const bool bulk = groups[g] > 1;
    for (std::size_t k = 0; k < groups[g]; ++k, ++row) {
      SeededMoments& m = rows[row];
      m.created_ms = created;
      m.updated_ms = created;
      // Single creations are often edited later; bulk-imported rows mostly stay as imported.
      if (rng.chance(bulk ? 0.15 : 0.6)) {
        const std::int64_t room = options.anchor_ms - 1000 - created;
        if (room > 0) {
          m.updated_ms =
              created + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(room)));
          m.version = 1 + static_cast<std::uint32_t>(rng.below(3));
        }
      }
    }
  }

  // Bulk updates: one updateMoment stamped on many earlier rows (an ETL execution).
  for (std::size_t size : plateau_sizes(update_budget, options.plateau_max, rng)) {
    const std::int64_t earliest = options.anchor_ms - history_ms / 2;
    const std::int64_t moment =
        earliest +
        static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(history_ms / 2 - 1000)));
    const auto eligible = static_cast<std::size_t>(
        std::upper_bound(rows.begin(), rows.end(), moment,
                         [](std::int64_t t, const SeededMoments& m) { return t < m.created_ms; }) -
        rows.begin());
    for (std::size_t index : sample_indexes(eligible, std::min(size, eligible), rng)) {
      rows[index].updated_ms = moment;
      rows[index].version += 1;
    }
  }
  return rows;
}

std::vector<std::size_t> sample_indexes(std::size_t population, std::size_t count, Rng& rng) {
  std::vector<std::size_t> out;
  if (count >= population) {
    out.resize(population);
    for (std::size_t i = 0; i < population; ++i) out[i] = i;
    return out;
  }
  if (count * 4 < population) {
    std::unordered_set<std::size_t> chosen;
    chosen.reserve(count * 2);
    while (chosen.size() < count) chosen.insert(static_cast<std::size_t>(rng.below(population)));
    out.assign(chosen.begin(), chosen.end());
  } else {
    std::vector<std::size_t> all(population);
    for (std::size_t i = 0; i < population; ++i) all[i] = i;
    for (std::size_t i = 0; i < count; ++i) {
      std::swap(all[i], all[i + static_cast<std::size_t>(rng.below(population - i))]);
    }
    out.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace replicator::actito_sim
