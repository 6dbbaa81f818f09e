// SPDX-License-Identifier: MIT
#include "backend_checks.hpp"

#include "low_precision.hpp"

#include <cstring>

namespace conformance {
namespace {

std::string mask_list(uint32_t mask) {
  std::string s;
  for (int d = 1; d < 32; ++d)
    if (mask & (1u << d)) s += (s.empty() ? "" : ",") + std::string(dtype_label(d));
  return s;
}

}  // namespace

void check_probe_and_caps(backend_session& s, result_log& log) {
  const std::string name = "backend/" + s.name;
  mla_probe_result pr{};
  pr.struct_size = sizeof pr;
  const mla_status st = s.api->probe(&pr);
  if (st != MLA_OK) log.fail(s.name, name + "/probe", "probe", "probe returned " + std::to_string((int)st), 0);
  else if (!pr.usable) log.fail(s.name, name + "/probe", "probe", std::string("probe says unusable: ") + pr.reason, 0);
  else if (memchr(pr.reason, 0, sizeof pr.reason) == nullptr) log.fail(s.name, name + "/probe", "probe", "reason not NUL-terminated", 0);
  else log.pass(s.name, name + "/probe", "probe", pr.reason, 0);

  const mla_caps& c = s.caps;
  std::string err;
  const uint32_t known = MLA_DTYPE_BIT(MLA_DTYPE_F32) | MLA_DTYPE_BIT(MLA_DTYPE_F16) | MLA_DTYPE_BIT(MLA_DTYPE_BF16) |
                         MLA_DTYPE_BIT(MLA_DTYPE_Q8_0) | MLA_DTYPE_BIT(MLA_DTYPE_FP8_E4M3);
  const uint32_t known_ops = MLA_OP_BIT(MLA_OP_ABSORBED) | MLA_OP_BIT(MLA_OP_MERGE) | MLA_OP_BIT(MLA_OP_DECOMPRESSED);
  if (c.ops == 0 || (c.ops & ~known_ops)) err = "ops mask " + std::to_string(c.ops) + " is empty or has unknown bits";
  else if ((c.q_dtypes | c.cache_dtypes | c.out_dtypes) & ~known) err = "a dtype mask has bits of no dtype";
  else if ((c.ops & MLA_OP_BIT(MLA_OP_ABSORBED)) && (!c.q_dtypes || !c.cache_dtypes || !c.out_dtypes))
    err = "op A claimed with an empty dtype mask";
  else if (c.max_heads < 1 || c.max_latent_dim < 1 || c.max_rope_dim < 0 || c.latent_dim_multiple < 1 ||
           c.max_page_size < 1)
    err = "a limit is out of range (max_heads, max_latent_dim >= 1, max_rope_dim >= 0, latent_dim_multiple >= 1, "
          "max_page_size >= 1)";
  else if (memchr(c.device_name, 0, sizeof c.device_name) == nullptr || c.device_name[0] == 0)
    err = "device_name is empty or not NUL-terminated";
  else if (c.max_latent_dim < 512 || c.max_rope_dim < 64)
    err = "does not claim DeepSeek's Dl=512, Dr=64";
  if (err.empty()) log.pass(s.name, name + "/caps", "caps", "", 0);
  else log.fail(s.name, name + "/caps", "caps", err, 0);
  // Claims the harness cannot verify yet are reported, never silently passed.
  for (int32_t d : {MLA_DTYPE_Q8_0, MLA_DTYPE_FP8_E4M3})
    if ((c.q_dtypes | c.cache_dtypes | c.out_dtypes) & MLA_DTYPE_BIT(d))
      log.skip(s.name, name + "/caps." + dtype_label(d), "caps",
               std::string("claims ") + dtype_label(d) + ", which this harness cannot generate yet: claim not verified",
               0);
}

std::string backend_info_json(const backend_session& s, const std::string& path) {
  const mla_caps& c = s.caps;
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"version\": \"%s\", \"path\": \"%s\", \"abi\": \"%u.%u\", \"device\": \"%s\", \"caps\": {\"ops\": %u, "
                "\"q_dtypes\": \"%s\", \"cache_dtypes\": \"%s\", \"out_dtypes\": \"%s\", \"max_heads\": %d, "
                "\"max_latent_dim\": %d, \"max_rope_dim\": %d, \"latent_dim_multiple\": %d, \"max_page_size\": %d}}",
                json_escape(s.api->version ? s.api->version : "").c_str(), json_escape(path).c_str(), s.api->abi_major,
                s.api->abi_minor, json_escape(c.device_name).c_str(), c.ops, mask_list(c.q_dtypes).c_str(),
                mask_list(c.cache_dtypes).c_str(), mask_list(c.out_dtypes).c_str(), c.max_heads, c.max_latent_dim,
                c.max_rope_dim, c.latent_dim_multiple, c.max_page_size);
  return buf;
}

}  // namespace conformance
