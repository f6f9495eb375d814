// A std::condition_variable waited on through the wrapper a bundle's runtime calls, from C++
// (the wait's arguments are C++ objects). The notifier needs the lock the waiter holds, so it
// gets in only if the wait releases it, and the waiter returns only if the wait takes it back.
#include "OldestSymbolsProbe.h"
#include "COldestSymbols.h"
#include <condition_variable>
#include <mutex>
#include <thread>

extern "C" int dualpipe_probe_condition_variable_wait(void) {
    std::mutex mutex;
    std::condition_variable condition;
    bool ready = false;
    std::unique_lock<std::mutex> lock(mutex);
    std::thread notifier([&] {
        std::lock_guard<std::mutex> guard(mutex);
        ready = true;
        condition.notify_one();
    });
    int waits = 0;
    // A wrapper that returned without waiting would spin here holding the lock: bounded.
    while (!ready && waits < 1000000) {
        __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(&condition, &lock);
        waits += 1;
    }
    bool owned = lock.owns_lock(), set = ready;
    lock.unlock();
    notifier.join();
    return owned && set ? waits : -1;
}
