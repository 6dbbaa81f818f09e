// SPDX-License-Identifier: MIT
/*
 * libmla loader — finds backend plugins, picks one, hands out its mla_api.
 *
 * A host engine links only this small library (libmla.so) and includes this
 * header; everything else is reached through the selected plugin's table
 * (mla_plugin.h).
 *
 * Discovery: plugins are files named libmla_backend_<name>.so, searched in
 *   1. each directory of MLA_BACKEND_PATH (colon-separated), in order;
 *   2. the loader's own directory and its "mla" subdirectory;
 *   3. the install directory (<prefix>/<libdir>/mla).
 * The first file found for a given <name> wins; later duplicates are listed
 * as skipped ("shadowed by ...") and never loaded.  A folder named in
 * MLA_BACKEND_PATH that cannot be read is listed too (name "", skipped).
 *
 * Selection by MLA_BACKEND (or options.backend, which takes precedence):
 *   - a name ("cpu", "cuda", "hip"): that plugin, or an error saying why not;
 *   - a comma-separated preference list ("cuda,hip,cpu"): the first usable;
 *   - "auto" or unset: the usable plugin with the highest probe score.
 * A plugin is skipped, with the reason recorded, when: dlopen fails, it has
 * no mla_get_api, its ABI major differs, its table is smaller than ABI 1.0,
 * its table's name differs from the file's <name> or has a NULL entry, or
 * its probe fails or reports it unusable (e.g. no GPU).
 *
 * Environment variables are ignored in setuid/setgid processes
 * (secure_getenv); options.search_path / options.backend still apply.
 *
 * Threading: an mla_loader is immutable after mla_loader_open returns; its
 * queries may be called from any thread.  Close it only after every context
 * created from its plugins has been destroyed (closing unloads the plugins).
 */
#ifndef MLA_H
#define MLA_H

#include "mla_plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MLA_LOADER_BUILD)
#define MLA_LOADER_API __attribute__((visibility("default")))
#else
#define MLA_LOADER_API
#endif

typedef struct mla_loader mla_loader; /* opaque, owned by the loader */

typedef struct mla_loader_options {
  size_t struct_size;      /* sizeof(mla_loader_options) */
  const char* backend;     /* NULL: MLA_BACKEND, else "auto"; borrowed for the call */
  const char* search_path; /* NULL: MLA_BACKEND_PATH; colon-separated; borrowed */
  int32_t ignore_environment; /* 1: read no environment variable at all */
  int32_t reserved0;       /* must be 0 */
} mla_loader_options;

typedef enum mla_plugin_state {
  MLA_PLUGIN_SELECTED = 0, /* this is the plugin mla_loader_api returns */
  MLA_PLUGIN_USABLE = 1,   /* loaded and usable, but not chosen */
  MLA_PLUGIN_SKIPPED = 2   /* not usable; `reason` says why */
} mla_plugin_state;

typedef struct mla_plugin_entry {
  size_t struct_size;      /* set by the caller: sizeof(mla_plugin_entry) */
  const char* path;        /* out: file the plugin was found at; owned by the loader */
  const char* name;        /* out: plugin name ("cpu"), or the file's <name> if never loaded */
  int32_t state;           /* out: mla_plugin_state */
  int32_t score;           /* out: probe score (0 when not probed) */
  uint32_t abi_major;      /* out: 0 when never loaded */
  uint32_t abi_minor;      /* out */
  const char* reason;      /* out: why skipped / device summary; owned by the loader */
  const mla_api* api;      /* out: the table, NULL when skipped */
} mla_plugin_entry;

/* Discover and select.  Returns MLA_OK with *out set even when no plugin was
 * selected (mla_loader_api then returns NULL and mla_loader_error says why),
 * so that tools can still list what was seen.  Fails only for bad arguments
 * or out of memory; *out is then NULL.  options may be NULL.               */
MLA_LOADER_API mla_status mla_loader_open(const mla_loader_options* options,
                                          mla_loader** out);
MLA_LOADER_API void mla_loader_close(mla_loader* loader); /* NULL is ignored */

/* The selected plugin's table, or NULL.  Lives until mla_loader_close.    */
MLA_LOADER_API const mla_api* mla_loader_api(const mla_loader* loader);
/* Why nothing was selected ("" when something was).  Owned by the loader. */
MLA_LOADER_API const char* mla_loader_error(const mla_loader* loader);

/* Every plugin file seen, in discovery order (plus unreadable search
 * folders, see Discovery).  mla_loader_plugin fails with
 * MLA_ERR_INVALID_ARGUMENT for a NULL argument or an index out of
 * [0, count), MLA_ERR_VERSION for entry->struct_size below ABI 1.0's.      */
MLA_LOADER_API int32_t mla_loader_plugin_count(const mla_loader* loader);
MLA_LOADER_API mla_status mla_loader_plugin(const mla_loader* loader, int32_t index,
                                            mla_plugin_entry* entry /* out */);

/* Human-readable names, static strings.                                    */
MLA_LOADER_API const char* mla_status_name(mla_status status);
MLA_LOADER_API const char* mla_dtype_name(mla_dtype dtype);

#ifdef __cplusplus
}
#endif
#endif /* MLA_H */
