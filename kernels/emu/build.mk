# Builds kernels/*.cu for the emulator (g++) and the GPU (nvcc -ptx). Run from the repository
# root by kernels/build.sh; make keeps it incremental (-MMD tracks the headers a kernel includes).
KDIR    := kernels
EMU     := kernels/emu
OUT     := target/emu
CLASSES := target/classes
LIB     := $(CLASSES)/native/linux-x86_64/libconvunext_emu.so
PTXDIR  := $(CLASSES)/ptx
CUBINDIR := $(CLASSES)/cubin
GEN     := $(OUT)/gen
CXX     ?= g++
JAVA_INC ?=

CU      := $(sort $(wildcard $(KDIR)/*.cu))
NAMES   := $(notdir $(basename $(CU)))
HDRS    := $(wildcard $(KDIR)/*.cuh $(KDIR)/*.h)
# gen_trampolines.py's instrumented copies of the headers (static __shared__ poisoned per block)
GENH    := $(HDRS:$(KDIR)/%=$(OUT)/gen/%)
CHECKS  := $(sort $(wildcard $(KDIR)/checks/*.cpp))
# The runtime (emu/<name>.cpp) that every emulator binary links; emu_internal.h is its private header.
RT      := emu_fibers emu_host

WARN    := -Wall -Wno-unused-function -Wno-unused-variable -Wno-unused-but-set-variable
KFLAGS  := -std=c++17 -fPIC $(WARN) -include $(EMU)/cuda_emu.h -I$(EMU)/include -I$(EMU) -I$(KDIR)
RTFLAGS := -std=c++17 -fPIC $(WARN) -I$(EMU)
# FMA/AVX2 when this CPU has them (the library is built where it runs): fmaf is otherwise a
# slow libm call. TLS descriptors make the __shared__ (thread_local) lookups cheap.
ARCH    := $(shell grep -qw fma /proc/cpuinfo 2>/dev/null && grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo -mfma -mavx2)
# -ffp-contract=fast: a*b+c may become one FMA, as nvcc's default --fmad=true does on the GPU.
REL     := -O2 -g0 $(ARCH) -ffp-contract=fast -mtls-dialect=gnu2
# -O2 as REL: the same FMA contractions, so a replay reproduces the recorded outputs bit for bit.
ASAN    := -O2 -g $(ARCH) -ffp-contract=fast -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

# Relink when the set of kernel files changes (a deleted .cu leaves no newer prerequisite).
$(shell mkdir -p $(OUT) && (echo '$(NAMES)' | cmp -s - $(OUT)/cu.list || echo '$(NAMES)' > $(OUT)/cu.list))
# Recompile when the flags change (a new g++ option must not leave stale objects behind).
FLAGSTAMP := $(OUT)/flags.txt
$(shell echo '$(CXX) $(KFLAGS) $(RTFLAGS) $(REL) $(ASAN)' | cmp -s - $(FLAGSTAMP) || echo '$(CXX) $(KFLAGS) $(RTFLAGS) $(REL) $(ASAN)' > $(FLAGSTAMP))

.PHONY: emu asan ptx bench
.SECONDARY:
emu: $(LIB)
asan: $(OUT)/asan/emu_selftest
ptx: $(NAMES:%=$(PTXDIR)/%.ptx) $(NAMES:%=$(CUBINDIR)/%.sm_90.cubin) $(PTXDIR)/kernels.index
bench: $(OUT)/rel/emu_bench

$(GEN)/%.cpp $(GEN)/%.kernels $(GEN)/%.cu: $(KDIR)/%.cu $(EMU)/gen_trampolines.py
	@mkdir -p $(GEN)
	@python3 $(EMU)/gen_trampolines.py $< $(GEN)/$*.cpp $(GEN)/$*.kernels

$(GEN)/%.cuh: $(KDIR)/%.cuh $(EMU)/gen_trampolines.py
	@mkdir -p $(GEN)
	@python3 $(EMU)/gen_trampolines.py --instrument $< $@

$(GEN)/%.h: $(KDIR)/%.h $(EMU)/gen_trampolines.py
	@mkdir -p $(GEN)
	@python3 $(EMU)/gen_trampolines.py --instrument $< $@

# ---------------------------------------------------------------- emulator library (for the JVM)
$(OUT)/rel/%.o: $(GEN)/%.cpp $(GEN)/%.cu $(GENH) $(EMU)/cuda_emu.h $(EMU)/emu_runtime.h $(FLAGSTAMP)
	@mkdir -p $(@D)
	@echo "[kernels] g++ $*.cu"
	@$(CXX) $(KFLAGS) $(REL) -MMD -MP -c $< -o $@

$(OUT)/rel/rt/%.o: $(EMU)/%.cpp $(EMU)/cuda_emu.h $(EMU)/emu_runtime.h $(EMU)/emu_internal.h $(FLAGSTAMP)
	@mkdir -p $(@D)
	@echo "[kernels] g++ emu/$*.cpp"
	@$(CXX) $(RTFLAGS) $(REL) $(JAVA_INC) -MMD -MP -c $< -o $@

$(LIB): $(NAMES:%=$(OUT)/rel/%.o) $(RT:%=$(OUT)/rel/rt/%.o) $(OUT)/rel/rt/jni_glue.o $(OUT)/cu.list
	@mkdir -p $(@D)
	@echo "[kernels] link $(notdir $@) ($(words $(NAMES)) kernel files)"
	@$(CXX) -shared -o $@ $(filter %.o,$^) -static-libstdc++ -static-libgcc -lpthread

$(PTXDIR)/kernels.index: $(NAMES:%=$(GEN)/%.kernels) $(OUT)/cu.list
	@mkdir -p $(@D)
	@cat $(filter %.kernels,$^) /dev/null > $@

$(OUT)/rel/emu_bench: $(NAMES:%=$(OUT)/rel/%.o) $(RT:%=$(OUT)/rel/rt/%.o) $(OUT)/rel/rt/bench_main.o
	@$(CXX) -o $@ $(filter %.o,$^) -lpthread

# ---------------------------------------------------------------- ASan/UBSan self-test binary
$(OUT)/asan/%.o: $(GEN)/%.cpp $(GEN)/%.cu $(GENH) $(EMU)/cuda_emu.h $(EMU)/emu_runtime.h $(FLAGSTAMP)
	@mkdir -p $(@D)
	@echo "[kernels] g++ (asan) $*.cu"
	@$(CXX) $(KFLAGS) $(ASAN) -MMD -MP -c $< -o $@

$(OUT)/asan/rt/%.o: $(EMU)/%.cpp $(EMU)/cuda_emu.h $(EMU)/emu_runtime.h $(EMU)/emu_internal.h $(EMU)/check.h $(FLAGSTAMP)
	@mkdir -p $(@D)
	@$(CXX) $(RTFLAGS) $(ASAN) -MMD -MP -c $< -o $@

$(OUT)/asan/checks/%.o: $(KDIR)/checks/%.cpp $(EMU)/check.h $(EMU)/emu_runtime.h $(FLAGSTAMP)
	@mkdir -p $(@D)
	@echo "[kernels] g++ (asan) checks/$*.cpp"
	@$(CXX) $(RTFLAGS) $(ASAN) -MMD -MP -c $< -o $@

$(OUT)/asan/emu_selftest: $(NAMES:%=$(OUT)/asan/%.o) $(RT:%=$(OUT)/asan/rt/%.o) $(OUT)/asan/rt/selftest_main.o $(OUT)/asan/rt/replay.o \
                          $(CHECKS:$(KDIR)/checks/%.cpp=$(OUT)/asan/checks/%.o) $(OUT)/cu.list
	@echo "[kernels] link $(notdir $@)"
	@$(CXX) $(ASAN) -o $@ $(filter %.o,$^) -lpthread

# ---------------------------------------------------------------- PTX for the GPU
$(PTXDIR)/%.ptx $(CUBINDIR)/%.sm_90.cubin: $(KDIR)/%.cu $(HDRS) $(EMU)/ptx_one.sh
	@mkdir -p $(PTXDIR) $(OUT)/ptxas
	@bash $(EMU)/ptx_one.sh $< $(PTXDIR)/$*.ptx $(OUT)/ptxas/$*.txt $(CUBINDIR)/$*.sm_90.cubin

-include $(wildcard $(OUT)/rel/*.d $(OUT)/rel/rt/*.d $(OUT)/asan/*.d $(OUT)/asan/rt/*.d $(OUT)/asan/checks/*.d)
