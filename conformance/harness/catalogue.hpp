// SPDX-License-Identifier: MIT
// The case catalogue: op-A and op-C cases generated from parameters, per
// suite.  Case data seeds come from the suite seed and the case's id, so a
// case replays with `--seed S --filter NAME` whatever else is filtered out.
#pragma once
#include "case_spec.hpp"

#include <mla/mla_plugin.h>

#include <string>
#include <vector>

namespace conformance {

enum class suite_kind { quick, full, stress };
bool parse_suite(const std::string& s, suite_kind& out);
const char* suite_label(suite_kind s);

struct catalogue {
  std::vector<absorbed_case> absorbed;
  std::vector<merge_case> merge;
  std::vector<decompressed_case> decompressed;  // op B
};

// Cases over f32/f16/bf16, heads up to 128, Dl/Dr 512/64 and odd sizes;
// each backend runs those within its caps (see fits_caps).
catalogue build_catalogue(suite_kind suite, uint64_t seed);
// Cases at the edges of what one backend claims (largest heads, dims, page size).
std::vector<absorbed_case> caps_edge_cases(const mla_caps& caps, uint64_t seed);

// "" when the backend claims everything the case uses, else what it lacks.
std::string fits_caps(const absorbed_case& c, const mla_caps& caps);
std::string fits_caps(const merge_case& c, const mla_caps& caps);
std::string fits_caps(const decompressed_case& c, const mla_caps& caps);

// Deterministic seeds: mixes the suite seed with a string id.
uint64_t case_seed(uint64_t suite_seed, const std::string& id);

}  // namespace conformance
