// SPDX-License-Identifier: MIT
#include "concurrency_check.hpp"

#include "absorbed_problem.hpp"
#include "backend_session.hpp"
#include "device_case.hpp"
#include "output_checks.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <memory>
#include <mutex>

namespace conformance {
namespace {

// Runs `im` on a session; false with `error` set when the call fails.
bool produce(backend_session& s, const absorbed_images& im, host_tensor& out, host_tensor& lse, std::string& error) {
  device_absorbed dev(*s.memory, im);
  const call_outcome call = dev.execute(s.api, s.context);
  if (!call.ok()) {
    error = call.stage + " returned " + std::to_string((int)call.status) + ": " + call.message;
    return false;
  }
  dev.download_outputs(out, lse);
  return true;
}

}  // namespace

void run_concurrency_check(const mla_api* api, const session_config& base, int devices,
                           const std::vector<absorbed_case>& cases, int threads, int rounds, const std::string& backend,
                           const std::string& case_name, result_log& log) {
  std::vector<absorbed_images> images;
  for (const absorbed_case& c : cases) images.push_back(build_absorbed(c));
  std::vector<host_tensor> ref_out(images.size()), ref_lse(images.size());
  std::string error;
  {
    auto s = open_session(api, base, error);
    if (!s) {
      log.fail(backend, case_name, "concurrency", "reference session: " + error, 0);
      return;
    }
    for (size_t i = 0; i < images.size(); ++i)
      if (!produce(*s, images[i], ref_out[i], ref_lse[i], error)) {
        log.fail(backend, case_name, "concurrency", "reference run of " + cases[i].name + ": " + error, 0);
        return;
      }
  }
  std::mutex mutex;
  std::string first_failure;
  // Real threads, more than the cores: the arena and the global limit allow `threads`.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, (size_t)threads);
  tbb::task_arena arena(threads);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int>(0, threads, 1),
        [&](const tbb::blocked_range<int>& range) {
          for (int t = range.begin(); t != range.end(); ++t) {
            std::string err;
            try {
              session_config cfg = base;
              cfg.device = base.device + t % devices;  // one context per GPU, several per GPU
              auto s = open_session(api, cfg, err);
              for (int r = 0; s && r < rounds && err.empty(); ++r)
                for (size_t k = 0; k < images.size() && err.empty(); ++k) {
                  const size_t i = (k + (size_t)t) % images.size();  // threads start on different cases
                  host_tensor out, lse;
                  if (!produce(*s, images[i], out, lse, err)) break;
                  err = bitwise_difference(out, ref_out[i], "out");
                  if (err.empty()) err = bitwise_difference(lse, ref_lse[i], "lse");
                  if (!err.empty())
                    err = cases[i].name + ": " + err + " (thread " + std::to_string(t) + ", device " +
                          std::to_string(cfg.device) + ")";
                }
            } catch (const std::exception& e) {
              err = std::string("thread ") + std::to_string(t) + ": " + e.what();
            }
            if (!err.empty()) {
              std::lock_guard<std::mutex> lock(mutex);
              if (first_failure.empty()) first_failure = err;
            }
          }
        },
        tbb::simple_partitioner());
  });
  if (first_failure.empty())
    log.pass(backend, case_name, "concurrency",
             std::to_string(threads) + " host threads x " + std::to_string(rounds) + " rounds x " +
                 std::to_string(cases.size()) + " cases, a context each (" + std::to_string(devices) +
                 " device(s), " + std::to_string(base.num_threads) + " threads per context), bitwise equal",
             0);
  else
    log.fail(backend, case_name, "concurrency", first_failure, 0);
}

}  // namespace conformance
