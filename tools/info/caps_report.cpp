// SPDX-License-Identifier: MIT
#include "caps_report.hpp"

namespace mla::info {
namespace {

const char* op_name(unsigned op) {
  switch (op) {
    case MLA_OP_ABSORBED: return "absorbed";
    case MLA_OP_MERGE: return "merge";
    case MLA_OP_DECOMPRESSED: return "decompressed";
  }
  return nullptr;
}

}  // namespace

void print_ops(std::FILE* out, uint32_t ops) {
  bool any = false;
  for (unsigned op = 0; op < 32; ++op) {
    if ((ops & (1u << op)) == 0) continue;
    const char* name = op_name(op);
    if (name != nullptr)
      std::fprintf(out, "%s%s", any ? ", " : "", name);
    else
      std::fprintf(out, "%sop%u", any ? ", " : "", op);
    any = true;
  }
  if (!any) std::fprintf(out, "none");
}

void print_dtypes(std::FILE* out, uint32_t dtypes) {
  bool any = false;
  for (unsigned d = 0; d < 32; ++d) {
    if ((dtypes & MLA_DTYPE_BIT(d)) == 0) continue;
    std::fprintf(out, "%s%s", any ? " " : "", mla_dtype_name(static_cast<mla_dtype>(d)));
    any = true;
  }
  if (!any) std::fprintf(out, "none");
}

bool print_caps(std::FILE* out, const mla_api& api, const char* indent) {
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* ctx = nullptr;
  mla_status status = api.context_create(&desc, &ctx);
  if (status != MLA_OK) {
    std::fprintf(out, "%scontext_create failed: %s: %s\n", indent, mla_status_name(status),
                 api.last_error());
    return false;
  }
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  status = api.get_caps(ctx, &caps);
  if (status != MLA_OK) {
    std::fprintf(out, "%sget_caps failed: %s: %s\n", indent, mla_status_name(status),
                 api.last_error());
    api.context_destroy(ctx);
    return false;
  }
  caps.device_name[sizeof caps.device_name - 1] = '\0';
  std::fprintf(out, "%sdevice        %s\n", indent, caps.device_name);
  std::fprintf(out, "%sops           ", indent);
  print_ops(out, caps.ops);
  std::fprintf(out, "\n%sq dtypes      ", indent);
  print_dtypes(out, caps.q_dtypes);
  std::fprintf(out, "\n%scache dtypes  ", indent);
  print_dtypes(out, caps.cache_dtypes);
  std::fprintf(out, "\n%sout dtypes    ", indent);
  print_dtypes(out, caps.out_dtypes);
  std::fprintf(out, "\n%smax heads     %d\n", indent, caps.max_heads);
  std::fprintf(out, "%slatent dim    <= %d, multiple of %d\n", indent, caps.max_latent_dim,
               caps.latent_dim_multiple);
  std::fprintf(out, "%srope dim      <= %d\n", indent, caps.max_rope_dim);
  std::fprintf(out, "%spage size     1 .. %d\n", indent, caps.max_page_size);
  // ABI 1.1: where backend memory lives, the kernel variants, context flags
  // (zero from a 1.0 plugin, which never writes them).
  static const char* kinds[] = {"unknown (an ABI 1.0 plugin does not say)", "host", "device", "managed"};
  static const char* apis[] = {"", ", CUDA runtime", ", HIP runtime"};
  const int kind = caps.memory_kind >= 0 && caps.memory_kind <= 3 ? caps.memory_kind : 0;
  const int dev_api = caps.device_api >= 0 && caps.device_api <= 2 ? caps.device_api : 0;
  std::fprintf(out, "%smemory        %s%s\n", indent, kinds[kind], apis[dev_api]);
  caps.kernels[sizeof caps.kernels - 1] = '\0';
  std::fprintf(out, "%skernels       %s\n", indent, caps.kernels[0] ? caps.kernels : "(one)");
  std::fprintf(out, "%scontext flags %s\n", indent,
               caps.context_flags & MLA_CONTEXT_BATCH_INVARIANT ? "batch-invariant" : "none");
  if (caps.struct_size >= MLA_CAPS_SIZE_1_1 && (caps.ops & MLA_OP_BIT(MLA_OP_DECOMPRESSED))) {
    std::fprintf(out, "%sop B weights  ", indent);
    print_dtypes(out, caps.weight_dtypes);
    std::fprintf(out, "\n%sop B dims     nope <= %d, v <= %d\n", indent, caps.max_nope_dim, caps.max_v_dim);
    std::fprintf(out, "%sop B auto     decompressed form from %d queries per sequence (break-even)\n", indent,
                 caps.decompressed_break_even_q);
  }
  api.context_destroy(ctx);
  return true;
}

}  // namespace mla::info
