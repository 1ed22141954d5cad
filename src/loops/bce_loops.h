/* loops/bce_loops.h -- every BCE element loop (binary cross-entropy, focal, range checks). */
#ifndef CBCE_BCE_LOOPS_H
#define CBCE_BCE_LOOPS_H

#include "bce_logits_f64.h"
#include "bce_logits_f32.h"
#include "bce_probs_f64.h"
#include "bce_probs_f32.h"
#include "range_checks.h"
#include "focal.h"

#endif /* CBCE_BCE_LOOPS_H */
