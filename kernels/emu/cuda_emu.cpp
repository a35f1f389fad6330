// The CUDA emulator's runtime: runs a grid's blocks, each block's threads as fibers that switch
// at barriers (__syncthreads, warp intrinsics). See kernels/README.md for the model.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "cuda_emu.h"
#include "emu_runtime.h"
// The runtime names the fields behind these macros directly.
#undef threadIdx
#undef blockIdx
#undef blockDim
#undef gridDim

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define CUEMU_ASAN 1
#endif

namespace cuemu {

// ------------------------------------------------------------------ context switch
// cuemu_switch(save, to): pushes the callee-saved registers, stores rsp in *save, loads `to`,
// pops and returns into the other context. No syscall (ucontext's swapcontext makes one to
// save the signal mask). The FP control words are not saved: no kernel changes them.
extern "C" void cuemu_switch(void** save_sp, void* to_sp);
asm(R"(
    .text
    .p2align 4
    .globl cuemu_switch
    .hidden cuemu_switch
    .type cuemu_switch,@function
cuemu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size cuemu_switch,.-cuemu_switch
)");

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

std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <class T> void shuffle(T* a, int n, std::uint64_t& rng) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix(rng) % (std::uint64_t)(i + 1));
        std::swap(a[i], a[j]);
    }
}

// ------------------------------------------------------------------ fibers
// A fiber stack: kFiberStackBytes aligned to its size = guard page, FiberHeader, frames.
struct Stack {
    char* slot;  // start of the aligned slot
    char* base;  // lowest byte usable for frames
    std::size_t size;
    void* sp;    // saved stack pointer while not running
    FiberHeader* header() const { return fiber_header_of((std::uintptr_t)slot); }
};

enum TState : std::uint8_t { T_NEW, T_RUN, T_BAR, T_WARP, T_DONE, T_FAIL };

struct Thread {
    ThreadCtx ctx;
    Stack* stack;
    TState st;
    std::uint32_t warp_mask;  // participants of the warp op it waits in
    std::uint32_t warp_seq;   // count of warp ops so far: its parity picks the exchange buffer
    unsigned lane, warp;
};

struct Warp {
    std::uint32_t exist;    // lanes that exist (a block's last warp may be partial)
    std::uint32_t exited;
    std::uint32_t arrived;  // lanes waiting in a warp op
    std::uint64_t val[2][32];
};

void fiber_main();

struct Worker {
    void* sched_sp = nullptr;
    const void* sched_bottom = nullptr;
    std::size_t sched_size = 0;
    std::vector<Stack*> free_stacks;
    std::vector<Stack*> all_stacks;
    Thread th[1024];
    Warp warps[32];
    int queue[1024];
    int qhead = 0, qcount = 0;
    BlockCtx blk;
    Thread* cur = nullptr;
    const KernelInfo* kernel = nullptr;
    void** args = nullptr;
    int n = 0, nwarps = 0, done = 0, bar_arrived = 0, bar_gen = 0;
    int bar_sum[2] = {0, 0};
    bool shuffle = false;
    std::uint64_t rng = 0;
    std::uint64_t switches = 0;
    std::string error;

    ~Worker() {
        for (Stack* s : all_stacks) {
            munmap(s->slot, kFiberStackBytes);
            delete s;
        }
    }

    static void prepare(Stack* s) {
        std::uintptr_t top = ((std::uintptr_t)s->base + s->size - fiber_colour((std::uintptr_t)s->slot)) & ~(std::uintptr_t)15;
        void** p = (void**)top;
        *--p = nullptr;                    // where a caller's return address would be
        *--p = (void*)&fiber_main;         // cuemu_switch's `ret` lands here
        for (int i = 0; i < 6; i++) *--p = nullptr;  // rbp rbx r12..r15
        s->sp = p;
    }

    Stack* get_stack() {
        if (!free_stacks.empty()) {
            Stack* s = free_stacks.back();
            free_stacks.pop_back();
            return s;
        }
        const std::size_t sz = kFiberStackBytes;
        void* m = mmap(nullptr, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) return nullptr;
        char* slot = (char*)(((std::uintptr_t)m + sz - 1) & ~(std::uintptr_t)(sz - 1));
        if (slot > (char*)m) munmap(m, (std::size_t)(slot - (char*)m));
        if (slot + sz < (char*)m + 2 * sz) munmap(slot + sz, (std::size_t)((char*)m + 2 * sz - (slot + sz)));
        mprotect(slot, kFiberGuardBytes, PROT_NONE);  // overflow faults instead of corrupting memory
        static_assert(sizeof(FiberHeader) <= 64, "header must fit one line");
        const std::size_t head = 64 * 64;  // room for the header at any colour
        Stack* s = new Stack{slot, slot + kFiberGuardBytes + head, sz - kFiberGuardBytes - head, nullptr};
        s->header()->magic = kFiberMagic;
        s->header()->worker = this;
        prepare(s);
        all_stacks.push_back(s);
        return s;
    }

    void enqueue(int i) {
        queue[(qhead + qcount) & 1023] = i;  // a ring of 1024 >= n entries: no division
        qcount++;
    }
};

thread_local std::unique_ptr<Worker> t_worker_owner;
thread_local Worker* t_worker = nullptr;

Worker* worker() {
    if (!t_worker) {
        t_worker_owner.reset(new Worker());
        t_worker = t_worker_owner.get();
    }
    return t_worker;
}

// Scheduler → fiber.
inline void to_fiber(Worker* w, Stack* s) {
    w->switches++;
#ifdef CUEMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, s->base, s->size);
    cuemu_switch(&w->sched_sp, s->sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    cuemu_switch(&w->sched_sp, s->sp);
#endif
}

// Fiber → scheduler; returns when the scheduler resumes this fiber.
inline void to_sched(Worker* w, Stack* s) {
#ifdef CUEMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, w->sched_bottom, w->sched_size);
    cuemu_switch(&s->sp, w->sched_sp);
    __sanitizer_finish_switch_fiber(fake, &w->sched_bottom, &w->sched_size);
#else
    cuemu_switch(&s->sp, w->sched_sp);
#endif
}

// Every fiber starts here; after a CUDA thread finishes, the same fiber (stack) runs the next.
void fiber_main() {
    FiberHeader* h = fiber();
    Worker* w = static_cast<Worker*>(h->worker);
#ifdef CUEMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &w->sched_bottom, &w->sched_size);
#endif
    for (;;) {
        Thread* t = static_cast<Thread*>(h->thread);
        w->kernel->fn(w->args);
        // While the next queued thread has not started, run it on this same stack: a kernel
        // without barriers then costs a function call per CUDA thread, not two switches.
        while (w->qcount > 0 && w->th[w->queue[w->qhead]].st == T_NEW) {
            Thread* nt = &w->th[w->queue[w->qhead]];
            w->qhead = (w->qhead + 1) & 1023;
            w->qcount--;
            t->st = T_DONE;
            w->done++;
            w->warps[t->warp].exited |= 1u << t->lane;
            nt->stack = t->stack;
            t->stack = nullptr;
            nt->st = T_RUN;
            h->ctx = nt->ctx;
            h->thread = nt;
            w->cur = t = nt;
            w->kernel->fn(w->args);
        }
        t->st = T_DONE;
        to_sched(w, t->stack);
    }
}

std::string lanes_str(std::uint32_t m) {
    std::string s = "{";
    for (int l = 0; l < 32; l++)
        if (m >> l & 1u) {
            if (s.size() > 1) s += ",";
            s += std::to_string(l);
        }
    return s + "}";
}

std::string hex(std::uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

// Barrier bookkeeping after thread t switched back to the scheduler.
bool on_warp_arrival(Worker* w, Thread* t) {
    Warp& W = w->warps[t->warp];
    W.arrived |= 1u << t->lane;
    std::uint32_t m = t->warp_mask;
    if ((W.arrived & m) != m) return true;
    int lanes[32], k = 0;
    for (int l = 0; l < 32; l++)
        if (m >> l & 1u) {
            Thread* o = &w->th[t->warp * 32 + l];
            if (o->warp_mask != m) {
                w->error = "warp " + std::to_string(t->warp) + ": lanes wait in warp ops with different masks (" +
                           hex(m) + " vs " + hex(o->warp_mask) + ")";
                return false;
            }
            lanes[k++] = t->warp * 32 + l;
        }
    W.arrived &= ~m;
    if (w->shuffle) shuffle(lanes, k, w->rng);
    for (int i = 0; i < k; i++) {
        w->th[lanes[i]].st = T_RUN;
        w->enqueue(lanes[i]);
    }
    return true;
}

void on_block_arrival(Worker* w) {
    if (++w->bar_arrived < w->n) return;
    w->bar_arrived = 0;
    w->bar_sum[(w->bar_gen & 1) ^ 1] = 0;  // every reader of the previous barrier's sum is done
    w->bar_gen++;
    int base = (w->qhead + w->qcount) & 1023;
    for (int i = 0; i < w->n; i++) {
        w->th[i].st = T_RUN;
        w->enqueue(i);
    }
    if (w->shuffle) {  // the queue was empty: the n entries are contiguous modulo n
        int tmp[1024];
        for (int i = 0; i < w->n; i++) tmp[i] = w->queue[(base + i) & 1023];
        shuffle(tmp, w->n, w->rng);
        for (int i = 0; i < w->n; i++) w->queue[(base + i) & 1023] = tmp[i];
    }
}

std::string deadlock_report(Worker* w) {
    int at_bar = 0, done = 0;
    std::string warps;
    for (int i = 0; i < w->n; i++) {
        if (w->th[i].st == T_BAR) at_bar++;
        if (w->th[i].st == T_DONE) done++;
    }
    for (int q = 0; q < w->nwarps; q++) {
        Warp& W = w->warps[q];
        if (!W.arrived) continue;
        std::uint32_t want = 0;
        for (int l = 0; l < 32; l++)
            if (W.arrived >> l & 1u) want |= w->th[q * 32 + l].warp_mask;
        warps += "; warp " + std::to_string(q) + ": lanes " + lanes_str(W.arrived) +
                 " wait in a warp op (mask " + hex(want) + ") that lanes " + lanes_str(want & ~W.arrived) +
                 (want & ~W.arrived & W.exited ? " have exited before reaching" : " never reach");
    }
    std::string s = "deadlock: " + std::to_string(w->n - done) + " of " + std::to_string(w->n) +
                    " threads are blocked (" + std::to_string(at_bar) + " at __syncthreads, " +
                    std::to_string(done) + " exited)";
    if (at_bar) s += "; a __syncthreads must be reached by every thread of the block";
    return s + warps;
}

// Runs one block to completion on this OS thread. False (w->error set) on failure.
bool run_block(Worker* w, uint3 bidx, std::uint64_t seed, std::uint64_t linear, std::size_t shmem) {
    w->blk.blockIdx = bidx;
    const int n = w->n;
    for (int i = 0; i < n; i++) {
        Thread& t = w->th[i];
        t.st = T_NEW;
        t.stack = nullptr;
        t.warp_seq = 0;
        t.warp_mask = 0;
    }
    for (int q = 0; q < w->nwarps; q++) w->warps[q].exited = w->warps[q].arrived = 0;
    w->done = w->bar_arrived = w->bar_gen = 0;
    w->bar_sum[0] = w->bar_sum[1] = 0;
    w->qhead = 0;
    w->qcount = 0;
    for (int i = 0; i < n; i++) w->enqueue(i);
    w->shuffle = seed != 0;
    if (w->shuffle) {
        w->rng = seed ^ (linear * 0xD1B54A32D192ED03ull);
        shuffle(w->queue, n, w->rng);
        if (w->kernel->poison && shmem) w->kernel->poison(shmem);  // CUDA leaves it uninitialised
    }
    bool ok = true;
    while (w->qcount > 0) {
        Thread* t = &w->th[w->queue[w->qhead]];
        w->qhead = (w->qhead + 1) & 1023;
        w->qcount--;
        if (t->st == T_NEW) {
            t->stack = w->get_stack();
            if (!t->stack) {
                w->error = "out of memory for fiber stacks";
                ok = false;
                break;
            }
            t->st = T_RUN;
            FiberHeader* h = t->stack->header();
            h->ctx = t->ctx;
            h->thread = t;
        }
        w->cur = t;
        to_fiber(w, t->stack);
        t = w->cur;  // the fiber may have gone on to run further threads
        switch (t->st) {
            case T_DONE:
                w->free_stacks.push_back(t->stack);
                t->stack = nullptr;
                w->done++;
                w->warps[t->warp].exited |= 1u << t->lane;
                break;
            case T_BAR: on_block_arrival(w); break;
            case T_WARP: ok = on_warp_arrival(w, t); break;
            case T_FAIL: ok = false; break;
            default: w->error = "internal: fiber returned in state " + std::to_string(t->st); ok = false;
        }
        if (!ok) break;
    }
    if (ok && w->done != n) {
        w->error = deadlock_report(w);
        ok = false;
    }
    if (!ok) {  // abandon the suspended fibers: fresh frames on their stacks, back to the pool
        for (int i = 0; i < n; i++) {
            Thread& t = w->th[i];
            if (!t.stack) continue;
#ifdef CUEMU_ASAN
            __asan_unpoison_memory_region(t.stack->base, t.stack->size);
#endif
            Worker::prepare(t.stack);
            w->free_stacks.push_back(t.stack);
            t.stack = nullptr;
        }
    }
    w->cur = nullptr;
    return ok;
}

// The CUDA thread running on this fiber (only valid inside a kernel: on a fiber stack).
inline Thread* current(const char* what) {
    FiberHeader* h = fiber();
    if (h->magic != kFiberMagic) {
        std::fprintf(stderr, "cuemu: %s called outside a kernel\n", what);
        std::abort();
    }
    return static_cast<Thread*>(h->thread);
}
inline Worker* current_worker() { return static_cast<Worker*>(fiber()->worker); }

// Waits until every lane of mask m (this lane included) has arrived.
void warp_wait(Worker* w, Thread* t, std::uint32_t m) {
    t->warp_mask = m;
    t->st = T_WARP;
    to_sched(w, t->stack);
}

std::uint32_t warp_participants(Worker* w, Thread* t, unsigned mask, const char* what) {
    std::uint32_t m = mask & w->warps[t->warp].exist;
    if (!(m >> t->lane & 1u)) {
        std::string msg = std::string(what) + " called by lane " + std::to_string(t->lane) +
                          " which is not in its mask " + hex(mask);
        fail(msg.c_str());
    }
    return m;
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

// ------------------------------------------------------------------ device-side entry points
void syncthreads() {
    Thread* t = current("__syncthreads");
    Worker* w = current_worker();
    if (w->n == 1) return;
    t->st = T_BAR;
    to_sched(w, t->stack);
}

int syncthreads_count(int pred) {
    Thread* t = current("__syncthreads_count");
    Worker* w = current_worker();
    if (w->n == 1) return pred;
    int par = w->bar_gen & 1;
    w->bar_sum[par] += pred;
    syncthreads();
    return w->bar_sum[par];
}

void syncwarp(unsigned mask) {
    Thread* t = current("__syncwarp");
    Worker* w = current_worker();
    std::uint32_t m = warp_participants(w, t, mask, "__syncwarp");
    if (m == (1u << t->lane)) return;
    warp_wait(w, t, m);
}

unsigned long long shfl_exchange(unsigned mask, unsigned long long bits, int mode, int arg, int width) {
    Thread* t = current("__shfl_sync");
    Worker* w = current_worker();
    if (width <= 0 || width > 32 || (width & (width - 1)))
        fail(("__shfl_sync: width " + std::to_string(width) + " is not a power of two <= 32").c_str());
    std::uint32_t m = warp_participants(w, t, mask, "__shfl_sync");
    Warp& W = w->warps[t->warp];
    int par = t->warp_seq++ & 1;
    W.val[par][t->lane] = bits;
    if (m != (1u << t->lane)) warp_wait(w, t, m);
    int lane = (int)t->lane, seg = lane & ~(width - 1), src;
    switch (mode) {
        case SHFL_IDX: src = seg + (arg & (width - 1)); break;
        case SHFL_UP: src = lane - arg; if (src < seg) src = lane; break;
        case SHFL_DOWN: src = lane + arg; if (src >= seg + width) src = lane; break;
        default: src = lane ^ arg; if ((src & ~(width - 1)) != seg) src = lane; break;
    }
    if (src < 0 || src > 31 || !(m >> src & 1u)) return bits;  // undefined in CUDA: own value
    return W.val[par][src];
}

unsigned ballot(unsigned mask, int pred) {
    Thread* t = current("__ballot_sync");
    Worker* w = current_worker();
    std::uint32_t m = warp_participants(w, t, mask, "__ballot_sync");
    Warp& W = w->warps[t->warp];
    int par = t->warp_seq++ & 1;
    W.val[par][t->lane] = pred ? 1 : 0;
    if (m != (1u << t->lane)) warp_wait(w, t, m);
    unsigned r = 0;
    for (int l = 0; l < 32; l++)
        if ((m >> l & 1u) && W.val[par][l]) r |= 1u << l;
    return r;
}

unsigned activemask() {
    Thread* t = current("__activemask");
    Warp& W = current_worker()->warps[t->warp];
    return W.exist & ~W.exited;
}

void fail(const char* what) {
    Thread* t = current("fail");
    Worker* w = current_worker();
    const uint3& i = t->ctx.threadIdx;
    w->error = std::string(what) + " (thread (" + std::to_string(i.x) + "," + std::to_string(i.y) + "," +
               std::to_string(i.z) + "))";
    t->st = T_FAIL;
    to_sched(w, t->stack);
    std::abort();  // never resumed
}

void assert_fail(const char* expr, const char* file, int line) {
    std::string m = std::string("device assert failed: ") + expr + " at " + file + ":" + std::to_string(line);
    fail(m.c_str());
}

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
