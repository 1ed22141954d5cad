/* cpu_dispatch.h -- what the running CPU supports, and the loop tables built into this module.
 *
 * Included by the core (src/_kernels.pyx). cbce/_dispatch.py picks a target from these two
 * facts (its preference order, or CBCE_KERNEL) and the core then runs every element loop through
 * that target's table (src/loops/table.h). setup.py compiles src/loops/table.c once per target
 * and defines CBCE_BUILT_<TARGET> for each table it links in.
 */
#ifndef CBCE_CPU_DISPATCH_H
#define CBCE_CPU_DISPATCH_H

#include <stddef.h>
#include <string.h>

#include "loops/table.h"

CBCE_LOOPS_HIDDEN extern const cbce_loop_table cbce_loops_baseline;
#ifdef CBCE_BUILT_SSE42
CBCE_LOOPS_HIDDEN extern const cbce_loop_table cbce_loops_sse42;
#endif
#ifdef CBCE_BUILT_AVX2
CBCE_LOOPS_HIDDEN extern const cbce_loop_table cbce_loops_avx2;
#endif
#ifdef CBCE_BUILT_AVX512
CBCE_LOOPS_HIDDEN extern const cbce_loop_table cbce_loops_avx512;
#endif

/* Every table built, baseline first; NULL-terminated. */
static const cbce_loop_table *const cbce_built_tables[] = {
    &cbce_loops_baseline,
#ifdef CBCE_BUILT_SSE42
    &cbce_loops_sse42,
#endif
#ifdef CBCE_BUILT_AVX2
    &cbce_loops_avx2,
#endif
#ifdef CBCE_BUILT_AVX512
    &cbce_loops_avx512,
#endif
    NULL
};

/* The table built under this name, or NULL. */
static const cbce_loop_table *cbce_find_table(const char *name)
{
    for (size_t i = 0; cbce_built_tables[i] != NULL; i++)
        if (strcmp(cbce_built_tables[i]->name, name) == 0)
            return cbce_built_tables[i];
    return NULL;
}

/* The x86 features that decide the target (all 0 elsewhere), in the order of CBCE_CPU_FEATURES
   (src/_kernels_impl.pxi). __builtin_cpu_supports wants literals, hence the switch; it also
   checks that the OS saves the AVX / AVX-512 registers. */
static int cbce_cpu_has(int which)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    switch (which) {
    case 0: return __builtin_cpu_supports("sse3");
    case 1: return __builtin_cpu_supports("ssse3");
    case 2: return __builtin_cpu_supports("sse4.1");
    case 3: return __builtin_cpu_supports("sse4.2");
    case 4: return __builtin_cpu_supports("popcnt");
    case 5: return __builtin_cpu_supports("avx2");
    case 6: return __builtin_cpu_supports("fma");
    case 7: return __builtin_cpu_supports("bmi");
    case 8: return __builtin_cpu_supports("bmi2");
    case 9: return __builtin_cpu_supports("avx512f");
    case 10: return __builtin_cpu_supports("avx512bw");
    case 11: return __builtin_cpu_supports("avx512cd");
    case 12: return __builtin_cpu_supports("avx512dq");
    case 13: return __builtin_cpu_supports("avx512vl");
    }
#endif
    (void)which;
    return 0;
}

#endif /* CBCE_CPU_DISPATCH_H */
