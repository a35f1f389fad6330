// Replays the launches the Java tests recorded on the emulator (convunext.backend.cuda.LaunchRecorder,
// `mvn test` writes them to target/emu/launches/*.launch): for each, the recorded buffers are
// allocated at exactly their recorded sizes (so AddressSanitizer flags any access outside what the
// Java launcher meant the kernel to touch), filled with the recorded inputs, and the kernel is
// launched with the recorded grid, block and arguments (pointers relocated into the new buffers),
// in order and with the shuffled schedule; every buffer must then hold the recorded outputs bit for
// bit (the Java test compared those with the float64 oracle). The launch geometry therefore comes
// from the Java launchers only. Called by emu_selftest (selftest_main.cpp).
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "check.h"

namespace emucheck {

namespace {

struct Reader {
    std::vector<char> d;
    std::size_t at = 0;
    bool ok = true;
    template <class T> T get() {
        T v{};
        if (at + sizeof(T) > d.size()) { ok = false; return v; }
        std::memcpy(&v, d.data() + at, sizeof(T));
        at += sizeof(T);
        return v;
    }
    const char* bytes(std::size_t n) {
        if (at + n > d.size()) { ok = false; return nullptr; }
        const char* p = d.data() + at;
        at += n;
        return p;
    }
};

struct Recording {
    std::string file, kernel, kinds;
    unsigned grid[3], block[3], shared;
    std::vector<std::uint64_t> slots;
    std::vector<std::uint64_t> region_bytes;
    std::vector<int> arg_region;
    std::vector<std::uint64_t> arg_offset;
    std::vector<const char*> before, after;
    std::vector<char> data;
};

std::string load(const std::string& path, Recording& r) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot open";
    Reader rd;
    rd.d.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    const char* magic = rd.bytes(4);
    if (!magic || std::memcmp(magic, "CXLR", 4) != 0) return "not a launch recording";
    if (rd.get<std::uint32_t>() != 1) return "unknown version";
    std::uint16_t nl = rd.get<std::uint16_t>();
    const char* name = rd.bytes(nl);
    if (!name) return "truncated";
    r.kernel.assign(name, nl);
    for (unsigned& g : r.grid) g = rd.get<std::uint32_t>();
    for (unsigned& b : r.block) b = rd.get<std::uint32_t>();
    r.shared = rd.get<std::uint32_t>();
    std::uint32_t n = rd.get<std::uint32_t>();
    const char* kinds = rd.bytes(n);
    if (!kinds) return "truncated";
    r.kinds.assign(kinds, n);
    for (std::uint32_t i = 0; i < n; i++) r.slots.push_back(rd.get<std::uint64_t>());
    std::uint32_t nr = rd.get<std::uint32_t>();
    for (std::uint32_t i = 0; i < nr; i++) r.region_bytes.push_back(rd.get<std::uint64_t>());
    for (std::uint32_t i = 0; i < n; i++) {
        r.arg_region.push_back(rd.get<std::int32_t>());
        r.arg_offset.push_back(rd.get<std::uint64_t>());
    }
    for (std::uint32_t i = 0; i < nr; i++) r.before.push_back(rd.bytes(r.region_bytes[i]));
    for (std::uint32_t i = 0; i < nr; i++) r.after.push_back(rd.bytes(r.region_bytes[i]));
    if (!rd.ok) return "truncated";
    r.data.swap(rd.d);   // the pointers above point into it; a vector's buffer survives the swap
    return "";
}

// One replay; "" when every buffer ends as recorded.
std::string replay_once(const Recording& r) {
    std::vector<char*> bufs;
    for (std::size_t i = 0; i < r.region_bytes.size(); i++) {
        char* p = static_cast<char*>(cuemu::dev_malloc(r.region_bytes[i]));
        std::memcpy(p, r.before[i], r.region_bytes[i]);
        bufs.push_back(p);
    }
    Args a;
    for (std::size_t i = 0; i < r.kinds.size(); i++) {
        char k = r.kinds[i];
        if (k == 'P') a.ptr(r.arg_region[i] < 0 ? nullptr : bufs[r.arg_region[i]] + r.arg_offset[i]);
        else { a.slots.push_back(r.slots[i]); a.kinds += k; }
    }
    std::string err = try_launch(r.kernel.c_str(), Dim(r.grid[0], r.grid[1], r.grid[2]),
                                 Dim(r.block[0], r.block[1], r.block[2]), r.shared, a);
    for (std::size_t i = 0; err.empty() && i < bufs.size(); i++) {
        const char* want = r.after[i];
        const char* got = bufs[i];
        std::size_t n = r.region_bytes[i], first = n, diff = 0;
        for (std::size_t b = 0; b < n; b++)
            if (want[b] != got[b]) { if (first == n) first = b; diff++; }
        if (diff) {
            float wf = 0, gf = 0;
            std::size_t w = first & ~std::size_t(3);
            if (w + 4 <= n) { std::memcpy(&wf, want + w, 4); std::memcpy(&gf, got + w, 4); }
            char b[240];
            std::snprintf(b, sizeof b, "buffer %zu (%zu bytes): %zu bytes differ from the recorded outputs, first at byte %zu "
                          "(as float: recorded %.9g, replayed %.9g)", i, n, diff, first, wf, gf);
            err = b;
        }
    }
    for (char* p : bufs) cuemu::dev_free(p);
    return err;
}

}  // namespace

// Replays every *.launch file in dir in the current mode; returns {passed, failed}, prints a line
// per failure and per file that cannot be replayed (a kernel since removed: skipped with a note).
std::pair<int, int> replay_dir(const std::string& dir, const char* mode) {
    std::vector<std::string> files;
    if (DIR* d = opendir(dir.c_str())) {
        while (dirent* e = readdir(d)) {
            std::string f = e->d_name;
            if (f.size() > 7 && f.compare(f.size() - 7, 7, ".launch") == 0) files.push_back(dir + "/" + f);
        }
        closedir(d);
    }
    std::sort(files.begin(), files.end());
    int passed = 0, failed = 0, stale = 0;
    for (const std::string& f : files) {
        Recording r;
        std::string e = load(f, r);
        const cuemu::KernelInfo* k = e.empty() ? cuemu::find_kernel(r.kernel.c_str()) : nullptr;
        if (e.empty() && (!k || r.kinds != std::string(k->kinds))) {
            stale++;   // recorded before the kernel was removed or its signature changed: `mvn test` rewrites it
            continue;
        }
        if (e.empty()) e = replay_once(r);
        if (e.empty()) {
            passed++;
        } else {
            failed++;
            std::printf("FAILED replay %-40s %s: %s\n", f.substr(f.rfind('/') + 1).c_str(), mode, e.c_str());
        }
    }
    if (stale) std::printf("note: %d recordings of kernels that no longer exist or changed their parameters were skipped "
                           "(run the Java tests again)\n", stale);
    return {passed, failed};
}

}  // namespace emucheck
