// scripts/delay-line.c: a wire with a delay, for kernels without tc's netem.
//
//   delay-line --delay 1ms [--ready FILE] TAP_A TAP_B
//
// Every Ethernet frame the kernel hands to tap device TAP_A comes out of TAP_B `--delay` later,
// in order, and the other way. The taps must exist (`ip tuntap add dev NAME mode tap`) and be in
// this network namespace when it starts; one may then move to another namespace, its file
// descriptor stays attached. `scripts/local-nodes link --delay` compiles it, starts it and stops
// it. A rate limit is tc's business (tbf on the taps). `--delay 0ms` passes every frame on at
// once: the same wire and its CPU without the delay, the fair baseline for a slowdown measured
// with it (scripts/local-nodes explains).
//
// The frames cross user space, so the wire costs CPU that a real link does not. It is C, not a
// script, to keep that cost small: the ranks share the machine's cores with it, and every cycle
// the wire takes shows up as a slower step, which is not what a slow link does. For the same
// reason the taps carry virtio-net headers with checksum and segmentation offload: the kernel
// then neither checksums nor cuts up what only crosses this machine.
#define _GNU_SOURCE  // ppoll
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

// A read returns one frame: at most 64 KiB of payload (the taps' MTU is below that), its Ethernet
// header and the virtio-net header in front.
enum { FRAME_LIMIT = 65536 + 64 + 64 };

// Frames in flight in one direction: a byte ring of records, oldest first. Frames enter with
// due = arrival + delay, so the ring stays sorted by due time.
typedef struct {
    uint64_t due_ns;
    uint32_t length;  // bytes of frame after the record header; 0 marks "skip to the ring's start"
    uint32_t padding;
} Record;

enum { RING_BYTES = 32 << 20 };  // 32 MiB a direction: 250 ms at 1 Gbit/s

typedef struct {
    unsigned char *bytes;
    size_t head, tail, used;  // head: oldest record; tail: where the next one goes
} Ring;

static void fail(const char *what) {
    fprintf(stderr, "delay-line: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static size_t aligned(size_t n) { return (n + 15) & ~(size_t)15; }

// Room for a full frame at the tail, contiguous; wraps to the start when the end is too short.
// NULL when the ring is full (the frame is then dropped, as on a congested wire).
static unsigned char *ring_reserve(Ring *ring) {
    size_t need = sizeof(Record) + FRAME_LIMIT;
    if (ring->used == 0) ring->head = ring->tail = 0;
    if (ring->tail >= ring->head) {
        if (RING_BYTES - ring->tail >= need) return ring->bytes + ring->tail;
        if (ring->head > need) {
            // Mark the rest of the end as skipped and continue at the start.
            if (RING_BYTES - ring->tail >= sizeof(Record)) {
                Record *skip = (Record *)(ring->bytes + ring->tail);
                skip->length = 0;
                skip->due_ns = 0;
            }
            ring->used += RING_BYTES - ring->tail;
            ring->tail = 0;
            return ring->bytes;
        }
        return NULL;
    }
    return ring->head - ring->tail > need ? ring->bytes + ring->tail : NULL;
}

static void ring_commit(Ring *ring, uint64_t due, size_t length) {
    Record *record = (Record *)(ring->bytes + ring->tail);
    record->due_ns = due;
    record->length = (uint32_t)length;
    size_t size = aligned(sizeof(Record) + length);
    ring->tail += size;
    ring->used += size;
}

// The oldest record, past any skip marker; NULL when empty.
static Record *ring_oldest(Ring *ring) {
    while (ring->used > 0) {
        if (RING_BYTES - ring->head < sizeof(Record) || ((Record *)(ring->bytes + ring->head))->length == 0) {
            ring->used -= RING_BYTES - ring->head;
            ring->head = 0;
            continue;
        }
        return (Record *)(ring->bytes + ring->head);
    }
    return NULL;
}

static void ring_pop(Ring *ring, Record *record) {
    size_t size = aligned(sizeof(Record) + record->length);
    ring->head += size;
    ring->used -= size;
}

static int attach(const char *name) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
    if (fd < 0) fail("open /dev/net/tun");
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "delay-line: tap name '%s' is longer than %d characters\n", name, IFNAMSIZ - 1);
        exit(2);
    }
    strcpy(request.ifr_name, name);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        fprintf(stderr, "delay-line: cannot attach to tap '%s': %s\n", name, strerror(errno));
        exit(1);
    }
    // Both taps speak the same header, so frames pass through unchanged, offload flags included.
    if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) fail("TUNSETOFFLOAD");
    return fd;
}

// "1ms", "250us", "0.5ms", "0ms": at least 0, at most 1 s.
static uint64_t parse_delay(const char *text) {
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    double scale = 0;
    if (end && strcmp(end, "ms") == 0) scale = 1e6;
    if (end && strcmp(end, "us") == 0) scale = 1e3;
    double ns = value * scale;
    if (errno || end == text || scale == 0 || !(ns >= 0) || ns > 1e9) {
        fprintf(stderr, "delay-line: --delay '%s' must be a number with us or ms, from 0 to 1 s (e.g. 1ms)\n", text);
        exit(2);
    }
    return (uint64_t)ns;
}

static void usage(void) {
    fprintf(stderr, "usage: delay-line --delay 1ms [--ready FILE] TAP_A TAP_B\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *delay_text = NULL, *ready = NULL, *taps[2];
    int tap_count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--delay") == 0 && i + 1 < argc) delay_text = argv[++i];
        else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) ready = argv[++i];
        else if (argv[i][0] != '-' && tap_count < 2) taps[tap_count++] = argv[i];
        else usage();
    }
    if (!delay_text || tap_count != 2) usage();
    uint64_t delay = parse_delay(delay_text);

    int ends[2] = {attach(taps[0]), attach(taps[1])};
    Ring flight[2];  // flight[i]: frames that leave through ends[i]
    for (int i = 0; i < 2; i++) {
        flight[i].bytes = malloc(RING_BYTES);
        if (!flight[i].bytes) fail("malloc");
        flight[i].head = flight[i].tail = flight[i].used = 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (ready) {
        FILE *file = fopen(ready, "w");
        if (!file) fail(ready);
        fprintf(file, "%d\n", (int)getpid());
        fclose(file);
    }

    for (;;) {
        uint64_t now = now_ns();
        uint64_t next_due = UINT64_MAX;
        for (int i = 0; i < 2; i++) {
            Record *record;
            while ((record = ring_oldest(&flight[i])) && record->due_ns <= now) {
                // A full or down tap drops the frame, as a wire would.
                (void)!write(ends[i], (unsigned char *)record + sizeof(Record), record->length);
                ring_pop(&flight[i], record);
            }
            if (record && record->due_ns < next_due) next_due = record->due_ns;
        }
        struct pollfd polls[2] = {{.fd = ends[0], .events = POLLIN}, {.fd = ends[1], .events = POLLIN}};
        struct timespec timeout, *wait = NULL;
        if (next_due != UINT64_MAX) {
            uint64_t left = next_due > now ? next_due - now : 0;
            timeout.tv_sec = (time_t)(left / 1000000000u);
            timeout.tv_nsec = (long)(left % 1000000000u);
            wait = &timeout;
        }
        if (ppoll(polls, 2, wait, NULL) < 0 && errno != EINTR) fail("ppoll");
        now = now_ns();
        for (int i = 0; i < 2; i++) {
            if (!(polls[i].revents & POLLIN)) continue;
            Ring *out = &flight[1 - i];
            for (;;) {
                unsigned char *slot = ring_reserve(out);
                if (!slot) {  // full: read and drop
                    static unsigned char discard[FRAME_LIMIT];
                    if (read(ends[i], discard, sizeof discard) < 0) break;
                    continue;
                }
                ssize_t length = read(ends[i], slot + sizeof(Record), FRAME_LIMIT);
                if (length < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    fail("read");
                }
                if (length > 0) ring_commit(out, now + delay, (size_t)length);
            }
        }
    }
}
