// SPDX-License-Identifier: MIT
// The cpu plugin on a host's thread pool (mla_context_desc.parallel_for,
// ABI 1.1): outputs bit-identical to the plugin's own threads at the same
// num_threads (the work split depends on num_threads only), for a real pool
// of std::threads and for a "pool" that runs the tasks one after another in
// reverse order; every parallel_for call asks for 1..num_threads tasks and
// gets each run exactly once.
#include "absorbed_case.hpp"
#include "plugin_handle.hpp"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace cpu_test;

namespace {

// What every pool records of the calls it got.
struct pool_calls {
  std::atomic<long> calls{0}, tasks{0};
  std::atomic<int> max_count{0};
  std::atomic<bool> bad{false};  // a count out of range or an index not run exactly once
  void record(int32_t count, const std::vector<int>& runs_per_index, int num_threads) {
    calls++;
    tasks += count;
    if (count > max_count) max_count = count;
    if (count < 1 || count > num_threads) bad = true;
    for (int r : runs_per_index)
      if (r != 1) bad = true;
  }
};

// A host engine's pool: `workers` std::threads sleep until a call comes;
// indices go out through one atomic counter and the calling thread takes
// them too.  One call at a time (one context per pool).
class thread_pool {
 public:
  thread_pool(int workers, int num_threads) : num_threads_(num_threads) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~thread_pool() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  static void parallel_for(void* self, int32_t count, mla_task_fn task, void* arg) {
    static_cast<thread_pool*>(self)->run(count, task, arg);
  }
  pool_calls stats;

 private:
  void run(int32_t count, mla_task_fn task, void* arg) {
    std::vector<std::atomic<int>> runs(count > 0 ? count : 0);
    {
      std::lock_guard<std::mutex> lock(m_);
      task_ = task, arg_ = arg, count_ = count, next_ = 0, done_ = 0, runs_ = runs.data();
      ++generation_;
    }
    cv_.notify_all();
    help();
    std::unique_lock<std::mutex> lock(m_);
    cv_.wait(lock, [&] { return done_ == count_; });
    runs_ = nullptr;
    std::vector<int> seen(runs.begin(), runs.end());
    stats.record(count, seen, num_threads_);
  }
  // Runs indices until none is left.
  void help() {
    std::unique_lock<std::mutex> lock(m_);
    while (next_ < count_) {
      const int32_t i = next_++;
      mla_task_fn task = task_;
      void* arg = arg_;
      std::atomic<int>* runs = runs_;
      lock.unlock();
      task(arg, i);
      runs[i]++;
      lock.lock();
      if (++done_ == count_) cv_.notify_all();
    }
  }
  void work() {
    long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      help();
    }
  }

  const int num_threads_;
  std::mutex m_;
  std::condition_variable cv_;
  mla_task_fn task_ = nullptr;
  void* arg_ = nullptr;
  int32_t count_ = 0, next_ = 0, done_ = 0;
  std::atomic<int>* runs_ = nullptr;
  long generation_ = 0;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// The calling thread runs the tasks one after another, last index first:
// correct (tasks never wait for one another), only slower.
struct serial_pool {
  int num_threads;
  pool_calls stats;
  static void parallel_for(void* self, int32_t count, mla_task_fn task, void* arg) {
    serial_pool& p = *static_cast<serial_pool*>(self);
    std::vector<int> runs(count > 0 ? count : 0, 0);
    for (int32_t i = count - 1; i >= 0; --i) task(arg, i), runs[i]++;
    p.stats.record(count, runs, p.num_threads);
  }
};

// A context on the plugin's own threads (pool NULL) or on a host pool.
class pool_context {
 public:
  pool_context(int threads, mla_parallel_for_fn parallel_for, void* pool, uint32_t flags = 0) {
    mla_context_desc desc{};
    desc.struct_size = sizeof desc;
    desc.num_threads = threads;
    desc.flags = flags;
    desc.parallel_for = parallel_for;
    desc.parallel_for_pool = pool;
    if (cpu_api().context_create(&desc, &ctx_) != MLA_OK)
      throw std::runtime_error(std::string("context_create: ") + cpu_api().last_error());
  }
  ~pool_context() { cpu_api().context_destroy(ctx_); }
  pool_context(const pool_context&) = delete;
  pool_context& operator=(const pool_context&) = delete;
  mla_context* get() const { return ctx_; }

 private:
  mla_context* ctx_ = nullptr;
};

// Plans and runs op A of `c` on `ctx` twice (a plan serves every layer); ""
// and the output bytes (out, then lse) when both runs match the oracle and
// each other.
std::string run_absorbed(const pool_context& ctx, absorbed_case& c, std::vector<unsigned char>* bytes) {
  const mla_api& api = cpu_api();
  size_t ws = 0;
  if (api.absorbed_workspace_size(ctx.get(), &c.args, &ws) != MLA_OK) return api.last_error();
  c.set_workspace(ws);
  if (api.absorbed_plan(ctx.get(), &c.args) != MLA_OK) return api.last_error();
  std::vector<unsigned char> first;
  for (int pass = 0; pass < 2; ++pass) {
    c.poison_outputs();
    if (api.absorbed_run(ctx.get(), &c.args) != MLA_OK) return api.last_error();
    if (std::string bad = c.check(); !bad.empty()) return bad;
    std::vector<unsigned char> b = c.out_bytes();
    b.insert(b.end(), c.lse_bytes().begin(), c.lse_bytes().end());
    if (pass == 0) first = b;
    else if (b != first) return "the second run differs from the first";
  }
  *bytes = first;
  return "";
}

std::vector<case_spec> absorbed_specs() {
  std::vector<case_spec> specs;
  case_spec decode;  // a decode step: one query per sequence, splits over keys
  decode.seed = 11;
  decode.heads = 16;
  decode.s_q = {1, 1, 1, 1};
  decode.s_k = {700, 513, 64, 1500};
  decode.page_size = 64;
  specs.push_back(decode);
  case_spec one_long = decode;  // B = 1: every task's items are splits of one tile
  one_long.seed = 12;
  one_long.s_q = {1};
  one_long.s_k = {4099};
  specs.push_back(one_long);
  case_spec prefill;  // query tiles, no splits; f32 and strided
  prefill.seed = 13;
  prefill.heads = 8;
  prefill.s_q = {40, 7, 0, 25};
  prefill.s_k = {40, 300, 5, 25};
  prefill.page_size = 16;
  prefill.q_dtype = prefill.cache_dtype = prefill.out_dtype = MLA_DTYPE_F32;
  prefill.strided = true;
  specs.push_back(prefill);
  return specs;
}

}  // namespace

TEST_CASE("host pool: op A is bit-identical to the plugin's own threads") {
  for (uint32_t flags : {0u, (uint32_t)MLA_CONTEXT_BATCH_INVARIANT})
    for (int threads : {1, 2, 3, 4})
      for (const case_spec& s : absorbed_specs()) {
        INFO(s.describe(), " threads=", threads, " flags=", flags);
        absorbed_case c(s);
        std::vector<unsigned char> own, pooled, serial;
        {
          pool_context ctx(threads, nullptr, nullptr, flags);
          REQUIRE(run_absorbed(ctx, c, &own) == "");
        }
        thread_pool pool(threads - 1, threads);
        {
          pool_context ctx(threads, thread_pool::parallel_for, &pool, flags);
          REQUIRE(run_absorbed(ctx, c, &pooled) == "");
        }
        serial_pool one{threads, {}};
        {
          pool_context ctx(threads, serial_pool::parallel_for, &one, flags);
          REQUIRE(run_absorbed(ctx, c, &serial) == "");
        }
        CHECK(pooled == own);
        CHECK(serial == own);
        CHECK(pool.stats.calls > 0);
        CHECK(one.stats.calls > 0);
        CHECK(!pool.stats.bad);
        CHECK(!one.stats.bad);
        if (s.seed == 11) CHECK(pool.stats.max_count == threads);  // decode: work for every task
      }
}

TEST_CASE("host pool: op C (merge_states) is bit-identical to the plugin's own threads") {
  const int P = 3, R = 64, H = 16, Dv = 128;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-1, 1), lse_dist(-5, 5);
  std::vector<float> parts_out((size_t)P * R * H * Dv), parts_lse((size_t)P * R * H);
  for (float& v : parts_out) v = unit(rng);
  for (float& v : parts_lse) v = lse_dist(rng);
  mla_merge_args a{};
  a.struct_size = sizeof a;
  a.num_parts = P, a.num_rows = R, a.num_heads = H, a.head_dim = Dv;
  a.parts_out = {sizeof(mla_tensor), parts_out.data(), MLA_DTYPE_F32, 0, {(int64_t)R * H * Dv, H * Dv, Dv, 1}};
  a.parts_lse = {sizeof(mla_tensor), parts_lse.data(), MLA_DTYPE_F32, 0, {(int64_t)R * H, H, 1, 0}};
  auto merge = [&](const pool_context& ctx) {
    std::vector<float> out((size_t)R * H * Dv, -1.0f), lse((size_t)R * H, -1.0f);
    mla_merge_args m = a;
    m.out = {sizeof(mla_tensor), out.data(), MLA_DTYPE_F32, 0, {H * Dv, Dv, 1, 0}};
    m.lse = {sizeof(mla_tensor), lse.data(), MLA_DTYPE_F32, 0, {H, 1, 0, 0}};
    REQUIRE(cpu_api().merge_states(ctx.get(), &m) == MLA_OK);
    out.insert(out.end(), lse.begin(), lse.end());
    return out;
  };
  for (int threads : {1, 2, 3}) {
    INFO("threads=", threads);
    std::vector<float> own, pooled, serial;
    {
      pool_context ctx(threads, nullptr, nullptr);
      own = merge(ctx);
    }
    thread_pool pool(threads - 1, threads);
    {
      pool_context ctx(threads, thread_pool::parallel_for, &pool);
      pooled = merge(ctx);
    }
    serial_pool one{threads, {}};
    {
      pool_context ctx(threads, serial_pool::parallel_for, &one);
      serial = merge(ctx);
    }
    CHECK(std::memcmp(own.data(), pooled.data(), own.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(own.data(), serial.data(), own.size() * sizeof(float)) == 0);
    CHECK(pool.stats.calls > 0);
    CHECK(!pool.stats.bad);
    CHECK(!one.stats.bad);
  }
}

TEST_CASE("host pool: contexts with their own pools run at once from distinct host threads") {
  std::vector<std::string> results(3);
  std::vector<std::thread> hosts;
  for (int w = 0; w < 3; ++w)
    hosts.emplace_back([w, &results] {
      case_spec s = absorbed_specs()[0];
      s.seed = 100 + w;
      absorbed_case c(s);
      thread_pool pool(1, 2);
      pool_context ctx(2, thread_pool::parallel_for, &pool);
      std::vector<unsigned char> bytes;
      for (int step = 0; step < 5 && results[w].empty(); ++step) results[w] = run_absorbed(ctx, c, &bytes);
    });
  for (std::thread& t : hosts) t.join();
  for (int w = 0; w < 3; ++w) {
    INFO("host thread ", w);
    CHECK(results[w] == "");
  }
}

TEST_CASE("host pool: parallel_for needs num_threads >= 1") {
  serial_pool one{1, {}};
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  desc.parallel_for = serial_pool::parallel_for;
  desc.parallel_for_pool = &one;
  mla_context* ctx = nullptr;
  CHECK(cpu_api().context_create(&desc, &ctx) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(std::string(cpu_api().last_error()).find("num_threads") != std::string::npos);
  CHECK(ctx == nullptr);
}
