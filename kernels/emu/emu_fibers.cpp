// The CUDA emulator's fibers: runs one block's threads as fibers that switch at barriers
// (__syncthreads, warp intrinsics), and the device-side entry points that do so. See
// kernels/README.md for the model; emu_host.cpp runs grids of blocks with run_block.
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "emu_internal.h"

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

// ------------------------------------------------------------------ fibers
Worker::~Worker() {
    for (Stack* s : all_stacks) {
        munmap(s->slot, kFiberStackBytes);
        delete s;
    }
}

namespace {

void fiber_main();

// A fresh frame on s that starts fiber_main when switched to.
void prepare(Stack* s) {
    std::uintptr_t top = ((std::uintptr_t)s->base + s->size - fiber_colour((std::uintptr_t)s->slot)) & ~(std::uintptr_t)15;
    void** p = (void**)top;
    *--p = nullptr;                    // where a caller's return address would be
    *--p = (void*)&fiber_main;         // cuemu_switch's `ret` lands here
    for (int i = 0; i < 6; i++) *--p = nullptr;  // rbp rbx r12..r15
    s->sp = p;
}

Stack* get_stack(Worker* w) {
    if (!w->free_stacks.empty()) {
        Stack* s = w->free_stacks.back();
        w->free_stacks.pop_back();
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
    s->header()->worker = w;
    prepare(s);
    w->all_stacks.push_back(s);
    return s;
}

thread_local std::unique_ptr<Worker> t_worker_owner;
thread_local Worker* t_worker = nullptr;

}  // namespace

Worker* worker() {
    if (!t_worker) {
        t_worker_owner.reset(new Worker());
        t_worker = t_worker_owner.get();
#ifdef CUEMU_ASAN
        pthread_attr_t a;  // the scheduler runs on this OS thread's own stack
        void* addr = nullptr;
        std::size_t size = 0;
        pthread_getattr_np(pthread_self(), &a);
        pthread_attr_getstack(&a, &addr, &size);
        pthread_attr_destroy(&a);
        t_worker->sched_bottom = addr;
        t_worker->sched_size = size;
#endif
    }
    return t_worker;
}

namespace {

// Switches from the running context (saving it in *save) to fiber stack `to`, or to the
// scheduler's stack when `to` is null; returns when something switches back.
inline void switch_to(Worker* w, void** save, Stack* to) {
    w->switches++;
#ifdef CUEMU_ASAN
    void* fake = nullptr;
    if (to) __sanitizer_start_switch_fiber(&fake, to->base, to->size);
    else __sanitizer_start_switch_fiber(&fake, w->sched_bottom, w->sched_size);
    cuemu_switch(save, to ? to->sp : w->sched_sp);
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#else
    cuemu_switch(save, to ? to->sp : w->sched_sp);
#endif
}

// Pops the next runnable thread (giving a new one a stack), or null when the queue is empty
// or the block failed. Runs on a fiber: scheduling needs no trip through the scheduler.
Thread* next_thread(Worker* w) {
    if (w->qcount == 0 || !w->error.empty()) return nullptr;
    Thread* t = &w->th[w->queue[w->qhead]];
    w->qhead = (w->qhead + 1) & 1023;
    w->qcount--;
    if (t->st == T_NEW) {
        t->stack = get_stack(w);
        if (!t->stack) {
            w->error = "out of memory for fiber stacks";
            return nullptr;
        }
        t->st = T_RUN;
        FiberHeader* h = t->stack->header();
        h->ctx = t->ctx;
        h->thread = t;
    }
    return t;
}

// Thread t (on its fiber) cannot go on: hands over to the next runnable thread (or to the
// scheduler when none is left) and returns once t is resumed.
void suspend(Worker* w, Thread* t) {
    Thread* nt = next_thread(w);
    if (nt == t) return;  // t itself was released first (it completed a barrier)
    w->cur = nt;
    switch_to(w, &t->stack->sp, nt ? nt->stack : nullptr);
}

void mark_done(Worker* w, Thread* t) {
    t->st = T_DONE;
    w->done++;
    w->warps[t->warp].exited |= 1u << t->lane;
}

// Every fiber starts here; after a CUDA thread finishes, the same fiber (stack) runs the next.
void fiber_main() {
    FiberHeader* h = fiber();
    Worker* w = static_cast<Worker*>(h->worker);
#ifdef CUEMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    for (;;) {
        Thread* t = static_cast<Thread*>(h->thread);
        Stack* my = t->stack;
        w->kernel->fn(w->args);
        // While the next queued thread has not started, run it on this same stack: a kernel
        // without barriers then costs a function call per CUDA thread, not a switch.
        while (w->qcount > 0 && w->th[w->queue[w->qhead]].st == T_NEW) {
            Thread* nt = &w->th[w->queue[w->qhead]];
            w->qhead = (w->qhead + 1) & 1023;
            w->qcount--;
            mark_done(w, t);
            t->stack = nullptr;
            nt->stack = my;
            nt->st = T_RUN;
            h->ctx = nt->ctx;
            h->thread = nt;
            w->cur = t = nt;
            w->kernel->fn(w->args);
        }
        mark_done(w, t);
        t->stack = nullptr;
        // Park this stack in the pool: whoever takes it resumes here and runs its new thread.
        w->free_stacks.push_back(my);
        Thread* nt = next_thread(w);
        w->cur = nt;
        switch_to(w, &my->sp, nt ? nt->stack : nullptr);
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

}  // namespace

// Runs one block to completion on this OS thread. False (w->error set) on failure.
bool run_block(Worker* w, uint3 bidx, std::uint64_t seed, std::uint64_t linear, std::size_t shmem) {
    w->blk.blockIdx = bidx;
    w->block_serial++;
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
    // The fibers hand control to each other; it comes back here when no thread is runnable
    // (all done, or a deadlock) or the block failed.
    bool ok = true;
    w->error.clear();
    Thread* first = next_thread(w);
    if (first) {
        w->cur = first;
        switch_to(w, &w->sched_sp, first->stack);
    }
    if (!w->error.empty()) ok = false;
    if (ok && w->done != n) {
        w->error = deadlock_report(w);
        ok = false;
    }
    if (!ok) {  // abandon the suspended fibers: fresh frames on their stacks, back to the pool
        // (a failed thread's stack is one of them; done threads' stacks are already pooled)
        for (int i = 0; i < n; i++) {
            Thread& t = w->th[i];
            if (!t.stack) continue;
#ifdef CUEMU_ASAN
            __asan_unpoison_memory_region(t.stack->base, t.stack->size);
#endif
            prepare(t.stack);
            w->free_stacks.push_back(t.stack);
            t.stack = nullptr;
        }
    }
    w->cur = nullptr;
    return ok;
}

namespace {

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
    if (!on_warp_arrival(w, t)) {  // inconsistent masks: w->error says so
        t->st = T_FAIL;
        switch_to(w, &t->stack->sp, nullptr);
        std::abort();  // never resumed
    }
    suspend(w, t);
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

}  // namespace

// ------------------------------------------------------------------ device-side entry points
void syncthreads() {
    Thread* t = current("__syncthreads");
    Worker* w = current_worker();
    if (w->n == 1) return;
    t->st = T_BAR;
    on_block_arrival(w);
    suspend(w, t);
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

void shared_decl(void* p, std::size_t bytes) {
    current("a __shared__ declaration");
    Worker* w = current_worker();
    if (!w->shuffle) return;
    for (auto& e : w->shared_seen)
        if (e.first == p) {
            if (e.second == w->block_serial) return;  // an earlier thread of this block poisoned it
            e.second = w->block_serial;
            std::memset(p, 0xff, bytes);
            return;
        }
    w->shared_seen.emplace_back(p, w->block_serial);
    std::memset(p, 0xff, bytes);
}

void fail(const char* what) {
    Thread* t = current("fail");
    Worker* w = current_worker();
    const uint3& i = t->ctx.threadIdx;
    w->error = std::string(what) + " (thread (" + std::to_string(i.x) + "," + std::to_string(i.y) + "," +
               std::to_string(i.z) + "))";
    t->st = T_FAIL;
    switch_to(w, &t->stack->sp, nullptr);
    std::abort();  // never resumed
}

void assert_fail(const char* expr, const char* file, int line) {
    std::string m = std::string("device assert failed: ") + expr + " at " + file + ":" + std::to_string(line);
    fail(m.c_str());
}

}  // namespace cuemu
