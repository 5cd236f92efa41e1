// CallBudget on a real single-threaded io_context with a short window: the concurrency limit, the
// per-window admission limit, FIFO order, throttled time, and permits released by RAII.
#include "core/engine/call_budget.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "core/model/error.hpp"

namespace replicator::engine {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Spawns a coroutine whose failure is recorded, never swallowed (house style rule 5).
struct Spawner {
  explicit Spawner(asio::io_context& c) : ctx(c) {}
  asio::io_context& ctx;
  std::vector<std::string> errors;
  int finished = 0;

  void spawn(asio::awaitable<void> a) {
    asio::co_spawn(ctx, std::move(a), [this](std::exception_ptr e) {
      ++finished;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        errors.push_back(ex.what());
      }
    });
  }
};

asio::awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// What the workers observe. The coroutines below take the budget and the probe by reference:
// both live in the test body, which runs the io_context to completion before they go away.
struct Probe {
  int held = 0;
  int max_held = 0;
  int max_in_flight = 0;
  std::vector<int> order;
  std::vector<Clock::time_point> admitted_at;
  std::vector<int> in_flight_seen;
};

// Acquires, records, holds the permit for `hold`, then releases it.
asio::awaitable<void> worker(CallBudget& budget, Probe& probe, int id, Clock::duration hold) {
  auto permit = co_await budget.acquire();
  probe.admitted_at.push_back(Clock::now());
  probe.order.push_back(id);
  probe.in_flight_seen.push_back(budget.in_flight());
  probe.max_in_flight = std::max(probe.max_in_flight, budget.in_flight());
  probe.max_held = std::max(probe.max_held, ++probe.held);
  if (hold > Clock::duration::zero()) co_await sleep_for(hold);
  --probe.held;
}

// Coroutines are free functions taking references, not immediately invoked lambdas: a lambda's
// captures live in the closure, which dies at the end of the full expression that spawned it.
asio::awaitable<void> cancel_after(CallBudget& budget, Clock::duration delay) {
  co_await sleep_for(delay);
  budget.cancel_waiting();
}

asio::awaitable<void> cancel_then_two_calls(CallBudget& budget, Probe& probe) {
  budget.cancel_waiting();  // nobody waits: no effect on what follows
  co_await worker(budget, probe, 0, Clock::duration::zero());
  co_await worker(budget, probe, 1, Clock::duration::zero());
}

TEST(CallBudget, NeverMoreThanMaxConcurrentPermits) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 3);
  Spawner s{ctx};
  Probe probe;
  for (int i = 0; i < 20; ++i) {
    s.spawn(worker(budget, probe, i, std::chrono::milliseconds(1 + i % 4)));
  }
  ctx.run();
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(s.finished, 20);
  EXPECT_EQ(probe.max_held, 3);
  EXPECT_EQ(probe.max_in_flight, 3);
  EXPECT_EQ(budget.in_flight(), 0);
  EXPECT_EQ(budget.admitted(), 20);
  EXPECT_EQ(budget.throttled_seconds(), 0.0) << "no window limit: never throttled";
}

TEST(CallBudget, NeverMoreThanNAdmissionsPerWindow) {
  asio::io_context ctx;
  const auto window = 200ms;
  CallBudget budget(ctx.get_executor(), 5, 4, window);
  Spawner s{ctx};
  Probe probe;
  const auto start = Clock::now();
  for (int i = 0; i < 12; ++i) s.spawn(worker(budget, probe, i, Clock::duration::zero()));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  std::vector<Clock::time_point> at = probe.admitted_at;
  ASSERT_EQ(at.size(), 12u);
  std::sort(at.begin(), at.end());
  for (std::size_t i = 0; i + 5 < at.size(); ++i) {
    // Any window holds at most 5 admissions: the 6th comes a full window after the 1st.
    EXPECT_GE(at[i + 5] - at[i], window - 2ms) << i;
  }
  EXPECT_GE(Clock::now() - start, 2 * window - 2ms);
  EXPECT_EQ(budget.admitted(), 12);
  EXPECT_GT(budget.throttled_seconds(), 0.0);
  EXPECT_LE(probe.max_in_flight, 4);
}

TEST(CallBudget, SlotsAreHandedOutInArrivalOrder) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 1);
  Spawner s{ctx};
  Probe probe;
  s.spawn(worker(budget, probe, 0, 20ms));
  for (int i = 1; i < 10; ++i) s.spawn(worker(budget, probe, i, 1ms));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(probe.order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

// Holds a slot, releases it while "second" waits, and immediately starts a late comer.
asio::awaitable<void> release_then_spawn(CallBudget& budget, Probe& probe, Spawner& s) {
  auto permit = co_await budget.acquire();
  probe.order.push_back(1);
  co_await sleep_for(5ms);
  permit.release();  // the slot goes to "second", which has not resumed yet
  s.spawn(worker(budget, probe, 3, Clock::duration::zero()));
  co_await sleep_for(5ms);
}

TEST(CallBudget, LateComerDoesNotOvertakeAWaiterBeingWoken) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 1);
  Spawner s{ctx};
  Probe probe;
  s.spawn(release_then_spawn(budget, probe, s));
  s.spawn(worker(budget, probe, 2, 2ms));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(probe.order, (std::vector<int>{1, 2, 3}));
}

// Was a bug (fixed): callers waiting for room in the window sleep on separate timers with the same expiry and
// are not queued, so they are admitted in the timer heap's order (seen: 0 1 2 4 7 3 6 5), not in
// arrival order; a caller can be overtaken again and again while the budget is exhausted.
TEST(CallBudget, WindowAdmissionsAreInArrivalOrder) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 2, 8, 100ms);
  Spawner s{ctx};
  Probe probe;
  for (int i = 0; i < 8; ++i) s.spawn(worker(budget, probe, i, Clock::duration::zero()));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(probe.order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

asio::awaitable<void> three_calls(CallBudget& budget, double& after_two) {
  { auto p = co_await budget.acquire(); }
  { auto p = co_await budget.acquire(); }
  after_two = budget.throttled_seconds();
  { auto p = co_await budget.acquire(); }  // waits for the window
}

TEST(CallBudget, ThrottledSecondsGrowsOnlyWhenOverBudget) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 2, 4, 150ms);
  Spawner s{ctx};
  double after_two = -1;
  s.spawn(three_calls(budget, after_two));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(after_two, 0.0);
  EXPECT_GE(budget.throttled_seconds(), 0.140);
  EXPECT_EQ(budget.admitted(), 3);
}

asio::awaitable<void> permit_moves(CallBudget& budget) {
  {
    auto a = co_await budget.acquire();
    EXPECT_EQ(budget.in_flight(), 1);
    CallBudget::Permit moved(std::move(a));
    EXPECT_EQ(budget.in_flight(), 1) << "a move does not release";
    auto b = co_await budget.acquire();
    EXPECT_EQ(budget.in_flight(), 2);
    b = std::move(moved);  // b's own slot is released, moved's slot now lives in b
    EXPECT_EQ(budget.in_flight(), 1);
    b.release();
    b.release();  // idempotent
    EXPECT_EQ(budget.in_flight(), 0);
    auto c = co_await budget.acquire();
    EXPECT_EQ(budget.in_flight(), 1);
  }
  EXPECT_EQ(budget.in_flight(), 0) << "the destructor releases";
}

TEST(CallBudget, PermitsAreReleasedOnDestructionMoveAndRelease) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 2);
  Spawner s{ctx};
  s.spawn(permit_moves(budget));
  ctx.run();
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(s.finished, 1);
}

TEST(CallBudget, ReleasedSlotGoesToTheWaiterWithoutDroppingInFlight) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 1);
  Spawner s{ctx};
  Probe probe;
  s.spawn(worker(budget, probe, 0, 5ms));
  s.spawn(worker(budget, probe, 1, Clock::duration::zero()));
  ctx.run();
  ASSERT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(probe.in_flight_seen, (std::vector<int>{1, 1}));
  EXPECT_EQ(budget.in_flight(), 0);
  EXPECT_EQ(budget.admitted(), 2);
}

TEST(CallBudget, MaxConcurrentBelowOneMeansOne) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 0);
  Spawner s{ctx};
  Probe probe;
  for (int i = 0; i < 5; ++i) s.spawn(worker(budget, probe, i, 1ms));
  ctx.run();
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
  EXPECT_EQ(s.finished, 5);
  EXPECT_EQ(probe.max_held, 1);
}

TEST(CallBudget, CancelWaitingReleasesEveryWaiterAndLaterCallsProceed) {
  asio::io_context ctx;
  const auto window = 10s;  // whoever waits for the window would wait for 10 s
  CallBudget budget(ctx.get_executor(), 2, 1, window);
  Spawner s{ctx};
  Probe probe;
  // 0 is admitted and holds the only slot for 50 ms; 1 waits for the slot, then 1 and 2 (and 3)
  // would wait for the window, which 0 and 1 filled.
  for (int i = 0; i < 4; ++i) s.spawn(worker(budget, probe, i, i == 0 ? Clock::duration(50ms) : Clock::duration::zero()));
  const auto start = Clock::now();
  // 1 s: 1 is admitted by then even on a stalled machine; 2 waits for the window, 3 behind it.
  s.spawn(cancel_after(budget, 1s));
  ctx.run();
  EXPECT_LT(Clock::now() - start, 5s) << "cancel_waiting did not wake the window waiters (10 s)";
  EXPECT_EQ(probe.order, (std::vector<int>{0, 1}));
  ASSERT_EQ(s.errors.size(), 2u);
  for (const auto& e : s.errors) EXPECT_NE(e.find("stopped while waiting for the call budget"), std::string::npos) << e;
  EXPECT_EQ(budget.in_flight(), 0) << "a cancelled waiter kept its slot";

  // A later acquire is not cancelled: it waits for the window as usual (here: a short one).
  asio::io_context ctx2;
  CallBudget fresh(ctx2.get_executor(), 1, 1, 100ms);
  Spawner s2{ctx2};
  Probe p2;
  s2.spawn(cancel_then_two_calls(fresh, p2));
  ctx2.run();
  EXPECT_TRUE(s2.errors.empty());
  EXPECT_EQ(p2.order, (std::vector<int>{0, 1}));
}

TEST(CallBudget, CancelWaitingWakesSlotWaiters) {
  asio::io_context ctx;
  CallBudget budget(ctx.get_executor(), 0, 1);
  Spawner s{ctx};
  Probe probe;
  s.spawn(worker(budget, probe, 0, Clock::duration(300ms)));
  s.spawn(worker(budget, probe, 1, Clock::duration::zero()));
  s.spawn(cancel_after(budget, 20ms));
  ctx.run();
  EXPECT_EQ(probe.order, (std::vector<int>{0}));
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("stopped while waiting for the call budget"), std::string::npos);
  EXPECT_EQ(budget.in_flight(), 0);
}

}  // namespace
}  // namespace replicator::engine
