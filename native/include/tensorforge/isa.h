// Run-time choice of the SIMD code path. The binary is built for baseline x86-64; kernels compiled
// for AVX2+FMA or AVX-512 are only called when the CPU (and TENSORFORGE_ISA, if set) allows them.
#pragma once

namespace tf {

enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, avx512_bf16 = 3 };

Isa detected_isa();             // the best level this CPU supports
Isa active_isa();               // the level kernels use now
Isa set_isa(Isa wanted);        // clamps to detected_isa(), returns the level set
const char* isa_name(Isa isa);
bool cpu_has_vnni();            // AVX512-VNNI (int8 dot products), reported by `tensorforge info`

}  // namespace tf
