#ifndef DUALPIPE_OLDEST_SYMBOLS_PROBE_H
#define DUALPIPE_OLDEST_SYMBOLS_PROBE_H
#ifdef __cplusplus
extern "C" {
#endif

/// Waits through the condition_variable::wait wrapper for a flag another thread sets under the
/// lock: returns how many waits it took (at least 1), or -1 if the flag was not set after a
/// million of them or the lock was not held again.
int dualpipe_probe_condition_variable_wait(void);

#ifdef __cplusplus
}
#endif
#endif
