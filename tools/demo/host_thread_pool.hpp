// SPDX-License-Identifier: MIT
// An engine's own thread pool, as mla-demo --host-pool hands it to the cpu
// plugin through mla_context_desc.parallel_for (ABI 1.1, docs/cpu.md).
// Deliberately plain: workers sleep on a condition variable between jobs,
// the calling thread takes tasks too, no spinning.  One job at a time: the
// demo calls the plugin from one thread (a pool that several contexts call
// at once, as abi.md 5.1 allows, needs a queue of jobs).
#pragma once
#include <mla/mla_plugin.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace mla_tools {

class host_thread_pool {
 public:
  explicit host_thread_pool(int threads);  // threads - 1 workers plus the caller
  ~host_thread_pool();                     // joins the workers
  host_thread_pool(const host_thread_pool&) = delete;
  host_thread_pool& operator=(const host_thread_pool&) = delete;

  int threads() const { return (int)workers_.size() + 1; }
  uint64_t calls() const { return calls_; }  // parallel_for calls so far (the caller's thread only)

  // An mla_parallel_for_fn; `self` is the pool.  Runs task(arg, i) for every
  // i in [0, count) and returns when all have returned.
  static void parallel_for(void* self, int32_t count, mla_task_fn task, void* arg);

 private:
  void worker_main();
  void take_tasks(std::unique_lock<std::mutex>& lock);  // runs unclaimed tasks of the current job

  std::mutex mutex_;
  std::condition_variable work_, done_;
  mla_task_fn task_ = nullptr;  // the current job, guarded by mutex_
  void* arg_ = nullptr;
  int32_t count_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  uint64_t calls_ = 0;
  std::vector<std::thread> workers_;
};

}  // namespace mla_tools
