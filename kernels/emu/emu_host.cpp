// The CUDA emulator's host side: configuration, kernel registry, device memory, and grids: a
// launch runs every block (emu_fibers.cpp's run_block) on the launching thread and a pool of
// OS threads. See kernels/README.md for the model.
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "emu_internal.h"

namespace cuemu {

// ------------------------------------------------------------------ configuration
namespace {

std::atomic<int> g_threads{0};
std::atomic<std::uint64_t> g_seed{0};
std::atomic<bool> g_check_ptrs{true};
std::atomic<std::uint64_t> g_launches{0}, g_blocks{0}, g_threads_run{0}, g_switches{0};

int default_threads() {
    if (const char* e = std::getenv("CONVUNEXT_EMU_THREADS")) {
        int v = std::atoi(e);
        if (v > 0) return v;
    }
    unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : (int)std::min(hc, 8u);
}

std::uint64_t default_seed() {
    const char* e = std::getenv("CONVUNEXT_EMU_SHUFFLE");
    return e ? std::strtoull(e, nullptr, 0) : 0;
}

std::once_flag g_config_once;
void init_config() {
    std::call_once(g_config_once, [] {
        if (g_threads.load() == 0) g_threads = default_threads();
        if (g_seed.load() == 0) g_seed = default_seed();
    });
}

// ------------------------------------------------------------------ registry, memory
std::mutex& reg_mutex() { static std::mutex m; return m; }
std::unordered_map<std::string, const KernelInfo*>& registry() {
    static std::unordered_map<std::string, const KernelInfo*> r;
    return r;
}
std::mutex g_mem_mutex;
std::map<std::uintptr_t, std::size_t> g_allocs;
std::size_t g_alloc_bytes = 0;

bool pointer_ok(std::uint64_t v) {
    if (v == 0) return true;  // optional arguments (a missing bias) are passed as null
    std::lock_guard<std::mutex> g(g_mem_mutex);
    auto it = g_allocs.upper_bound((std::uintptr_t)v);
    if (it == g_allocs.begin()) return false;
    --it;
    return v <= it->first + it->second;
}

// ------------------------------------------------------------------ grids
struct Grid {
    const KernelInfo* k;
    void** args;
    unsigned gx, gy, gz, bx, by, bz;
    std::size_t shmem;
    std::uint64_t nblocks, seed;
    std::vector<std::uint32_t> perm;  // block order in randomised mode
    std::atomic<std::uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex err_mutex;
    std::string error;
};

void setup_worker(Worker* w, Grid& g) {
    w->kernel = g.k;
    w->args = g.args;
    w->blk.blockDim = dim3(g.bx, g.by, g.bz);
    w->blk.gridDim = dim3(g.gx, g.gy, g.gz);
    w->n = (int)(g.bx * g.by * g.bz);
    w->nwarps = (w->n + 31) / 32;
    for (int i = 0; i < w->n; i++) {
        Thread& t = w->th[i];
        t.ctx.threadIdx = uint3{(unsigned)i % g.bx, ((unsigned)i / g.bx) % g.by, (unsigned)i / (g.bx * g.by)};
        t.ctx.block = &w->blk;
        t.lane = (unsigned)i & 31u;
        t.warp = (unsigned)i >> 5;
    }
    for (int q = 0; q < w->nwarps; q++) {
        int lanes = std::min(32, w->n - q * 32);
        w->warps[q].exist = lanes == 32 ? 0xffffffffu : ((1u << lanes) - 1u);
    }
}

void run_part(Grid& g) {
    Worker* w = worker();
    setup_worker(w, g);
    std::uint64_t before = w->switches, blocks = 0;
    for (;;) {
        if (g.failed.load(std::memory_order_relaxed)) break;
        std::uint64_t b = g.next.fetch_add(1);
        if (b >= g.nblocks) break;
        std::uint64_t idx = g.perm.empty() ? b : g.perm[b];
        uint3 bidx{(unsigned)(idx % g.gx), (unsigned)((idx / g.gx) % g.gy), (unsigned)(idx / ((std::uint64_t)g.gx * g.gy))};
        blocks++;
        if (!run_block(w, bidx, g.seed, idx, g.shmem)) {
            std::lock_guard<std::mutex> l(g.err_mutex);
            if (g.error.empty())
                g.error = w->error + " [block (" + std::to_string(bidx.x) + "," + std::to_string(bidx.y) +
                          "," + std::to_string(bidx.z) + ")]";
            g.failed = true;
        }
    }
    w->kernel = nullptr;
    g_blocks += blocks;
    g_threads_run += blocks * (std::uint64_t)w->n;
    g_switches += w->switches - before;
}

// Persistent OS threads that help run a grid's blocks; the launching thread runs blocks too.
struct Pool {
    std::mutex m;
    std::condition_variable cv, done_cv;
    Grid* job = nullptr;
    std::uint64_t gen = 0;
    int wanted = 0, busy = 0;
    std::vector<std::thread> threads;

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            Grid* g;
            {
                std::unique_lock<std::mutex> l(m);
                cv.wait(l, [&] { return gen != seen && wanted > 0; });
                seen = gen;
                wanted--;
                g = job;
            }
            run_part(*g);
            {
                std::lock_guard<std::mutex> l(m);
                if (--busy == 0) done_cv.notify_all();
            }
        }
    }

    void run(Grid& g, int helpers) {
        while ((int)threads.size() < helpers) threads.emplace_back([this] { loop(); });
        {
            std::lock_guard<std::mutex> l(m);
            job = &g;
            wanted = helpers;
            busy = helpers;
            gen++;
        }
        cv.notify_all();
        run_part(g);
        std::unique_lock<std::mutex> l(m);
        done_cv.wait(l, [&] { return busy == 0; });
        wanted = 0;
        job = nullptr;
    }
};

Pool* pool() {
    static Pool* p = new Pool();  // never destroyed: its threads must not be joined at exit
    return p;
}
std::mutex g_launch_mutex;

}  // namespace

// ------------------------------------------------------------------ host API
Registrar::Registrar(const KernelInfo* const* kernels, int n) {
    std::lock_guard<std::mutex> g(reg_mutex());
    for (int i = 0; i < n; i++) registry()[kernels[i]->name] = kernels[i];
}

const KernelInfo* find_kernel(const char* name) {
    std::lock_guard<std::mutex> g(reg_mutex());
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second;
}

std::vector<const KernelInfo*> all_kernels() {
    std::lock_guard<std::mutex> g(reg_mutex());
    std::vector<const KernelInfo*> v;
    for (auto& e : registry()) v.push_back(e.second);
    std::sort(v.begin(), v.end(), [](const KernelInfo* a, const KernelInfo* b) { return std::strcmp(a->name, b->name) < 0; });
    return v;
}

void configure(int threads, std::uint64_t seed, bool check_pointers) {
    init_config();
    g_threads = threads > 0 ? threads : default_threads();
    g_seed = seed;
    g_check_ptrs = check_pointers;
}
int configured_threads() { init_config(); return g_threads; }
std::uint64_t configured_seed() { init_config(); return g_seed; }

void* dev_malloc(std::size_t bytes) {
    // Exactly `bytes` (no rounding up), so that ASan sees an access one past the end.
    void* p = nullptr;
    if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0) return nullptr;
    // A GPU's cuMemAlloc leaves memory undefined (and large host allocations here are zero
    // pages): in the shuffled mode fresh memory is NaN bytes, so a read of an element nobody
    // wrote shows up instead of reading as 0.
    if (configured_seed() != 0) std::memset(p, 0xff, bytes);
    std::lock_guard<std::mutex> g(g_mem_mutex);
    g_allocs[(std::uintptr_t)p] = bytes;
    g_alloc_bytes += bytes;
    return p;
}

bool dev_free(void* p) {
    if (!p) return true;
    {
        std::lock_guard<std::mutex> g(g_mem_mutex);
        auto it = g_allocs.find((std::uintptr_t)p);
        if (it == g_allocs.end()) return false;
        g_alloc_bytes -= it->second;
        g_allocs.erase(it);
    }
    std::free(p);
    return true;
}

bool dev_allocation(const void* p, std::size_t* base, std::size_t* bytes) {
    std::uintptr_t v = (std::uintptr_t)p;
    std::lock_guard<std::mutex> g(g_mem_mutex);
    auto it = g_allocs.upper_bound(v);
    if (it == g_allocs.begin()) return false;
    --it;
    if (v >= it->first + std::max<std::size_t>(it->second, 1)) return false;
    *base = it->first;
    *bytes = it->second;
    return true;
}

bool dev_range_ok(const void* p, std::size_t bytes) {
    std::uintptr_t v = (std::uintptr_t)p;
    std::lock_guard<std::mutex> g(g_mem_mutex);
    auto it = g_allocs.upper_bound(v);
    if (it == g_allocs.begin()) return false;
    --it;
    return v >= it->first && v + bytes <= it->first + it->second;
}

std::size_t dev_allocated_bytes() {
    std::lock_guard<std::mutex> g(g_mem_mutex);
    return g_alloc_bytes;
}

Stats stats() { return Stats{g_launches.load(), g_blocks.load(), g_threads_run.load(), g_switches.load()}; }

std::string launch(const KernelInfo* k, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                   unsigned bz, std::size_t shmem, void** args, int nargs, const char* kinds) {
    init_config();
    if (!k) return "unknown kernel";
    if (nargs != k->nargs || std::strncmp(kinds, k->kinds, (std::size_t)nargs) != 0)
        return std::string("arguments (") + std::string(kinds, (std::size_t)nargs) + ") do not match the kernel's (" +
               k->kinds + ": " + k->params + ") [P pointer, I int, L long long, F float]";
    if (bx == 0 || by == 0 || bz == 0 || gx == 0 || gy == 0 || gz == 0) return "a grid or block dimension is 0";
    if (bx > 1024 || by > 1024 || bz > 64 || (std::uint64_t)bx * by * bz > 1024)
        return "block of " + std::to_string((std::uint64_t)bx * by * bz) +
               " threads exceeds the limits (x,y <= 1024, z <= 64, x*y*z <= 1024)";
    // A GPU refuses a block larger than the kernel's __launch_bounds__ (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES/
    // invalid configuration): its registers were allocated for that many threads.
    if (k->maxThreads > 0 && (std::uint64_t)bx * by * bz > (std::uint64_t)k->maxThreads)
        return "block of " + std::to_string((std::uint64_t)bx * by * bz) + " threads exceeds the kernel's __launch_bounds__ (" +
               std::to_string(k->maxThreads) + ")";
    if (gx > 0x7fffffffu || gy > 65535 || gz > 65535) return "grid exceeds the limits (x < 2^31, y,z <= 65535)";
    if (shmem > kMaxDynamicShared)
        return "dynamic shared memory of " + std::to_string(shmem) + " bytes exceeds the 227 KiB maximum";
    if (g_check_ptrs)
        for (int i = 0; i < nargs; i++)
            if (kinds[i] == 'P') {
                std::uint64_t v;
                std::memcpy(&v, args[i], 8);
                if (!pointer_ok(v))
                    return "argument " + std::to_string(i) + " (" + hex(v) +
                           ") is not inside any live device allocation";
            }

    std::lock_guard<std::mutex> l(g_launch_mutex);  // one grid at a time
    Grid g;
    g.k = k;
    g.args = args;
    g.gx = gx; g.gy = gy; g.gz = gz; g.bx = bx; g.by = by; g.bz = bz;
    g.shmem = shmem;
    g.nblocks = (std::uint64_t)gx * gy * gz;
    g.seed = g_seed;
    if (g.seed) {
        std::uint64_t rng = g.seed;
        if (g.nblocks <= (1u << 24)) {
            g.perm.resize(g.nblocks);
            for (std::uint64_t i = 0; i < g.nblocks; i++) g.perm[i] = (std::uint32_t)i;
            shuffle(g.perm.data(), (int)g.nblocks, rng);
        }
    }
    int helpers = (int)std::min<std::uint64_t>((std::uint64_t)g_threads - 1, g.nblocks - 1);
    if (helpers > 0) pool()->run(g, helpers);
    else run_part(g);
    g_launches++;
    return g.error;
}

}  // namespace cuemu
