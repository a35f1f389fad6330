// Emulator stub: nvcuda::wmma comes from emu_wmma.h, which cuda_emu.h (force-included) includes.
#pragma once
