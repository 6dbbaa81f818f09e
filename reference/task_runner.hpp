// SPDX-License-Identifier: MIT
// Where the cpu plugin's calls run: the one place that starts threads.
//
//   task_runner runner(threads, desc.parallel_for, desc.parallel_for_pool);
//   for_each_chunk(runner, n, grain, [&](int64_t begin, int64_t end, int task) { ... });
//
// A call is `count` <= threads tasks: task(arg, i) for every i in [0, count)
// exactly once, then run() returns.  Tasks never wait for one another (no
// barrier inside a call): each pulls work from a shared counter, so a task
// that starts late, or never gets a core, finds nothing left and returns, and
// running the tasks one after another is correct, only slower.  The task
// index is the task's scratch index (thread_scratch); which OS thread runs
// which task is unknown, so nothing that decides the results may depend on it
// (op A merges split partials in slot order, whoever finishes last).
//
// The tasks run on
//   - the host's pool: mla_context_desc.parallel_for (ABI 1.1), called with
//     the same count, task and arg (it may run them on any threads); or
//   - the context's own workers: threads - 1 std::threads started at the
//     context's first parallel call, joined when the context is destroyed
//     (no thread of the plugin outlives its contexts: dlclose is safe).  The
//     calling thread runs tasks too and takes every task no worker has
//     claimed yet.  Idle workers spin for at most kSpinMicros, then sleep on
//     a condition variable; the caller waits the same way for tasks that a
//     worker claimed.  A worker that is not on a core (the host's own threads
//     are busy) therefore delays nothing it has not started.
#pragma once
#include <mla/mla_plugin.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace mla_cpu {

// How long an idle worker, or a caller waiting for claimed tasks, polls
// before it sleeps.  Decode calls come back to back within a step (one per
// layer); a short poll saves the wake-up of the next call without holding a
// core that a neighbour wants.
constexpr int kSpinMicros = 50;

// The context's own threads (threads - 1 workers plus the caller).
class worker_pool {
 public:
  explicit worker_pool(int workers);
  ~worker_pool();  // stops and joins the workers
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  // task(arg, i) for i in [0, count); the caller takes part.
  void run(int32_t count, mla_task_fn task, void* arg);

 private:
  struct job {
    mla_task_fn task = nullptr;
    void* arg = nullptr;
    int32_t count = 0;
  };
  void worker_main();
  // Claims and runs tasks of generation `gen` until none is left.
  void run_claimed(uint32_t gen, const job& j);

  std::mutex mutex_;
  std::condition_variable wake_;  // workers: a new job or stop
  std::condition_variable done_;  // caller: the last claimed task returned
  job job_;                       // guarded by mutex_
  bool stop_ = false;             // guarded by mutex_
  std::atomic<uint32_t> generation_{0};
  // high 32 bits: generation, low 32 bits: next task to claim.  Claimed by
  // compare-exchange, so a worker that wakes late never claims a task of a
  // later job.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int32_t> finished_{0};  // tasks of the current job that returned
  std::vector<std::thread> threads_;
};

class task_runner {
 public:
  // threads >= 1; host_parallel_for NULL: the plugin's own workers.
  task_runner(int threads, mla_parallel_for_fn host_parallel_for, void* host_pool);
  ~task_runner();
  task_runner(const task_runner&) = delete;
  task_runner& operator=(const task_runner&) = delete;

  int threads() const { return threads_; }
  bool host_pool() const { return host_ != nullptr; }

  // task(arg, i) for every i in [0, count), count in [1, threads()];
  // returns when all returned.  count 1 runs on the calling thread.
  void run(int32_t count, mla_task_fn task, void* arg) const;

  // The same with a callable fn(int task).
  template <class Fn>
  void run(int32_t count, Fn&& fn) const {
    run(count, [](void* f, int32_t i) { (*static_cast<Fn*>(f))(i); }, &fn);
  }

 private:
  int threads_;
  mla_parallel_for_fn host_;
  void* host_pool_;
  mutable std::unique_ptr<worker_pool> own_;  // started at the first call with count > 1
};

// Runs body(begin, end, task) over [0, n) in chunks of `grain`, pulled from
// a shared counter by min(threads, chunks) tasks.  Each index is in exactly
// one chunk; the chunks are the same whoever runs them.
template <class Body>
void for_each_chunk(const task_runner& runner, int64_t n, int64_t grain, Body&& body) {
  if (n <= 0) return;
  const int64_t chunks = (n + grain - 1) / grain;
  const int32_t tasks = (int32_t)(chunks < runner.threads() ? chunks : runner.threads());
  std::atomic<int64_t> next{0};
  runner.run(tasks, [&](int32_t task) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      const int64_t begin = c * grain, end = begin + grain < n ? begin + grain : n;
      body(begin, end, (int)task);
    }
  });
}

}  // namespace mla_cpu
