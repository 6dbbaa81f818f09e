// SPDX-License-Identifier: MIT
/* A C host of the installed libmla.
 *   consumer <prefix> [backend]
 * Prints where the loader and the selected plugin live; with `backend`,
 * requires that plugin to be selected, from under <prefix>, and to create a
 * context.  Without, only requires the loader to open and close cleanly. */
#define _GNU_SOURCE
#include <mla/mla.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int under(const char* path, const char* prefix) {
  return strncmp(path, prefix, strlen(prefix)) == 0;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: consumer <prefix> [backend]\n");
    return 2;
  }
  const char* prefix = argv[1];
  const char* backend = argc > 2 ? argv[2] : NULL;

  Dl_info info;
  if (dladdr((void*)&mla_loader_open, &info) == 0 || !under(info.dli_fname, prefix)) {
    fprintf(stderr, "consumer: libmla is not the installed one (%s)\n",
            info.dli_fname ? info.dli_fname : "?");
    return 1;
  }
  printf("loader: %s\n", info.dli_fname);

  mla_loader* loader = NULL;
  mla_status status = mla_loader_open(NULL, &loader);
  if (status != MLA_OK) {
    fprintf(stderr, "consumer: mla_loader_open: %s\n", mla_status_name(status));
    return 1;
  }
  int ok = 1;
  const mla_api* api = mla_loader_api(loader);
  if (backend != NULL) {
    mla_plugin_entry entry;
    int32_t i;
    if (api == NULL || strcmp(api->name, backend) != 0) {
      fprintf(stderr, "consumer: %s not selected: %s\n", backend, mla_loader_error(loader));
      ok = 0;
    }
    for (i = 0; ok && i < mla_loader_plugin_count(loader); ++i) {
      memset(&entry, 0, sizeof entry);
      entry.struct_size = sizeof entry;
      if (mla_loader_plugin(loader, i, &entry) == MLA_OK && entry.state == MLA_PLUGIN_SELECTED) {
        printf("plugin: %s\n", entry.path);
        if (!under(entry.path, prefix)) {
          fprintf(stderr, "consumer: plugin not from the install prefix\n");
          ok = 0;
        }
      }
    }
    if (ok) {
      mla_context_desc desc;
      mla_context* ctx = NULL;
      memset(&desc, 0, sizeof desc);
      desc.struct_size = sizeof desc;
      status = api->context_create(&desc, &ctx);
      if (status != MLA_OK) {
        fprintf(stderr, "consumer: context_create: %s: %s\n", mla_status_name(status),
                api->last_error());
        ok = 0;
      } else {
        api->context_destroy(ctx);
      }
    }
  } else {
    printf("plugins seen: %d; selected: %s\n", (int)mla_loader_plugin_count(loader),
           api != NULL ? api->name : "none");
  }
  mla_loader_close(loader);
  return ok ? 0 : 1;
}
