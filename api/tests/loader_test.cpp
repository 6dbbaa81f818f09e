// SPDX-License-Identifier: MIT
// Loader tests against fake plugins (fake_plugin.cpp) in test folders:
//   fake/good     alpha (score 10), beta (50), nodev (unusable: "no device")
//   fake/dup      a second alpha (99): shadowed when good/ comes first
//   fake/tie      twin (50): ties with beta
//   fake/bad      future (ABI major 2), nulltable, smalltable, probefail,
//                 liar (file "liar", table "alpha"), nosym (no mla_get_api)
//   fake/hostile  crash (its probe aborts the process)
//   fake/scores   honest (MLA_MAX_SCORE), zcheat (INT32_MAX), below (-5)
//   fake/isolated the test copy of the loader; isolated/mla holds delta (1)
//   fake/install  the test loader's install folder: gamma (2)
// Junk files, FIFOs and copies under other names are made at test time
// under MLA_TEST_SCRATCH.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <mla/mla.h>

#include <dlfcn.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>
#include <string>
#include <vector>

namespace {

std::string fake_dir(const std::string& sub) { return std::string(MLA_TEST_FAKE_ROOT) + "/" + sub; }
std::string fake_file(const std::string& sub, const std::string& name) {
  return fake_dir(sub) + "/libmla_backend_" + name + ".so";
}

// Sets (or unsets, with nullptr) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = std::string(old);
    if (value != nullptr) setenv(name, value, 1); else unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1); else unsetenv(name_);
  }
 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Owns an open loader; the options are the test's.
struct Loader {
  mla_loader* handle = nullptr;
  explicit Loader(const char* backend, const char* search_path, bool ignore_environment = true) {
    mla_loader_options options{};
    options.struct_size = sizeof options;
    options.backend = backend;
    options.search_path = search_path;
    options.ignore_environment = ignore_environment ? 1 : 0;
    REQUIRE(mla_loader_open(&options, &handle) == MLA_OK);
    REQUIRE(handle != nullptr);
  }
  explicit Loader(std::nullptr_t) { REQUIRE(mla_loader_open(nullptr, &handle) == MLA_OK); }
  ~Loader() { mla_loader_close(handle); }
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  std::string selected() const {
    const mla_api* api = mla_loader_api(handle);
    return api != nullptr ? api->name : "";
  }
  std::string error() const { return mla_loader_error(handle); }
  std::vector<mla_plugin_entry> entries() const {
    std::vector<mla_plugin_entry> list;
    for (int32_t i = 0; i < mla_loader_plugin_count(handle); ++i) {
      mla_plugin_entry entry{};
      entry.struct_size = sizeof entry;
      REQUIRE(mla_loader_plugin(handle, i, &entry) == MLA_OK);
      list.push_back(entry);
    }
    return list;
  }
  // The entry found at `path`; fails the test if there is none.
  mla_plugin_entry entry_at(const std::string& path) const {
    for (const auto& entry : entries())
      if (path == entry.path) return entry;
    FAIL("no entry for " << path);
    return {};
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether the dynamic loader still has `path` loaded in this process.
bool is_loaded(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

std::string scratch_dir(const std::string& name) {
  const std::string dir = std::string(MLA_TEST_SCRATCH) + "/" + name;
  mkdir(MLA_TEST_SCRATCH, 0755);
  mkdir(dir.c_str(), 0755);
  return dir;
}

// Runs `body` in a child process with a time limit: "" when it returned 0,
// else what happened to it.  A test of something that used to crash or hang
// the host then fails instead of taking the test run with it.
std::string in_child(const std::function<int()>& body, unsigned seconds = 20) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    // The child dies of its own signals, not through doctest's handlers.
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM}) signal(sig, SIG_DFL);
    alarm(seconds);
    _exit(body());
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return "fork/waitpid failed";
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "" : "child failed check " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("child killed by ") + strsignal(WTERMSIG(status)) + (WTERMSIG(status) == SIGALRM ? " (hung)" : "");
  return "child ended oddly";
}

// An open loader in a child process (no doctest there): the entry at `path`.
std::optional<mla_plugin_entry> child_entry(mla_loader* loader, const std::string& path) {
  for (int32_t i = 0; i < mla_loader_plugin_count(loader); ++i) {
    mla_plugin_entry e{};
    e.struct_size = sizeof e;
    if (mla_loader_plugin(loader, i, &e) == MLA_OK && path == e.path) return e;
  }
  return std::nullopt;
}

mla_loader* child_open(const char* backend, const std::string& search_path) {
  mla_loader_options options{};
  options.struct_size = sizeof options;
  options.backend = backend;
  options.search_path = search_path.c_str();
  options.ignore_environment = 1;
  mla_loader* loader = nullptr;
  return mla_loader_open(&options, &loader) == MLA_OK ? loader : nullptr;
}

}  // namespace

TEST_CASE("selection by name") {
  const std::string good = fake_dir("good");
  Loader loader("alpha", good.c_str());
  CHECK(loader.selected() == "alpha");
  CHECK(loader.error() == "");
  const auto alpha = loader.entry_at(fake_file("good", "alpha"));
  CHECK(alpha.state == MLA_PLUGIN_SELECTED);
  CHECK(std::string(alpha.name) == "alpha");
  CHECK(alpha.score == 10);
  CHECK(alpha.abi_major == MLA_ABI_MAJOR);
  CHECK(alpha.abi_minor == MLA_ABI_MINOR);
  CHECK(alpha.api == mla_loader_api(loader.handle));
  CHECK(std::string(alpha.reason) == "fake device alpha");
  // Only the named plugin was opened (issue 11): the others are listed, never loaded.
  for (const char* other : {"beta", "nodev"}) {
    const auto entry = loader.entry_at(fake_file("good", other));
    CHECK(entry.state == MLA_PLUGIN_SKIPPED);
    CHECK(std::string(entry.reason) == "not loaded: options.backend=alpha does not name it");
    CHECK(entry.api == nullptr);
    CHECK(entry.abi_major == 0);
    CHECK(!is_loaded(fake_file("good", other)));
  }
  Loader all("auto", good.c_str());
  CHECK(all.entry_at(fake_file("good", "alpha")).state == MLA_PLUGIN_USABLE);
  const auto nodev = all.entry_at(fake_file("good", "nodev"));
  CHECK(nodev.state == MLA_PLUGIN_SKIPPED);
  CHECK(std::string(nodev.reason) == "no device");
  CHECK(nodev.api == nullptr);
}

TEST_CASE("auto: the highest score wins, ties go to discovery order") {
  const std::string good = fake_dir("good");
  CHECK(Loader("auto", good.c_str()).selected() == "beta");
  CHECK(Loader(nullptr, good.c_str()).selected() == "beta");  // unset means auto
  CHECK(Loader("", good.c_str()).selected() == "beta");
  // nodev reports the highest score (90) but is unusable: never chosen.
  const std::string good_then_tie = good + ":" + fake_dir("tie");
  CHECK(Loader("auto", good_then_tie.c_str()).selected() == "beta");
  const std::string tie_then_good = fake_dir("tie") + ":" + good;
  CHECK(Loader("auto", tie_then_good.c_str()).selected() == "twin");
}

TEST_CASE("a list takes the first usable plugin in list order") {
  const std::string good = fake_dir("good");
  CHECK(Loader("nodev,alpha,beta", good.c_str()).selected() == "alpha");
  CHECK(Loader(" missing , beta ,alpha", good.c_str()).selected() == "beta");
  CHECK(Loader("nodev,auto", good.c_str()).selected() == "beta");
  Loader list("alpha,beta", good.c_str());
  const auto beta = list.entry_at(fake_file("good", "beta"));
  CHECK(beta.state == MLA_PLUGIN_SKIPPED);  // never needed, so never loaded
  CHECK(std::string(beta.reason) == "not loaded: options.backend=alpha,beta chose an earlier item");
}

TEST_CASE("a name that matches nothing: a clear error listing what was seen") {
  const std::string good = fake_dir("good");
  {
    Loader loader("foo", good.c_str());
    CHECK(mla_loader_api(loader.handle) == nullptr);
    CHECK(contains(loader.error(), "options.backend=foo: no plugin named 'foo' (seen: alpha, beta, "
                                   "nodev, delta, gamma; searched: " +
                                       good));
    for (const auto& entry : loader.entries()) CHECK(entry.state != MLA_PLUGIN_SELECTED);
  }
  {
    ScopedEnv backend("MLA_BACKEND", "foo");
    Loader loader(nullptr, good.c_str(), false);
    CHECK(mla_loader_api(loader.handle) == nullptr);
    CHECK(contains(loader.error(), "MLA_BACKEND=foo: no plugin named 'foo' (seen: alpha"));
  }
  {
    Loader loader("nodev,missing", good.c_str());
    CHECK(mla_loader_api(loader.handle) == nullptr);
    CHECK(contains(loader.error(), "plugin 'nodev' (" + fake_file("good", "nodev") +
                                       ") is not usable: no device; no plugin named 'missing'"));
  }
}

TEST_CASE("a bogus MLA_BACKEND_PATH entry is reported, not fatal") {
  const std::string good = fake_dir("good");
  const std::string path = "/nonexistent/libmla-test::" + good;
  ScopedEnv search_path("MLA_BACKEND_PATH", path.c_str());
  ScopedEnv backend("MLA_BACKEND", nullptr);
  Loader loader(nullptr);
  CHECK(loader.selected() == "beta");
  const auto bogus = loader.entry_at("/nonexistent/libmla-test");
  CHECK(bogus.state == MLA_PLUGIN_SKIPPED);
  CHECK(std::string(bogus.name) == "");
  CHECK(bogus.api == nullptr);
  CHECK(contains(bogus.reason, "search directory cannot be read: No such file or directory"));
  // A file where a directory is expected.
  const std::string file = fake_file("good", "alpha");
  Loader not_a_dir("alpha", file.c_str());
  CHECK(contains(not_a_dir.entry_at(file).reason, "Not a directory"));
  CHECK(not_a_dir.selected() == "");
}

TEST_CASE("bad tables are rejected with their reason") {
  const std::string bad = fake_dir("bad");
  Loader loader("auto", bad.c_str());
  const auto future = loader.entry_at(fake_file("bad", "future"));
  CHECK(future.state == MLA_PLUGIN_SKIPPED);
  CHECK(future.abi_major == 2);
  CHECK(future.api == nullptr);
  CHECK(std::string(future.reason) == "built for ABI major 2, this loader speaks 1");
  CHECK(std::string(loader.entry_at(fake_file("bad", "nulltable")).reason) ==
        "mla_get_api returned NULL");
  CHECK(std::string(loader.entry_at(fake_file("bad", "smalltable")).reason) ==
        "mla_api table is 64 bytes, smaller than the ABI 1.0 table (104 bytes)");
  CHECK(std::string(loader.entry_at(fake_file("bad", "probefail")).reason) ==
        "probe failed: MLA_ERR_DEVICE: probe: fake driver error");
  CHECK(std::string(loader.entry_at(fake_file("bad", "liar")).reason) ==
        "file is named for 'liar' but the plugin calls itself 'alpha'");
  const auto nosym = loader.entry_at(fake_file("bad", "nosym"));
  CHECK(nosym.state == MLA_PLUGIN_SKIPPED);
  CHECK(contains(nosym.reason, "not a libmla plugin: no mla_get_api symbol"));
  CHECK(contains(nosym.reason, "undefined symbol: mla_get_api"));
  for (const char* name : {"future", "nulltable", "smalltable", "probefail", "liar", "nosym"})
    CHECK_MESSAGE(!is_loaded(fake_file("bad", name)), name << " left loaded");
  // Only the built-in folders' plugins remain: gamma (2) beats delta (1).
  CHECK(loader.selected() == "gamma");
}

TEST_CASE("a file that is not a shared library is skipped with dlopen's reason") {
  const std::string dir = scratch_dir("junk");
  const std::string junk = dir + "/libmla_backend_junk.so";
  {
    std::ofstream file(junk);
    file << "This text file only looks like a plugin by its name; dlopen must refuse it.\n";
  }
  const std::string path = dir + ":" + fake_dir("good");
  Loader loader("junk,alpha", path.c_str());
  const auto entry = loader.entry_at(junk);
  CHECK(entry.state == MLA_PLUGIN_SKIPPED);
  CHECK(std::string(entry.name) == "junk");
  CHECK(contains(entry.reason, "dlopen failed: "));
  CHECK(contains(entry.reason, "invalid ELF header"));
  CHECK(loader.selected() == "alpha");
}

TEST_CASE("the first file of a name wins; later ones are shadowed and never loaded") {
  const std::string good_then_dup = fake_dir("good") + ":" + fake_dir("dup");
  {
    Loader loader("auto", good_then_dup.c_str());
    CHECK(loader.selected() == "beta");  // the shadowed alpha's 99 does not count
    const auto dup = loader.entry_at(fake_file("dup", "alpha"));
    CHECK(dup.state == MLA_PLUGIN_SKIPPED);
    CHECK(std::string(dup.reason) == "shadowed by " + fake_file("good", "alpha"));
    CHECK(dup.abi_major == 0);
    CHECK(!is_loaded(fake_file("dup", "alpha")));
  }
  const std::string dup_then_good = fake_dir("dup") + ":" + fake_dir("good");
  Loader loader("auto", dup_then_good.c_str());
  CHECK(loader.selected() == "alpha");
  CHECK(loader.entry_at(fake_file("dup", "alpha")).score == 99);
  // The same folder twice is searched once.
  const std::string twice = fake_dir("good") + ":" + fake_dir("good") + "/";
  CHECK(Loader("auto", twice.c_str()).entries().size() == 5);
}

TEST_CASE("ignore_environment and the precedence of options over the environment") {
  const std::string good = fake_dir("good");
  ScopedEnv search_path("MLA_BACKEND_PATH", good.c_str());
  ScopedEnv backend("MLA_BACKEND", "alpha");
  CHECK(Loader(nullptr, nullptr, false).selected() == "alpha");
  CHECK(Loader("beta", nullptr, false).selected() == "beta");
  // Neither variable is read: only the built-in folders are searched.
  Loader ignoring(nullptr, nullptr, true);
  CHECK(ignoring.selected() == "gamma");
  CHECK(ignoring.entries().size() == 2);
  // options.search_path replaces MLA_BACKEND_PATH.
  const std::string dup = fake_dir("dup");
  Loader replaced(nullptr, dup.c_str(), false);
  CHECK(replaced.selected() == "alpha");
  CHECK(replaced.entry_at(fake_file("dup", "alpha")).state == MLA_PLUGIN_SELECTED);
}

TEST_CASE("the loader's own folder, its mla subfolder and the install folder") {
  Loader loader(nullptr, nullptr, true);
  const auto entries = loader.entries();
  REQUIRE(entries.size() == 2);
  CHECK(std::string(entries[0].path) == fake_file("isolated/mla", "delta"));
  CHECK(std::string(entries[1].path) == fake_file("install", "gamma"));
  CHECK(entries[0].state == MLA_PLUGIN_USABLE);
  CHECK(entries[1].state == MLA_PLUGIN_SELECTED);
}

TEST_CASE("skipped plugins are unloaded at once, usable ones at close") {
  const std::string good = fake_dir("good");
  auto* loader = new Loader("auto", good.c_str());
  CHECK(is_loaded(fake_file("good", "alpha")));
  CHECK(is_loaded(fake_file("good", "beta")));
  CHECK(!is_loaded(fake_file("good", "nodev")));
  delete loader;
  CHECK(!is_loaded(fake_file("good", "alpha")));
  CHECK(!is_loaded(fake_file("good", "beta")));
}

TEST_CASE("the selected table is callable") {
  const std::string good = fake_dir("good");
  Loader loader("beta", good.c_str());
  const mla_api* api = mla_loader_api(loader.handle);
  REQUIRE(api != nullptr);
  mla_context_desc desc{};
  desc.struct_size = sizeof desc;
  mla_context* ctx = nullptr;
  REQUIRE(api->context_create(&desc, &ctx) == MLA_OK);
  mla_caps caps{};
  caps.struct_size = sizeof caps;
  CHECK(api->get_caps(ctx, &caps) == MLA_OK);
  CHECK(std::string(caps.device_name) == "fake device beta");
  CHECK(api->context_destroy(ctx) == MLA_OK);
}

TEST_CASE("bad arguments get a status and write nothing else") {
  CHECK(mla_loader_open(nullptr, nullptr) == MLA_ERR_INVALID_ARGUMENT);
  mla_loader* out = reinterpret_cast<mla_loader*>(0x1);
  mla_loader_options options{};
  options.struct_size = 8;
  CHECK(mla_loader_open(&options, &out) == MLA_ERR_VERSION);
  CHECK(out == nullptr);
  options.struct_size = sizeof options;
  options.reserved0 = 1;
  CHECK(mla_loader_open(&options, &out) == MLA_ERR_INVALID_ARGUMENT);
  options.reserved0 = 0;
  options.ignore_environment = 2;
  CHECK(mla_loader_open(&options, &out) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(out == nullptr);

  CHECK(mla_loader_api(nullptr) == nullptr);
  CHECK(mla_loader_plugin_count(nullptr) == 0);
  CHECK(std::string(mla_loader_error(nullptr)) != "");
  mla_loader_close(nullptr);

  const std::string good = fake_dir("good");
  Loader loader("alpha", good.c_str());
  mla_plugin_entry entry{};
  entry.struct_size = sizeof entry;
  entry.path = "untouched";
  CHECK(mla_loader_plugin(nullptr, 0, &entry) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(mla_loader_plugin(loader.handle, 0, nullptr) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(mla_loader_plugin(loader.handle, -1, &entry) == MLA_ERR_INVALID_ARGUMENT);
  CHECK(mla_loader_plugin(loader.handle, mla_loader_plugin_count(loader.handle), &entry) ==
        MLA_ERR_INVALID_ARGUMENT);
  entry.struct_size = sizeof entry - 8;
  CHECK(mla_loader_plugin(loader.handle, 0, &entry) == MLA_ERR_VERSION);
  CHECK(std::string(entry.path) == "untouched");
}

TEST_CASE("loaders may be opened and queried from several threads at once") {
  const std::string path = fake_dir("good") + ":" + fake_dir("bad");
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 10; ++round) {
        mla_loader_options options{};
        options.struct_size = sizeof options;
        options.backend = round % 2 ? "alpha" : "auto";
        options.search_path = path.c_str();
        options.ignore_environment = 1;
        mla_loader* loader = nullptr;
        if (mla_loader_open(&options, &loader) != MLA_OK) { results[t] += "open failed;"; continue; }
        const mla_api* api = mla_loader_api(loader);
        results[t] += api != nullptr ? api->name : "none";
        results[t] += ";";
        mla_loader_close(loader);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results)
    CHECK(result == "beta;alpha;beta;alpha;beta;alpha;beta;alpha;beta;alpha;");
}

TEST_CASE("status and dtype names") {
  CHECK(std::string(mla_status_name(MLA_OK)) == "MLA_OK");
  CHECK(std::string(mla_status_name(MLA_ERR_VERSION)) == "MLA_ERR_VERSION");
  CHECK(std::string(mla_status_name(MLA_ERR_INTERNAL)) == "MLA_ERR_INTERNAL");
  CHECK(std::string(mla_status_name(static_cast<mla_status>(42))) == "MLA_ERR_UNKNOWN_STATUS");
  CHECK(std::string(mla_dtype_name(MLA_DTYPE_F32)) == "f32");
  CHECK(std::string(mla_dtype_name(MLA_DTYPE_BF16)) == "bf16");
  CHECK(std::string(mla_dtype_name(MLA_DTYPE_FP8_E4M3)) == "fp8_e4m3");
  CHECK(std::string(mla_dtype_name(static_cast<mla_dtype>(-3))) == "unknown");
}

// ---- Issue 11: hostile files and plugins in a searched folder.

TEST_CASE("a plugin whose probe crashes is never loaded when MLA_BACKEND names another") {
  const std::string path = fake_dir("hostile") + ":" + fake_dir("good");
  const std::string crash = fake_file("hostile", "crash");
  const std::string outcome = in_child([&] {
    mla_loader* loader = child_open("alpha", path);  // before: crash's probe ran, and aborted the host
    if (loader == nullptr) return 1;
    const mla_api* api = mla_loader_api(loader);
    if (api == nullptr || std::string(api->name) != "alpha") return 2;
    const auto entry = child_entry(loader, crash);
    if (!entry || entry->state != MLA_PLUGIN_SKIPPED || !contains(entry->reason, "not loaded")) return 3;
    if (is_loaded(crash)) return 4;
    mla_loader_close(loader);
    return 0;
  });
  CHECK_MESSAGE(outcome == "", outcome);
  // Named, it is loaded, and takes the process with it: that is the host's choice.
  CHECK(contains(in_child([&] { return child_open("crash", path) != nullptr ? 0 : 1; }), "Aborted"));
}

TEST_CASE("only regular files reach dlopen: a FIFO or a folder named like a plugin is skipped, not waited on") {
  const std::string dir = scratch_dir("special");
  const std::string fifo = dir + "/libmla_backend_fifo.so", folder = dir + "/libmla_backend_folder.so";
  unlink(fifo.c_str());
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  mkdir(folder.c_str(), 0755);
  const std::string path = dir + ":" + fake_dir("good");
  const std::string outcome = in_child([&] {
    mla_loader* loader = child_open("auto", path);  // before: dlopen blocked on the FIFO forever
    if (loader == nullptr) return 1;
    const auto f = child_entry(loader, fifo), d = child_entry(loader, folder);
    if (!f || f->state != MLA_PLUGIN_SKIPPED || std::string(f->reason) != "not a regular file (a FIFO)") return 2;
    if (!d || d->state != MLA_PLUGIN_SKIPPED || std::string(d->reason) != "not a regular file (a directory)") return 3;
    const mla_api* api = mla_loader_api(loader);
    if (api == nullptr || std::string(api->name) != "beta") return 4;
    mla_loader_close(loader);
    return 0;
  }, 10);
  CHECK_MESSAGE(outcome == "", outcome);
}

TEST_CASE("plugin names with separators are rejected at discovery with a reason") {
  const std::string dir = scratch_dir("names");
  const std::string source = fake_file("good", "alpha");
  struct named_copy {
    const char* name;
    const char* reason_part;
  };
  const named_copy copies[] = {
      {"a,b", "holds ','"}, {"a b", "holds ' '"}, {"x[1]", "holds '['"}, {"tab\tname", "holds byte 0x09"},
      {"auto", "'auto' is reserved"},
  };
  for (const named_copy& c : copies)
    std::filesystem::copy_file(source, dir + "/libmla_backend_" + c.name + ".so",
                               std::filesystem::copy_options::overwrite_existing);
  Loader loader("auto", dir.c_str());
  for (const named_copy& c : copies) {
    const std::string file = dir + "/libmla_backend_" + c.name + ".so";
    const auto entry = loader.entry_at(file);
    INFO(std::string(c.name), ": ", std::string(entry.reason));
    CHECK(entry.state == MLA_PLUGIN_SKIPPED);
    CHECK(std::string(entry.name) == c.name);
    CHECK(contains(entry.reason, c.reason_part));
    CHECK(entry.abi_major == 0);  // never loaded
    CHECK(!is_loaded(file));
  }
  CHECK(loader.selected() == "gamma");  // only the built-in folders' plugins remain
}

TEST_CASE("probe scores are clamped to [0, MLA_MAX_SCORE]") {
  const std::string scores = fake_dir("scores");
  Loader loader("auto", scores.c_str());
  // zcheat reports INT32_MAX: clamped, it ties with honest, which comes first.
  CHECK(loader.selected() == "honest");
  const auto cheat = loader.entry_at(fake_file("scores", "zcheat"));
  CHECK(cheat.score == MLA_MAX_SCORE);
  CHECK(contains(cheat.reason, "probe score 2147483647 clamped to 1000"));
  CHECK(loader.entry_at(fake_file("scores", "below")).score == 0);
  CHECK(loader.entry_at(fake_file("scores", "honest")).score == MLA_MAX_SCORE);
}
