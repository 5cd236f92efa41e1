#include "core/engine/call_budget.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/model/error.hpp"

namespace replicator::engine {

namespace asio = boost::asio;

struct CallBudget::Waiter {
  explicit Waiter(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool granted = false;
};

CallBudget::Permit& CallBudget::Permit::operator=(Permit&& o) noexcept {
  if (this != &o) {
    release();
    owner_ = o.owner_;
    o.owner_ = nullptr;
  }
  return *this;
}

void CallBudget::Permit::release() noexcept {
  if (owner_) {
    owner_->release_slot();
    owner_ = nullptr;
  }
}

CallBudget::CallBudget(asio::any_io_executor executor, int calls_per_window, int max_concurrent,
                       std::chrono::milliseconds window)
    : executor_(std::move(executor)),
      calls_per_window_(calls_per_window),
      max_concurrent_(max_concurrent < 1 ? 1 : max_concurrent),
      limit_(max_concurrent_),
      window_(window) {}

void CallBudget::on_rejected() noexcept {
  if (limit_ > 1) --limit_;
  successes_ = 0;
}

void CallBudget::on_success() noexcept {
  if (limit_ < max_concurrent_ && ++successes_ >= 20) {
    ++limit_;
    successes_ = 0;
    // A raised cap may let a waiter in.
    if (!waiters_.empty() && in_flight_ < limit_) {
      auto w = waiters_.front();
      waiters_.pop_front();
      ++in_flight_;
      w->granted = true;
      w->timer.cancel();
    }
  }
}

CallBudget::~CallBudget() {
  for (auto& w : waiters_) w->timer.cancel();
}

void CallBudget::release_slot() noexcept {
  // Hand the slot directly to the first waiter so that nobody can overtake it, unless the cap
  // was lowered meanwhile.
  while (!waiters_.empty() && in_flight_ <= limit_) {
    auto w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->timer.cancel();
    return;
  }
  --in_flight_;
}

void CallBudget::cancel_waiting() noexcept {
  ++generation_;
  for (auto& w : waiters_) w->timer.cancel();
  for (auto& w : window_queue_) w->timer.cancel();  // the head too, sleeping for room
}

asio::awaitable<CallBudget::Permit> CallBudget::acquire() {
  const std::uint64_t generation = generation_;
  if (in_flight_ < limit_ && waiters_.empty()) {
    ++in_flight_;
  } else {
    auto w = std::make_shared<Waiter>(executor_);
    waiters_.push_back(w);
    co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!w->granted) {
      // Woken without a slot (shutdown or cancel_waiting): leave the queue and give up.
      std::erase(waiters_, w);
      model::fail(model::ErrorKind::kCancelled, generation != generation_
                                                    ? "stopped while waiting for the call budget"
                                                    : "call budget closed while waiting for a slot");
    }
    // The releasing side kept in_flight_ unchanged: the slot moved to us.
  }
  Permit permit(this);
  if (calls_per_window_ > 0) {
    using clock = std::chrono::steady_clock;
    // Through the window in arrival order: only the head of the queue waits for room.
    auto me = std::make_shared<Waiter>(executor_);
    window_queue_.push_back(me);
    auto give_up = [&] {
      const bool head = window_queue_.front() == me;
      std::erase(window_queue_, me);
      if (head && !window_queue_.empty()) window_queue_.front()->timer.cancel();
      model::fail(model::ErrorKind::kCancelled, "stopped while waiting for the call budget");
    };
    while (window_queue_.front() != me) {
      co_await me->timer.async_wait(asio::as_tuple(asio::use_awaitable));  // woken by the head
      if (generation != generation_) give_up();
      me->timer.expires_at(asio::steady_timer::time_point::max());
    }
    for (;;) {
      if (generation != generation_) give_up();
      auto now = clock::now();
      while (!admissions_.empty() && admissions_.front() + window_ <= now) admissions_.pop_front();
      if (static_cast<int>(admissions_.size()) < calls_per_window_) break;
      me->timer.expires_at(admissions_.front() + window_);
      co_await me->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      throttled_seconds_ += std::chrono::duration<double>(clock::now() - now).count();
    }
    admissions_.push_back(clock::now());
    window_queue_.pop_front();
    if (!window_queue_.empty()) window_queue_.front()->timer.cancel();
  }
  ++admitted_;
  co_return permit;
}

}  // namespace replicator::engine
