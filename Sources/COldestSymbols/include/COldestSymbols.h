#ifndef DUALPIPE_OLDEST_SYMBOLS_H
#define DUALPIPE_OLDEST_SYMBOLS_H
// The wrappers scripts/bundle links the runtime's calls to (oldest_symbols.c), declared for
// the unit tests that call them directly.
#ifdef __cplusplus
extern "C" {
#endif

double __wrap_hypot(double x, double y);
float __wrap_hypotf(float x, float y);
double __wrap_fmod(double x, double y);
float __wrap_fmodf(float x, float y);
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock);

#ifdef __cplusplus
}
#endif
#endif
