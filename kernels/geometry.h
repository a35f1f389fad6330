// geometry.h — the launch geometry the kernels and their Java launchers share, written once.
// The build generates `convunext.backend.cuda.Kernels` (kernels/emu/gen_trampolines.py) with one
// `public static final int` per #define below, so a launcher reads Kernels.GT_THREADS where the
// kernel reads GT_THREADS; the kernel files static_assert what they assume about these (e.g. a
// tile configuration's thread count being the block the launcher asks for). Only integer
// constants, one per line: `#define NAME value-or-expression   // what it is` (the generator
// evaluates the expression).
#pragma once

// 1-D kernels: threads per block, and the cap on blocks of a grid-stride loop (Launcher.grid1D).
#define CU_THREADS 256
#define CU_GRID_STRIDE_MAX_BLOCKS 8192
// Two-level deterministic reductions (Launcher.chunks): blocks aimed at (enough to fill the GPU)
// and the fewest elements per chunk.
#define CU_REDUCE_TARGET_BLOCKS 1024
#define CU_REDUCE_MIN_CHUNK 64
// Elements per thread of the one-piece-per-thread kernels (cu_piece4: gate.cu, layout.cu's concat).
#define CU_PIECE 4

// gemm_tile.cuh (gemm.cu, conv2d.cu): GT_BK deep K slices; the forward / data-gradient tiles
// BM x BN = GT_L (128x128, 8x8 per thread), GT_M (64x128, 4x8), GT_S (32x256, 4x8), all of
// GT_THREADS threads; a block runs several column tiles only when K <= GT_SHORT_K.
#define GT_BK 16
#define GT_THREADS 256
#define GT_L_BM 128
#define GT_L_BN 128
#define GT_M_BM 64
#define GT_M_BN 128
#define GT_S_BM 32
#define GT_S_BN 256
#define GT_SHORT_K 128
// Weight-gradient tiles <BM>x<BN> (gemm_backward_weight_part_*, conv2d_backward_weight_part_*):
// threads per block = (BM/TM)(BN/TN).
#define GW_THREADS_128X128 256
#define GW_THREADS_128X32 128
#define GW_THREADS_32X128 128
#define GW_THREADS_64X64 128
#define GW_THREADS_32X32 64

// conv2d.cu's data-gradient gather (shapes other than 2x2 stride 2): input channels per thread
// (grid.y = ceil(Ci / CONV_ICB)).
#define CONV_ICB 8

// dwconv7.cu: DW_TX x DW_TY outputs per block of DW_TX x (DW_TY / DW_R) threads, DW_R rows each.
#define DW_TX 32
#define DW_R 8
#define DW_TY (8 * DW_R)
#define DW_THREADS (DW_TX * 8)
// dwconv7_backward_weight: accumulators per channel (49 taps and the bias).
#define DW_TAPS_AND_BIAS 50

// batchnorm.cu's apply kernels: elements of one (n, c) plane per block.
#define BN_EPB 4096
// batchnorm.cu's one-launch kernels (batchnorm_*_fused): one block of BN_FUSED_THREADS threads
// per channel (when BatchNormOps.fused takes them).
#define BN_FUSED_THREADS 1024

// upsample.cu, 32x8 threads: upsample2x_forward's output tile (UP_FX columns, 4 per thread in x;
// UP_FY rows, 2 per thread in y).
#define UP_FX 128
#define UP_FY 16
