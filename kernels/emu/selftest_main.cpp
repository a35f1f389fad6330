// Runs every EMU_CHECK (kernels/checks/*.cpp: the emulator's own self-tests) and replays every
// launch the Java tests recorded (replay.cpp), in order and then shuffled. Built with
// -fsanitize=address,undefined by `make asan` (kernels/emu/asan.sh).
// usage: emu_selftest [--launches DIR] [name-substring...]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>

#include "check.h"

namespace emucheck {
namespace {
struct Entry { const char* name; CheckFn fn; };
std::vector<Entry>& checks() { static std::vector<Entry> v; return v; }
std::vector<std::string> g_failures;
std::set<std::string> g_launched;   // kernels that some check launched successfully
}  // namespace

Reg::Reg(const char* name, CheckFn fn) { checks().push_back({name, fn}); }

std::string try_launch(const char* kernel, Dim g, Dim b, std::size_t shmem, const Args& a) {
    const cuemu::KernelInfo* k = cuemu::find_kernel(kernel);
    if (!k) return std::string("no kernel named ") + kernel;
    std::vector<std::uint64_t> slots = a.slots;
    std::vector<void*> ptrs;
    for (auto& s : slots) ptrs.push_back(&s);
    std::string err = cuemu::launch(k, g.x, g.y, g.z, b.x, b.y, b.z, shmem, ptrs.data(), (int)ptrs.size(), a.kinds.c_str());
    if (err.empty()) g_launched.insert(kernel);
    return err.empty() ? err : std::string(kernel) + ": " + err;
}

void launch(const char* kernel, Dim g, Dim b, std::size_t shmem, const Args& a) {
    std::string err = try_launch(kernel, g, b, shmem, a);
    if (!err.empty()) throw std::runtime_error(err);
}

std::vector<float> randn(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 r(seed);
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (auto& x : v) x = d(r);
    return v;
}

void expect(bool ok, const std::string& what) {
    if (!ok && g_failures.size() < 20) g_failures.push_back(what);
}

void expect_near(double want, double got, double tol, const std::string& what) {
    if (!(std::fabs(want - got) <= tol * (1 + std::fabs(want))))
        expect(false, what + ": want " + std::to_string(want) + " got " + std::to_string(got));
}

std::pair<int, int> replay_dir(const std::string& dir, const char* mode);   // replay.cpp

}  // namespace emucheck

int main(int argc, char** argv) {
    using namespace emucheck;
    std::uint64_t seed = 0x5eed;
    if (const char* e = std::getenv("CONVUNEXT_EMU_SHUFFLE")) seed = std::strtoull(e, nullptr, 0);
    std::string launches;
    std::vector<const char*> filters;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--launches") == 0 && i + 1 < argc) launches = argv[++i];
        else filters.push_back(argv[i]);
    }
    int passed = 0, failed = 0;
    for (const Entry& c : checks()) {
        bool wanted = filters.empty();
        for (const char* f : filters) wanted |= std::strstr(c.name, f) != nullptr;
        if (!wanted) continue;
        for (int mode = 0; mode < 2; mode++) {
            cuemu::configure(2, mode ? seed : 0, true);
            g_failures.clear();
            auto t0 = std::chrono::steady_clock::now();
            try {
                c.fn();
            } catch (const std::exception& e) {
                g_failures.push_back(std::string("exception: ") + e.what());
            }
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            const char* m = mode ? "shuffled" : "in order";
            if (g_failures.empty()) {
                passed++;
                std::printf("ok     %-40s %-9s %8.1f ms\n", c.name, m, ms);
            } else {
                failed++;
                std::printf("FAILED %-40s %s\n", c.name, m);
                for (auto& f : g_failures) std::printf("       %s\n", f.c_str());
            }
        }
    }
    // The Java tests' recorded launches (kernels/emu/replay.cpp), in order and shuffled.
    if (!launches.empty()) {
        for (int mode = 0; mode < 2; mode++) {
            cuemu::configure(2, mode ? seed : 0, true);
            const char* m = mode ? "shuffled" : "in order";
            auto t0 = std::chrono::steady_clock::now();
            std::pair<int, int> r = replay_dir(launches, m);
            double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            std::printf("%-6s %-40s %-9s %8.1f ms  (%d launches replayed, %d differ)\n", r.second ? "FAILED" : "ok",
                        "replay of the Java tests' launches", m, ms, r.first, r.second);
            if (r.second) failed++;
            else passed++;
            if (r.first + r.second == 0) {
                std::printf("FAILED no recorded launches in %s: run `mvn test` first (it records them)\n", launches.c_str());
                failed++;
            }
        }
    }
    // Every kernel of the emulator's table must be launched by a check or a replayed Java test
    // launch (a new kernel that no test launches fails CI). Only meaningful when everything ran.
    if (filters.empty()) {
        std::string missing;
        int total = 0;
        for (const cuemu::KernelInfo* k : cuemu::all_kernels()) {
            total++;
            if (!g_launched.count(k->name)) missing += std::string(" ") + k->name + " (" + k->file + ")";
        }
        if (missing.empty()) {
            passed++;
            std::printf("ok     %-40s all %d kernels launched\n", "every_kernel_launched", total);
        } else {
            failed++;
            std::printf("FAILED %-40s not launched by any check or recorded Java test:%s\n", "every_kernel_launched",
                        missing.c_str());
        }
    }
    if (cuemu::dev_allocated_bytes() != 0)
        std::printf("note: %zu bytes of emulator memory still allocated\n", cuemu::dev_allocated_bytes());
    std::printf("emu_selftest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
