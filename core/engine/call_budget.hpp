// The call budget of one Actito connection, shared by every job that uses it: at most N requests
// in flight and at most M admitted per sliding minute (wire contract 2.5), paced locally so the
// server never has to hold or reject our requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace replicator::engine {

// Thread-safety: used from ONE executor (the connection's single-threaded context); no locks.
// Lifetime: owned by the connection's client; it must outlive every acquire() in progress and
// every Permit it handed out (the client is destroyed only after its context stopped).
class CallBudget {
 public:
  // RAII slot: releases the concurrency slot on destruction.
  class Permit {
   public:
    Permit() = default;
    explicit Permit(CallBudget* owner) : owner_(owner) {}
    Permit(Permit&& o) noexcept : owner_(o.owner_) { o.owner_ = nullptr; }
    Permit& operator=(Permit&& o) noexcept;
    ~Permit() { release(); }
    void release() noexcept;

   private:
    CallBudget* owner_ = nullptr;
  };

  CallBudget(boost::asio::any_io_executor executor, int calls_per_window, int max_concurrent,
             std::chrono::milliseconds window = std::chrono::minutes(1));
  ~CallBudget();

  // Waits for a concurrency slot, then for room in the window. The time spent waiting for the
  // window is added to throttled_seconds().
  boost::asio::awaitable<Permit> acquire();

  // Every acquire() waiting now (for a slot or for the window) gives up with
  // model::Error(kCancelled): stopping must not wait for the budget. Later acquires are not
  // affected. Call on the budget's executor.
  void cancel_waiting() noexcept;

  // A 429 "too many concurrent requests" means other clients share the licence: lower our own
  // concurrency by one (never below 1). Successes raise it back, one slot per 20 successes.
  void on_rejected() noexcept;
  void on_success() noexcept;
  int concurrency_limit() const noexcept { return limit_; }

  double throttled_seconds() const noexcept { return throttled_seconds_; }
  int in_flight() const noexcept { return in_flight_; }
  std::int64_t admitted() const noexcept { return admitted_; }

 private:
  struct Waiter;
  void release_slot() noexcept;

  boost::asio::any_io_executor executor_;
  int calls_per_window_;
  int max_concurrent_;
  int limit_;  // current cap, between 1 and max_concurrent_
  int successes_ = 0;
  std::chrono::milliseconds window_;
  int in_flight_ = 0;
  std::int64_t admitted_ = 0;
  double throttled_seconds_ = 0;
  std::deque<std::chrono::steady_clock::time_point> admissions_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::deque<std::shared_ptr<Waiter>> window_queue_;  // FIFO of callers waiting for the window
  std::uint64_t generation_ = 0;            // bumped by cancel_waiting()
};

}  // namespace replicator::engine
