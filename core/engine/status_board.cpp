#include "core/engine/status_board.hpp"

namespace replicator::engine {

void StatusBoard::update(const std::string& job, const std::string& stream,
                         const std::function<void(StreamStatus&)>& fn) {
  std::lock_guard lock(mutex_);
  auto& s = streams_[{job, stream}];
  s.job = job;
  s.stream = stream;
  fn(s);
}

std::vector<StreamStatus> StatusBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<StreamStatus> out;
  out.reserve(streams_.size());
  for (const auto& [k, v] : streams_) out.push_back(v);
  return out;
}

void StatusBoard::update_job(const std::string& job, const std::function<void(JobStatus&)>& fn) {
  std::lock_guard lock(mutex_);
  auto& j = jobs_[job];
  j.job = job;
  fn(j);
}

std::vector<JobStatus> StatusBoard::jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<JobStatus> out;
  out.reserve(jobs_.size());
  for (const auto& [k, v] : jobs_) out.push_back(v);
  return out;
}

void StatusBoard::clear() {
  std::lock_guard lock(mutex_);
  streams_.clear();
  jobs_.clear();
}

}  // namespace replicator::engine
