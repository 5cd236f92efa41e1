#include "core/engine/sink_worker.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace replicator::engine {

namespace asio = boost::asio;

struct SinkWorker::Impl {
  asio::io_context ctx{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ctx.get_executor()};
  std::unique_ptr<Sink> sink;
  std::thread thread;
};

SinkWorker::SinkWorker(std::unique_ptr<Sink> sink, std::string name)
    : impl_(std::make_unique<Impl>()), name_(std::move(name)) {
  impl_->sink = std::move(sink);
  impl_->thread = std::thread([ctx = &impl_->ctx] { ctx->run(); });
}

SinkWorker::~SinkWorker() {
  impl_->guard.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void SinkWorker::post(std::function<void(Sink&)> work, std::function<void(std::exception_ptr)> done,
                      asio::any_io_executor done_executor) {
  // Keep the caller's context alive while the database works (a `once` run has nothing else
  // pending meanwhile).
  auto tracked = asio::prefer(done_executor, asio::execution::outstanding_work.tracked);
  asio::post(impl_->ctx, [this, work = std::move(work), done = std::move(done),
                          tracked = std::move(tracked)]() mutable {
    std::exception_ptr error;
    try {
      work(*impl_->sink);
    } catch (...) {
      error = std::current_exception();
    }
    asio::post(tracked, [done = std::move(done), error]() mutable { done(error); });
  });
}

asio::awaitable<void> SinkWorker::run(std::function<void(Sink&)> work) {
  auto ex = co_await asio::this_coro::executor;
  // A timer used as a one-shot event: the completion cancels it.
  auto event = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  auto finished = std::make_shared<bool>(false);
  auto error = std::make_shared<std::exception_ptr>();
  post(std::move(work),
       [event, finished, error](std::exception_ptr e) {
         *error = e;
         *finished = true;
         event->cancel();
       },
       ex);
  while (!*finished) co_await event->async_wait(asio::as_tuple(asio::use_awaitable));
  if (*error) std::rethrow_exception(*error);
}

}  // namespace replicator::engine
