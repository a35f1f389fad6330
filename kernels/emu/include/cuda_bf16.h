// Emulator stub: __nv_bfloat16 comes from emu_wmma.h, which cuda_emu.h (force-included) includes.
#pragma once
