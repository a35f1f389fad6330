// geometry.h — the launch geometry the kernels and their Java launchers share, written once.
// The build generates `convunext.backend.cuda.Kernels` (kernels/emu/gen_trampolines.py) with one
// `public static final int` per #define below, so a launcher reads Kernels.GT_BN where the kernel
// reads GT_BN; the kernel files static_assert what they assume about these (e.g. a block of
// GT_THREADS threads being the tile's thread count). Only integer constants, one per line:
// `#define NAME value-or-expression   // what it is` (the generator evaluates the expression).
#pragma once

// 1-D kernels: threads per block, and the cap on blocks of a grid-stride loop (Launcher.grid1D).
#define CU_THREADS 256
#define CU_GRID_STRIDE_MAX_BLOCKS 8192
// Two-level deterministic reductions (Launcher.chunks, LinearOps.splitK): blocks aimed at
// (enough to fill the GPU) and the fewest elements per chunk.
#define CU_REDUCE_TARGET_BLOCKS 1024
#define CU_REDUCE_MIN_CHUNK 64

// gemm_tile.cuh (gemm.cu, conv2d.cu): a GT_BM x GT_BN tile of C per block of GT_THREADS threads,
// GT_BK deep K slices; the _bm32 kernels use GT_BM_SMALL rows (chosen when M <= GT_BM_SMALL).
#define GT_THREADS 256
#define GT_BM 64
#define GT_BM_SMALL 32
#define GT_BN 64
#define GT_BK 16

// conv2d.cu's data-gradient gather: input channels per thread (grid.y = ceil(Ci / CONV_ICB)).
#define CONV_ICB 8

// dwconv7.cu: DW_T x DW_T outputs per block of DW_BLOCK_X x DW_BLOCK_Y threads, DW_R rows each.
#define DW_T 32
#define DW_R 4
#define DW_BLOCK_X DW_T
#define DW_BLOCK_Y (DW_T / DW_R)

// dwconv7_backward_weight: accumulators per channel (49 taps and the bias).
#define DW_TAPS_AND_BIAS 50
