// Private to the emulator runtime, shared by its two halves: emu_fibers.cpp (fibers, the block
// scheduler, the device-side entry points) and emu_host.cpp (registry, memory, grids, the host API).
// Everything here is hidden: the library exports none of it.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "cuda_emu.h"
#include "emu_runtime.h"
// The runtime names the fields behind these macros directly.
#undef threadIdx
#undef blockIdx
#undef blockDim
#undef gridDim

namespace cuemu {
#pragma GCC visibility push(hidden)

// Internal linkage in each file that includes this, as before the split (not `inline`: the same
// inlining as before).
static std::uint64_t splitmix(std::uint64_t& s) {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

template <class T> static void shuffle(T* a, int n, std::uint64_t& rng) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(splitmix(rng) % (std::uint64_t)(i + 1));
        std::swap(a[i], a[j]);
    }
}

static std::string hex(std::uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
    return b;
}

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

// One per OS thread that runs blocks: the block's threads, warps, run queue and fiber stacks.
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
    std::uint64_t block_serial = 0;  // counts the blocks run on this worker
    // static __shared__ arrays poisoned so far, with the block_serial of the block that did it
    std::vector<std::pair<void*, std::uint64_t>> shared_seen;
    std::uint64_t switches = 0;
    std::string error;

    ~Worker();  // unmaps the stacks (emu_fibers.cpp)

    void enqueue(int i) {
        queue[(qhead + qcount) & 1023] = i;  // a ring of 1024 >= n entries: no division
        qcount++;
    }
};

/** This OS thread's worker (created on first use). */
Worker* worker();
/** Runs one block to completion on this OS thread. False (w->error set) on failure. */
bool run_block(Worker* w, uint3 bidx, std::uint64_t seed, std::uint64_t linear, std::size_t shmem);

#pragma GCC visibility pop
}  // namespace cuemu
