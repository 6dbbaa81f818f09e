// SPDX-License-Identifier: MIT
// The cpu plugin's task runner (task_runner.hpp): the host's pool or the
// context's own workers.
#include "task_runner.hpp"

#include <chrono>
#include <system_error>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace mla_cpu {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Polls `ready` for at most kSpinMicros; true when it turned true.
template <class Ready>
bool spin_until(Ready&& ready) {
  using clock = std::chrono::steady_clock;
  const clock::time_point until = clock::now() + std::chrono::microseconds(kSpinMicros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
    if (clock::now() >= until) return ready();
  }
}

constexpr uint64_t ticket(uint32_t gen, uint32_t next) { return (uint64_t)gen << 32 | next; }

}  // namespace

// ---- worker_pool

worker_pool::worker_pool(int workers) {
  threads_.reserve((size_t)workers);
  for (int i = 0; i < workers; ++i) {
    try {
      threads_.emplace_back([this] { worker_main(); });
    } catch (const std::system_error&) {
      break;  // fewer workers: the caller takes the tasks nobody claims
    }
  }
}

worker_pool::~worker_pool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void worker_pool::run_claimed(uint32_t gen, const job& j) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if ((uint32_t)(t >> 32) != gen || (int32_t)(uint32_t)t >= j.count) return;
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    j.task(j.arg, (int32_t)(uint32_t)t);
    if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 == j.count) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller checks finished_ under the lock
      done_.notify_one();
    }
    t = ticket_.load(std::memory_order_acquire);
  }
}

void worker_pool::worker_main() {
  uint32_t seen = 0;
  for (;;) {
    spin_until([&] { return generation_.load(std::memory_order_acquire) != seen; });
    job j;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      j = job_;
    }
    run_claimed(seen, j);
  }
}

void worker_pool::run(int32_t count, mla_task_fn task, void* arg) {
  uint32_t gen;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    gen = generation_.load(std::memory_order_relaxed) + 1;
    job_ = {task, arg, count};
    finished_.store(0, std::memory_order_relaxed);
    ticket_.store(ticket(gen, 0), std::memory_order_release);
    generation_.store(gen, std::memory_order_release);
  }
  wake_.notify_all();
  run_claimed(gen, job_);
  // Every task is claimed now; wait for those that workers are running.
  if (!spin_until([&] { return finished_.load(std::memory_order_acquire) == count; })) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return finished_.load(std::memory_order_acquire) == count; });
  }
}

// ---- task_runner

task_runner::task_runner(int threads, mla_parallel_for_fn host_parallel_for, void* host_pool)
    : threads_(threads < 1 ? 1 : threads), host_(host_parallel_for), host_pool_(host_pool) {}

task_runner::~task_runner() = default;

void task_runner::run(int32_t count, mla_task_fn task, void* arg) const {
  if (count <= 0) return;
  if (host_) return host_(host_pool_, count, task, arg);
  if (count == 1) return task(arg, 0);
  if (!own_) own_ = std::make_unique<worker_pool>(threads_ - 1);
  own_->run(count, task, arg);
}

}  // namespace mla_cpu
