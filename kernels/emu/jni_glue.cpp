// JNI entry points of convunext.backend.cuda.EmuNative over the emulator's host API.
// Failures throw convunext.backend.cuda.CudaError; the Java side adds the launch's context.
#include <jni.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

#include "emu_runtime.h"

namespace {

void throw_cuda_error(JNIEnv* env, const std::string& msg) {
    jclass c = env->FindClass("convunext/backend/cuda/CudaError");
    if (!c) return;  // NoClassDefFoundError is already pending
    env->ThrowNew(c, msg.c_str());
}

void* as_ptr(jlong v) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(v)); }

// A bad address from Java must be a CudaError, not a crash of the JVM.
bool range_ok(JNIEnv* env, const char* call, jlong p, jlong bytes) {
    if (bytes >= 0 && (bytes == 0 || cuemu::dev_range_ok(as_ptr(p), (std::size_t)bytes))) return true;
    char b[160];
    std::snprintf(b, sizeof b, "%s: [0x%llx, +%lld bytes) is not inside one live device allocation", call,
                  (unsigned long long)p, (long long)bytes);
    throw_cuda_error(env, b);
    return false;
}

}  // namespace

#define EMU_FN(ret, name) extern "C" JNIEXPORT ret JNICALL Java_convunext_backend_cuda_EmuNative_##name

EMU_FN(jlong, malloc)(JNIEnv* env, jclass, jlong bytes) {
    if (bytes < 0) { throw_cuda_error(env, "malloc: negative size " + std::to_string(bytes)); return 0; }
    void* p = cuemu::dev_malloc((std::size_t)bytes);
    if (!p) throw_cuda_error(env, "malloc: out of host memory for " + std::to_string(bytes) + " bytes");
    return (jlong)(std::uintptr_t)p;
}

EMU_FN(void, free)(JNIEnv* env, jclass, jlong ptr) {
    if (!cuemu::dev_free(as_ptr(ptr))) throw_cuda_error(env, "free: " + std::to_string(ptr) + " is not a live allocation");
}

EMU_FN(void, copyHtoD)(JNIEnv* env, jclass, jlong dst, jfloatArray src, jint off, jint count) {
    if (!range_ok(env, "copyHtoD", dst, 4LL * count)) return;
    env->GetFloatArrayRegion(src, off, count, static_cast<jfloat*>(as_ptr(dst)));
}

EMU_FN(void, copyDtoH)(JNIEnv* env, jclass, jfloatArray dst, jint off, jlong src, jint count) {
    if (!range_ok(env, "copyDtoH", src, 4LL * count)) return;
    env->SetFloatArrayRegion(dst, off, count, static_cast<const jfloat*>(as_ptr(src)));
}

EMU_FN(void, copyDtoD)(JNIEnv* env, jclass, jlong dst, jlong src, jlong bytes) {
    if (!range_ok(env, "copyDtoD (destination)", dst, bytes) || !range_ok(env, "copyDtoD (source)", src, bytes)) return;
    std::memmove(as_ptr(dst), as_ptr(src), (std::size_t)bytes);
}

EMU_FN(void, memset)(JNIEnv* env, jclass, jlong ptr, jint value, jlong bytes) {
    if (!range_ok(env, "memset", ptr, bytes)) return;
    std::memset(as_ptr(ptr), value, (std::size_t)bytes);
}

EMU_FN(jlongArray, allocation)(JNIEnv* env, jclass, jlong ptr) {
    std::size_t base = 0, bytes = 0;
    if (!cuemu::dev_allocation(as_ptr(ptr), &base, &bytes)) return nullptr;
    jlong v[2] = {(jlong)base, (jlong)bytes};
    jlongArray a = env->NewLongArray(2);
    env->SetLongArrayRegion(a, 0, 2, v);
    return a;
}

EMU_FN(jbyteArray, readBytes)(JNIEnv* env, jclass, jlong ptr, jint n) {
    if (!range_ok(env, "readBytes", ptr, n)) return nullptr;
    jbyteArray a = env->NewByteArray(n);
    env->SetByteArrayRegion(a, 0, n, static_cast<const jbyte*>(as_ptr(ptr)));
    return a;
}

EMU_FN(jlong, kernel)(JNIEnv* env, jclass, jstring name) {
    const char* s = env->GetStringUTFChars(name, nullptr);
    const cuemu::KernelInfo* k = cuemu::find_kernel(s);
    env->ReleaseStringUTFChars(name, s);
    return (jlong)(std::uintptr_t)k;
}

EMU_FN(jstring, signature)(JNIEnv* env, jclass, jlong handle) {
    auto* k = static_cast<const cuemu::KernelInfo*>(as_ptr(handle));
    std::string s = std::string(k->name) + "(" + k->params + ") [" + k->file + "]";
    return env->NewStringUTF(s.c_str());
}

EMU_FN(jobjectArray, kernelNames)(JNIEnv* env, jclass) {
    auto ks = cuemu::all_kernels();
    jobjectArray a = env->NewObjectArray((jsize)ks.size(), env->FindClass("java/lang/String"), nullptr);
    for (std::size_t i = 0; i < ks.size(); i++) env->SetObjectArrayElement(a, (jsize)i, env->NewStringUTF(ks[i]->name));
    return a;
}

// slots: one 8-byte slot per argument (4-byte kinds in the low half, little-endian);
// kinds: 'P', 'I', 'L' or 'F' per argument.
EMU_FN(void, launch)(JNIEnv* env, jclass, jlong handle, jint gx, jint gy, jint gz, jint bx, jint by, jint bz,
                     jint shmem, jlongArray slots, jbyteArray kinds) {
    auto* k = static_cast<const cuemu::KernelInfo*>(as_ptr(handle));
    jsize n = env->GetArrayLength(kinds);   // slots may be longer (a reused buffer)
    if (env->GetArrayLength(slots) < n) { throw_cuda_error(env, "fewer argument slots than kinds"); return; }
    if (n > 64) { throw_cuda_error(env, "more than 64 kernel arguments"); return; }
    jlong buf[64];
    char kind[65];
    void* args[64];
    env->GetLongArrayRegion(slots, 0, n, buf);
    env->GetByteArrayRegion(kinds, 0, n, reinterpret_cast<jbyte*>(kind));
    kind[n] = 0;
    for (jsize i = 0; i < n; i++) args[i] = &buf[i];
    if (gx < 0 || gy < 0 || gz < 0 || bx < 0 || by < 0 || bz < 0 || shmem < 0) {
        throw_cuda_error(env, "negative grid, block or shared-memory size");
        return;
    }
    std::string err = cuemu::launch(k, (unsigned)gx, (unsigned)gy, (unsigned)gz, (unsigned)bx, (unsigned)by,
                                    (unsigned)bz, (std::size_t)shmem, args, (int)n, kind);
    if (!err.empty()) throw_cuda_error(env, err);
}

EMU_FN(void, configure)(JNIEnv*, jclass, jint threads, jlong seed, jboolean checkPointers) {
    cuemu::configure(threads, (std::uint64_t)seed, checkPointers == JNI_TRUE);
}

EMU_FN(jlongArray, state)(JNIEnv* env, jclass) {
    cuemu::Stats s = cuemu::stats();
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES), pg = sysconf(_SC_PAGESIZE);
    jlong v[9] = {(jlong)s.launches, (jlong)s.blocks, (jlong)s.threads, (jlong)s.switches,
                  (jlong)cuemu::configured_threads(), (jlong)cuemu::configured_seed(),
                  (jlong)cuemu::dev_allocated_bytes(), (jlong)avail * pg, (jlong)pages * pg};
    jlongArray a = env->NewLongArray(9);
    env->SetLongArrayRegion(a, 0, 9, v);
    return a;
}
