// SPDX-License-Identifier: MIT
#include "host_thread_pool.hpp"

namespace mla_tools {

host_thread_pool::host_thread_pool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_main(); });
}

host_thread_pool::~host_thread_pool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void host_thread_pool::take_tasks(std::unique_lock<std::mutex>& lock) {
  while (next_ < count_) {
    const int32_t i = next_++;
    const mla_task_fn task = task_;
    void* const arg = arg_;
    lock.unlock();
    task(arg, i);
    lock.lock();
    if (++finished_ == count_) done_.notify_all();
  }
}

void host_thread_pool::worker_main() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (uint64_t seen = generation_;; seen = generation_) {
    work_.wait(lock, [&] { return stop_ || generation_ != seen; });
    if (stop_) return;
    take_tasks(lock);
  }
}

void host_thread_pool::parallel_for(void* self, int32_t count, mla_task_fn task, void* arg) {
  host_thread_pool& p = *static_cast<host_thread_pool*>(self);
  std::unique_lock<std::mutex> lock(p.mutex_);
  p.task_ = task, p.arg_ = arg, p.count_ = count, p.next_ = 0, p.finished_ = 0;
  ++p.generation_, ++p.calls_;
  if (count > 1) p.work_.notify_all();
  p.take_tasks(lock);
  p.done_.wait(lock, [&] { return p.finished_ == p.count_; });
}

}  // namespace mla_tools
