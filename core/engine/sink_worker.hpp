// Runs a blocking Sink on its own thread so that database work never blocks an I/O thread
// (house style rule 8), and lets coroutines await it.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "core/engine/ports.hpp"

namespace replicator::engine {

// Owns one Sink and one thread. Work items run one at a time, in the order posted.
// Thread-safety: post() and run() may be called from any thread.
class SinkWorker {
 public:
  SinkWorker(std::unique_ptr<Sink> sink, std::string name);
  ~SinkWorker();  // finishes queued work, then joins
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;

  // Runs `work` on the sink thread, then `done` (with the exception `work` threw, if any) on
  // `done_executor`.
  void post(std::function<void(Sink&)> work, std::function<void(std::exception_ptr)> done,
            boost::asio::any_io_executor done_executor);
  // Awaitable form: resumes on the caller's executor; rethrows what `work` threw.
  boost::asio::awaitable<void> run(std::function<void(Sink&)> work);

  const std::string& name() const noexcept { return name_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

}  // namespace replicator::engine
