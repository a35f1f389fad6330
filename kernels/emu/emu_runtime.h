// Host side of the CUDA emulator: kernel registry, device memory, launches. Used by the generated
// per-file wrappers (registration), the JNI glue and the C++ self-test harness.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cuemu {

typedef void (*Trampoline)(void** args);      // calls the kernel with *(T_i*)args[i]
typedef void (*SmemPoison)(std::size_t bytes);  // fills the file's dynamic shared arrays

struct KernelInfo {
    const char* name;
    Trampoline fn;
    int nargs;
    const char* kinds;   // one letter per parameter: P pointer, I int32, L int64, F float
    const char* params;  // the declared parameter list, for messages
    const char* file;
    SmemPoison poison;   // null when the file declares no extern __shared__ array
    int maxThreads;      // __launch_bounds__'s maxThreadsPerBlock (0: none declared)
};

struct Registrar {
    Registrar(const KernelInfo* const* kernels, int n);
};

const KernelInfo* find_kernel(const char* name);
std::vector<const KernelInfo*> all_kernels();

/** threads: OS threads running blocks (0 = default); seed: 0 = in-order, else randomised order. */
void configure(int threads, std::uint64_t shuffle_seed, bool check_pointers);
int configured_threads();
std::uint64_t configured_seed();

/** Runs the whole grid before returning. Empty string on success, else the error. */
std::string launch(const KernelInfo* k, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                   unsigned by, unsigned bz, std::size_t shmem, void** args, int nargs,
                   const char* kinds);

/** Device memory = host memory, 256-byte aligned, tracked so launches can check pointer args. */
void* dev_malloc(std::size_t bytes);
bool dev_free(void* p);  // false if p is not a live allocation
std::size_t dev_allocated_bytes();
/** The live allocation holding p: its start and size. False if none. */
bool dev_allocation(const void* p, std::size_t* base, std::size_t* bytes);
/** Whether [p, p+bytes) lies inside one live allocation. */
bool dev_range_ok(const void* p, std::size_t bytes);

struct Stats {
    std::uint64_t launches, blocks, threads, switches;
};
Stats stats();

/** Largest dynamic shared memory a launch may ask for (H100/H200 opt-in maximum). */
constexpr std::size_t kMaxDynamicShared = 227 * 1024;

}  // namespace cuemu
