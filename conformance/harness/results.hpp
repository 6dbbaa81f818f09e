// SPDX-License-Identifier: MIT
// Every check's verdict, the per-backend summary table, the JSON report and
// the final "N passed, N failed, N skipped" line.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace conformance {

enum class verdict { pass, fail, skip };

struct check_result {
  std::string backend, case_name, check;
  verdict outcome = verdict::pass;
  std::string message;  // why it failed or was skipped; a short measurement when passed
  uint64_t case_seed = 0;
};

class result_log {
 public:
  // `replay_prefix` is printed with each failure, e.g. "mla-conformance --suite quick --seed 7".
  result_log(std::string suite, uint64_t seed, std::string replay_prefix);

  void record(const std::string& backend, const std::string& case_name, const std::string& check, verdict v,
              const std::string& message, uint64_t case_seed);
  void pass(const std::string& b, const std::string& c, const std::string& check, const std::string& msg,
            uint64_t seed) { record(b, c, check, verdict::pass, msg, seed); }
  void fail(const std::string& b, const std::string& c, const std::string& check, const std::string& msg,
            uint64_t seed) { record(b, c, check, verdict::fail, msg, seed); }
  void skip(const std::string& b, const std::string& c, const std::string& check, const std::string& msg,
            uint64_t seed) { record(b, c, check, verdict::skip, msg, seed); }

  void add_backend_info(const std::string& backend, const std::string& json_object);
  void add_time(const std::string& backend, double seconds);

  size_t count(verdict v) const;
  size_t failures_for(const std::string& backend) const;
  void print_summary(std::FILE* f) const;
  bool write_json(const std::string& path, std::string& error) const;

 private:
  std::string suite_, replay_prefix_;
  uint64_t seed_;
  mutable std::mutex mutex_;
  std::vector<check_result> results_;
  std::vector<std::string> backends_;  // in order of first appearance
  std::map<std::string, std::string> backend_info_;
  std::map<std::string, double> backend_seconds_;
};

std::string json_escape(const std::string& s);

}  // namespace conformance
