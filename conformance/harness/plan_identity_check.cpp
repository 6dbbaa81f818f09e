// SPDX-License-Identifier: MIT
#include "plan_identity_check.hpp"

#include "absorbed_problem.hpp"
#include "device_case.hpp"
#include "output_checks.hpp"

#include <memory>

namespace conformance {

void run_plan_identity_check(backend_session& s, const std::vector<absorbed_case>& cases, result_log& log) {
  const std::string name = "plan_identity/alternating_workspaces";
  if (cases.size() < 2) {
    log.skip(s.name, name, "plan_identity", "fewer than two small cases within the caps", 0);
    return;
  }
  try {
    std::vector<absorbed_images> images;
    for (const absorbed_case& c : cases) images.push_back(build_absorbed(c));
    std::vector<std::unique_ptr<device_absorbed>> devs;
    std::vector<host_tensor> out0(images.size()), lse0(images.size());
    // Each case planned and run into its own workspace, one after another:
    // every plan stays valid while the others are made.
    for (size_t i = 0; i < images.size(); ++i) {
      devs.push_back(std::make_unique<device_absorbed>(*s.memory, images[i]));
      const call_outcome call = devs[i]->execute(s.api, s.context);
      if (!call.ok()) {
        log.fail(s.name, name, "plan_identity", cases[i].name + ": " + call.stage + ": " + call.message, 0);
        return;
      }
      devs[i]->download_outputs(out0[i], lse0[i]);
    }
    // Runs only, newest plan first then oldest first.
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t k = 0; k < devs.size(); ++k) {
        const size_t i = pass == 0 ? devs.size() - 1 - k : k;
        devs[i]->repoison_outputs();
        const call_outcome call = devs[i]->run_again(s.api, s.context);
        if (!call.ok()) {
          log.fail(s.name, name, "plan_identity",
                   "run of " + cases[i].name + " after planning " + std::to_string(devs.size()) +
                       " workspaces: " + call.stage + ": " + call.message,
                   0);
          return;
        }
        host_tensor out, lse;
        devs[i]->download_outputs(out, lse);
        std::string err = bitwise_difference(out0[i], out, "out");
        if (err.empty() && cases[i].want_lse) err = bitwise_difference(lse0[i], lse, "lse");
        if (!err.empty()) {
          log.fail(s.name, name, "plan_identity", cases[i].name + ": " + err, 0);
          return;
        }
      }
    }
    log.pass(s.name, name, "plan_identity",
             std::to_string(devs.size()) + " workspaces planned, then run in both orders: bitwise equal", 0);
  } catch (const std::exception& e) {
    log.fail(s.name, name, "plan_identity", std::string("device error: ") + e.what(), 0);
  }
}

}  // namespace conformance
