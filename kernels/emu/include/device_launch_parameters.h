// Emulator stub: everything a kernel needs comes from cuda_emu.h (force-included).
#pragma once
