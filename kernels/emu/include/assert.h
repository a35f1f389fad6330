// Emulator override of <assert.h> for kernel files: a failed device-side assert becomes a
// CudaError naming the kernel instead of abort()ing the JVM. Deliberately not include-guarded,
// like the real one.
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : ::cuemu::assert_fail(#e, __FILE__, __LINE__))
#endif
