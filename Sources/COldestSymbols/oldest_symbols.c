// The oldest versions of the symbols that raise what a bundle (scripts/bundle) needs of a node
// beyond glibc 2.34 and GCC 11's libstdc++, the libraries of RHEL 9 and its rebuilds. The static
// Swift runtime calls hypot and hypotf (Foundation, the Glibc overlay), which a link on glibc
// 2.35 or newer binds to their GLIBC_2.35 versions, and fmod and fmodf, which a link on glibc
// 2.38 or newer (Debian 13) binds to their GLIBC_2.38 ones; ICU inside Foundation calls
// std::condition_variable::wait, which GCC 12's libstdc++ exports at GLIBCXX_3.4.30 beside the
// GLIBCXX_3.4.11 version every later libstdc++ keeps. scripts/bundle links with
// `--wrap=SYMBOL` for each, which sends the runtime's calls to the __wrap_ functions here; they
// look the old versions up once with dlvsym (a .symver reference would be wrapped as well: the
// gold linker wraps a name whatever its version). The old and new versions compute the same
// results (glibc 2.35 and 2.38 only moved the error reporting of hypot and fmod). The ordinary
// build does not wrap, and these functions sit unused in it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

/// NAME at VERSION from the libraries the program loaded, found once; the program cannot go on
/// without it, so a miss ends it with the name.
static void *oldest(void **found, const char *name, const char *version) {
    void *symbol = __atomic_load_n(found, __ATOMIC_ACQUIRE);
    if (symbol == NULL) {
        symbol = dlvsym(RTLD_DEFAULT, name, version);
        if (symbol == NULL) {
            fprintf(stderr, "dualpipe: %s@%s not found: %s\n", name, version, dlerror());
            abort();
        }
        __atomic_store_n(found, symbol, __ATOMIC_RELEASE);
    }
    return symbol;
}

double __wrap_hypot(double x, double y) {
    static void *found;
    return ((double (*)(double, double))oldest(&found, "hypot", "GLIBC_2.2.5"))(x, y);
}

float __wrap_hypotf(float x, float y) {
    static void *found;
    return ((float (*)(float, float))oldest(&found, "hypotf", "GLIBC_2.2.5"))(x, y);
}

double __wrap_fmod(double x, double y) {
    static void *found;
    return ((double (*)(double, double))oldest(&found, "fmod", "GLIBC_2.2.5"))(x, y);
}

float __wrap_fmodf(float x, float y) {
    static void *found;
    return ((float (*)(float, float))oldest(&found, "fmodf", "GLIBC_2.2.5"))(x, y);
}

// std::condition_variable::wait(std::unique_lock<std::mutex>&): `this`, then the lock's address.
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock) {
    static void *found;
    ((void (*)(void *, void *))oldest(&found, "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE", "GLIBCXX_3.4.11"))(condition, lock);
}
