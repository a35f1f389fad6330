// Checks of kernels on the emulator, for the ASan/UBSan self-test binary (kernels/emu/asan.sh).
// Put a file kernels/checks/<op>.cpp with
//     #include "check.h"
//     EMU_CHECK(conv2d_smoke) {
//         emucheck::Buf<float> x(emucheck::randn(2 * 3 * 9 * 9, 1)), y(2 * 4 * 9 * 9);
//         emucheck::launch("conv2d_fwd", {grid}, {256}, 0, emucheck::Args().ptr(x).ptr(y).i32(9));
//         emucheck::expect_near(want, y[0], 1e-5, "y[0]");
//     }
// and it is compiled and run by the next `bash kernels/emu/asan.sh` (every check runs twice: in
// order and with the randomised schedule). Out-of-bounds accesses of the kernel into these
// buffers, use of uninitialised stack and undefined behaviour abort with a report.
#pragma once
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "emu_runtime.h"

namespace emucheck {

struct Dim {
    unsigned x = 1, y = 1, z = 1;
    Dim(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
};

/** Kernel arguments in order, marshalled like KernelArgs/cuLaunchKernel (8-byte slots). */
struct Args {
    std::vector<std::uint64_t> slots;
    std::string kinds;
    Args& ptr(const void* p) { slots.push_back((std::uint64_t)(std::uintptr_t)p); kinds += 'P'; return *this; }
    Args& i32(int v) { slots.push_back((std::uint32_t)v); kinds += 'I'; return *this; }
    Args& i64(long long v) { slots.push_back((std::uint64_t)v); kinds += 'L'; return *this; }
    Args& f32(float v) { std::uint32_t b; std::memcpy(&b, &v, 4); slots.push_back(b); kinds += 'F'; return *this; }
};

/** A device buffer (emulator memory) of n elements of T; copies from a host vector if given. */
template <class T> struct Buf {
    T* p = nullptr;
    std::size_t n = 0;
    explicit Buf(std::size_t count) : p(static_cast<T*>(cuemu::dev_malloc(count * sizeof(T)))), n(count) {
        std::memset((void*)p, 0, count * sizeof(T));
    }
    explicit Buf(const std::vector<T>& v) : Buf(v.size()) { std::memcpy((void*)p, v.data(), v.size() * sizeof(T)); }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() { cuemu::dev_free(p); }
    T& operator[](std::size_t i) { return p[i]; }
    std::vector<T> host() const { return std::vector<T>(p, p + n); }
    operator const void*() const { return p; }
};

/** Launches and waits; throws std::runtime_error with the emulator's message on failure. */
void launch(const char* kernel, Dim grid, Dim block, std::size_t shmem, const Args& args);
/** Like launch, but returns the error message ("" on success). */
std::string try_launch(const char* kernel, Dim grid, Dim block, std::size_t shmem, const Args& args);

std::vector<float> randn(std::size_t n, std::uint64_t seed);
void expect(bool ok, const std::string& what);
void expect_near(double want, double got, double rel_tol, const std::string& what);

typedef void (*CheckFn)();
struct Reg {
    Reg(const char* name, CheckFn fn);
};

}  // namespace emucheck

#define EMU_CHECK(name)                                              \
    static void emu_check_##name();                                  \
    static ::emucheck::Reg emu_check_reg_##name(#name, &emu_check_##name); \
    static void emu_check_##name()
