// SPDX-License-Identifier: MIT
#include "results.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace conformance {

std::string json_escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    const unsigned char c = (unsigned char)ch;
    if (c == '"' || c == '\\') {
      r += '\\';
      r += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      r += buf;
    } else {
      r += ch;
    }
  }
  return r;
}

result_log::result_log(std::string suite, uint64_t seed, std::string replay_prefix)
    : suite_(std::move(suite)), replay_prefix_(std::move(replay_prefix)), seed_(seed) {}

void result_log::record(const std::string& backend, const std::string& case_name, const std::string& check,
                        verdict v, const std::string& message, uint64_t case_seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::find(backends_.begin(), backends_.end(), backend) == backends_.end()) backends_.push_back(backend);
  results_.push_back({backend, case_name, check, v, message, case_seed});
  if (v == verdict::fail) {
    std::printf("FAIL [%s] %s :: %s: %s\n     replay: %s --backend '%s' --filter '%s'  (suite seed %llu, case seed %llu)\n",
                backend.c_str(), case_name.c_str(), check.c_str(), message.c_str(), replay_prefix_.c_str(),
                backend.c_str(), case_name.c_str(), (unsigned long long)seed_, (unsigned long long)case_seed);
    std::fflush(stdout);
  }
}

void result_log::add_backend_info(const std::string& backend, const std::string& json_object) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::find(backends_.begin(), backends_.end(), backend) == backends_.end()) backends_.push_back(backend);
  backend_info_[backend] = json_object;
}

void result_log::add_time(const std::string& backend, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  backend_seconds_[backend] += seconds;
}

size_t result_log::count(verdict v) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return (size_t)std::count_if(results_.begin(), results_.end(), [&](const check_result& r) { return r.outcome == v; });
}

size_t result_log::failures_for(const std::string& backend) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return (size_t)std::count_if(results_.begin(), results_.end(), [&](const check_result& r) {
    return r.outcome == verdict::fail && r.backend == backend;
  });
}

void result_log::print_summary(std::FILE* f) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::string& b : backends_) {
    std::map<std::string, size_t[3]> per_check;
    std::set<std::string> cases;
    for (const check_result& r : results_) {
      if (r.backend != b) continue;
      per_check[r.check][(int)r.outcome]++;
      cases.insert(r.case_name);
    }
    auto t = backend_seconds_.find(b);
    std::fprintf(f, "\nbackend %s: %zu cases, %.1f s (suite %s, seed %llu)\n", b.c_str(), cases.size(),
                 t == backend_seconds_.end() ? 0.0 : t->second, suite_.c_str(), (unsigned long long)seed_);
    std::fprintf(f, "  %-20s %8s %8s %8s\n", "check", "passed", "failed", "skipped");
    size_t tot[3] = {0, 0, 0};
    for (const auto& kv : per_check) {
      std::fprintf(f, "  %-20s %8zu %8zu %8zu%s\n", kv.first.c_str(), kv.second[0], kv.second[1], kv.second[2],
                   kv.second[1] ? "   <-- FAILED" : "");
      for (int i = 0; i < 3; ++i) tot[i] += kv.second[i];
    }
    std::fprintf(f, "  %-20s %8zu %8zu %8zu\n", "total", tot[0], tot[1], tot[2]);
  }
}

namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

// {"key": value, "key": value} on one line, so that every result is one line
// of the report (grep-able; the planted-bug tests match them).
std::string one_line(const json& object) {
  std::string out = "{";
  for (auto it = object.begin(); it != object.end(); ++it)
    out += (it == object.begin() ? "" : ", ") + dump(it.key()) + ": " + dump(it.value());
  return out + "}";
}

// The report: one top-level key per line, one array element per line.
std::string layout(const json& report) {
  std::string out = "{";
  for (auto it = report.begin(); it != report.end(); ++it) {
    out += (it == report.begin() ? "\n  " : ",\n  ") + dump(it.key()) + ": ";
    if (!it.value().is_array()) {
      out += dump(it.value());
      continue;
    }
    out += "[";
    for (size_t i = 0; i < it.value().size(); ++i)
      out += (i ? ",\n    " : "\n    ") + one_line(it.value()[i]);
    out += "\n  ]";
  }
  return out + "\n}\n";
}

}  // namespace

bool result_log::write_json(const std::string& path, std::string& error) const {
  std::lock_guard<std::mutex> lock(mutex_);
  static const char* names[3] = {"pass", "fail", "skip"};
  size_t tot[3] = {0, 0, 0};
  for (const check_result& r : results_) tot[(int)r.outcome]++;
  json j;
  j["suite"] = suite_;
  j["seed"] = seed_;
  j["passed"] = tot[0];
  j["failed"] = tot[1];
  j["skipped"] = tot[2];
  json backends = json::array();
  for (const std::string& b : backends_) {
    auto info = backend_info_.find(b);
    auto t = backend_seconds_.find(b);
    json entry;
    entry["name"] = b;
    const double seconds = t == backend_seconds_.end() ? 0.0 : t->second;
    entry["seconds"] = std::isfinite(seconds) ? json(seconds) : json(nullptr);
    entry["failed"] = std::count_if(results_.begin(), results_.end(), [&](const check_result& r) {
      return r.backend == b && r.outcome == verdict::fail;
    });
    // The backend's info is a JSON object written by its check; kept as a
    // string should it ever not parse.
    json parsed = info == backend_info_.end() ? json::object() : json::parse(info->second, nullptr, false);
    entry["info"] = parsed.is_discarded() ? json(info->second) : std::move(parsed);
    backends.push_back(std::move(entry));
  }
  j["backends"] = std::move(backends);
  json results = json::array();
  for (const check_result& r : results_) {
    json entry;
    entry["backend"] = r.backend;
    entry["case"] = r.case_name;
    entry["check"] = r.check;
    entry["verdict"] = names[(int)r.outcome];
    entry["case_seed"] = r.case_seed;
    entry["message"] = r.message;
    results.push_back(std::move(entry));
  }
  j["results"] = std::move(results);
  std::ofstream os(path);
  if (!os) {
    error = "cannot open " + path + " for writing";
    return false;
  }
  os << layout(j);  // nlohmann writes every value: escaped strings, no nan, invalid UTF-8 replaced
  if (!os) {
    error = "write to " + path + " failed";
    return false;
  }
  return true;
}

}  // namespace conformance
