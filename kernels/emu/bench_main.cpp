// Emulator speed: fiber switch cost (a barrier-bound kernel), per-thread cost of a barrier-free
// kernel, and a tiled matmul. `make -f kernels/emu/build.mk bench && target/emu/rel/emu_bench`.
#include <ctime>
#include <cstdio>
#include <cstring>
#include <vector>

#include "emu_runtime.h"

namespace {
double run(const char* name, unsigned gx, unsigned gy, unsigned bx, unsigned by, std::vector<std::uint64_t> slots,
           const char* kinds) {
    std::vector<void*> a;
    for (auto& s : slots) a.push_back(&s);
    // CPU time of the process, not wall time: the machine may be shared (then wall time lies).
    timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    std::string e = cuemu::launch(cuemu::find_kernel(name), gx, gy, 1, bx, by, 1, 0, a.data(), (int)a.size(), kinds);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (!e.empty()) std::printf("%s: %s\n", name, e.c_str());
    return s;
}
std::uint64_t P(void* p) { return (std::uint64_t)(std::uintptr_t)p; }
std::uint64_t F(float f) { std::uint32_t b; std::memcpy(&b, &f, 4); return b; }
}  // namespace

int main() {
    const int n = 1 << 22;
    float* x = (float*)cuemu::dev_malloc(4u * n);
    float* y = (float*)cuemu::dev_malloc(4u * n);
    for (int i = 0; i < n; i++) x[i] = y[i] = 1.0f;
    for (int threads : {1, 2}) {
        cuemu::configure(threads, 0, true);
        std::printf("-- %d OS thread(s); times are CPU seconds summed over threads\n", threads);
        const int blocks = 64, iters = 200;
        cuemu::Stats s0 = cuemu::stats();
        double t = run("selftest_barrier_loop", blocks, 1, 256, 1, {P(y), (std::uint64_t)iters}, "PI");
        cuemu::Stats s1 = cuemu::stats();
        double sw = (double)(s1.switches - s0.switches);
        std::printf("barrier loop: %d blocks x 256 threads x %d __syncthreads: %.3f s, %.0f fiber resumes, "
                    "%.1f ns per resume (each = 2 context switches + scheduling)\n",
                    blocks, iters, t, sw, t * 1e9 / sw);
        t = run("selftest_saxpy", n / 256, 1, 256, 1, {P(y), P(x), F(0.5f), (std::uint64_t)n}, "PPFI");
        std::printf("saxpy (no barrier): %d CUDA threads in %.3f s = %.1f ns per thread\n", n, t, t * 1e9 / n);
        int m = 256;
        t = run("selftest_matmul", m / 16, m / 16, 16, 16, {P(x), P(x), P(y), (std::uint64_t)m, (std::uint64_t)m, (std::uint64_t)m}, "PPPIII");
        std::printf("matmul %dx%dx%d (16x16 tiles, 2 barriers per tile step): %.3f s = %.2f GFLOP/s\n", m, m, m, t,
                    2.0 * m * m * m / t / 1e9);
    }
    cuemu::dev_free(x);
    cuemu::dev_free(y);
    return 0;
}
