// SPDX-License-Identifier: MIT
// A C++ host of the installed libmla.
//   consumer_cxx <prefix> [backend]
// Checks that the loader it runs against speaks the ABI major of the header
// it was built with and is at least that minor; with `backend`, requires
// that plugin to be selected and to create a context.
#include <mla/mla.h>

#include <cstdio>
#include <cstring>
#include <memory>

int main(int argc, char** argv) {
  if (argc < 2) return std::fprintf(stderr, "usage: consumer_cxx <prefix> [backend]\n"), 2;
  const char* backend = argc > 2 ? argv[2] : nullptr;
  uint32_t major = 0, minor = 0;
  const char* package = nullptr;
  mla_loader_version(&major, &minor, &package);
  std::printf("loader %s, ABI %u.%u; header ABI %d.%d\n", package, major, minor, MLA_ABI_MAJOR, MLA_ABI_MINOR);
  if (major != MLA_ABI_MAJOR || minor < MLA_ABI_MINOR)
    return std::fprintf(stderr, "consumer_cxx: the loader is older than the header\n"), 1;

  mla_loader* raw = nullptr;
  if (mla_loader_open(nullptr, &raw) != MLA_OK) return std::fprintf(stderr, "consumer_cxx: mla_loader_open\n"), 1;
  std::unique_ptr<mla_loader, decltype(&mla_loader_close)> loader(raw, mla_loader_close);
  const mla_api* api = mla_loader_api(loader.get());
  if (!backend) return std::printf("selected: %s\n", api ? api->name : "none"), 0;
  if (!api || std::strcmp(api->name, backend) != 0)
    return std::fprintf(stderr, "consumer_cxx: %s not selected: %s\n", backend, mla_loader_error(loader.get())), 1;
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* ctx = nullptr;
  if (api->context_create(&desc, &ctx) != MLA_OK)
    return std::fprintf(stderr, "consumer_cxx: context_create: %s\n", api->last_error()), 1;
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  const mla_status st = api->get_caps(ctx, &caps);
  api->context_destroy(ctx);
  if (st != MLA_OK) return std::fprintf(stderr, "consumer_cxx: get_caps: %s\n", api->last_error()), 1;
  std::printf("plugin %s: %s\n", api->name, caps.device_name);
  return 0;
}
