// vggsim's persistent thread pool: N-1 workers created once, woken per parallel region; the
// calling thread works too. The first region starts the pool with $VGGSIM_THREADS threads
// (default 1) unless vggsim_pool_start was called before.
//
// A region runs items [0, n) of a task. Threads claim ranges of items from one shared
// atomic cursor, guided self-scheduling: a claim takes max(1, left / (2·threads)) items, so
// the first claims are large (each thread walks a long run of neighbouring items, which
// share weights and input rows) and the last ones single items (the region ends evenly).
// A thread that is descheduled on a shared machine simply claims less: the others take
// its share, nobody waits for a thread that has not started.
//
// The cursor is one 64-bit word, generation (20 bits) | items (22) | next item (22), claimed
// by compare-and-swap: a worker that wakes late for a finished region fails its claim, since
// the generation or the item count differ, and never runs another region's items with the
// wrong task. Regions of more than 2^22 items run as several regions.
//
// Waking: workers spin on a 32-bit region counter for a while after each region (layers
// follow each other within microseconds), then sleep on it with futex(2), so an idle pool
// costs no CPU; the caller makes the futex call only when some worker sleeps.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef void (*vggsim_task)(float **args, int64_t lo, int64_t hi);

enum { VGGSIM_MAX_THREADS = 64, VGGSIM_SPIN = 50000 };

#define ITEM_BITS 22
#define ITEM_MASK ((UINT64_C(1) << ITEM_BITS) - 1)
#define GEN_MASK ((UINT64_C(1) << (64 - 2 * ITEM_BITS)) - 1)

static int pool_n = 1;      // threads created (the caller included)
static int pool_active = 1; // threads a region is split across
static int pool_started;
static pthread_t pool_th[VGGSIM_MAX_THREADS];

static _Atomic uint64_t pool_cursor; // gen | n | next, see above
static _Atomic int64_t pool_left;    // items of the current region not finished yet
static _Atomic uint32_t pool_wake;   // futex word: bumped once per region
static _Atomic int pool_sleepers;    // workers in (or about to enter) futex_wait
static _Atomic(vggsim_task) pool_fn;
static _Atomic(float **) pool_args;
static _Atomic int64_t pool_base; // item offset of the region (regions of > 2^22 items)
static uint64_t pool_gen;         // the caller's generation counter

static void futex_wait(_Atomic uint32_t *w, uint32_t v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, 0, 0, 0); }
static void futex_wake(_Atomic uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0); }

// pool_work claims and runs ranges of the current region until none are left.
static void pool_work(void) {
	int threads = pool_active;
	for (;;) {
		uint64_t v = atomic_load_explicit(&pool_cursor, memory_order_acquire);
		uint64_t n = (v >> ITEM_BITS) & ITEM_MASK, next = v & ITEM_MASK;
		if (next >= n) return;
		// The task and arguments are read before the claim: a successful claim proves the
		// region they belong to was still running (its items unclaimed), so they are its own.
		vggsim_task fn = atomic_load_explicit(&pool_fn, memory_order_relaxed);
		float **args = atomic_load_explicit(&pool_args, memory_order_relaxed);
		int64_t base = atomic_load_explicit(&pool_base, memory_order_relaxed);
		uint64_t take = (n - next) / (2 * (uint64_t)threads);
		if (take < 1) take = 1;
		if (!atomic_compare_exchange_weak_explicit(&pool_cursor, &v, v + take, memory_order_acq_rel, memory_order_acquire))
			continue;
		fn(args, base + (int64_t)next, base + (int64_t)(next + take));
		atomic_fetch_sub_explicit(&pool_left, (int64_t)take, memory_order_release);
	}
}

static void *pool_worker(void *p) {
	(void)p;
	uint32_t seen = atomic_load(&pool_wake);
	for (;;) {
		uint32_t w;
		int spins = 0;
		while ((w = atomic_load_explicit(&pool_wake, memory_order_acquire)) == seen) {
			if (++spins < VGGSIM_SPIN) {
				__builtin_ia32_pause();
				continue;
			}
			atomic_fetch_add(&pool_sleepers, 1);
			while (atomic_load(&pool_wake) == seen) futex_wait(&pool_wake, seen);
			atomic_fetch_sub(&pool_sleepers, 1);
		}
		seen = w;
		pool_work();
	}
	return 0;
}

// vggsim_pool_start sets the pool to n threads (the caller included); it creates the
// missing workers once. It returns the thread count in effect. Call it only between
// regions, from the thread that runs them.
int vggsim_pool_start(int n) {
	pool_started = 1;
	if (n < 1) n = 1;
	if (n > VGGSIM_MAX_THREADS) n = VGGSIM_MAX_THREADS;
	for (int i = pool_n; i < n; i++) {
		if (pthread_create(&pool_th[i], 0, pool_worker, 0) != 0) break;
		pthread_detach(pool_th[i]);
		pool_n = i + 1;
	}
	pool_active = n < pool_n ? n : pool_n;
	return pool_active;
}

// vggsim_parallel runs fn over items [0, n) across the pool and returns when all are
// done. One thread at a time may run regions.
void vggsim_parallel(vggsim_task fn, float **args, int64_t n) {
	if (!pool_started) {
		const char *e = getenv("VGGSIM_THREADS");
		vggsim_pool_start(e ? atoi(e) : 1);
	}
	if (pool_active == 1 || n < 2) {
		if (n > 0) fn(args, 0, n);
		return;
	}
	for (int64_t base = 0; base < n; base += (int64_t)ITEM_MASK) {
		int64_t m = n - base < (int64_t)ITEM_MASK ? n - base : (int64_t)ITEM_MASK;
		atomic_store_explicit(&pool_fn, fn, memory_order_relaxed);
		atomic_store_explicit(&pool_args, args, memory_order_relaxed);
		atomic_store_explicit(&pool_base, base, memory_order_relaxed);
		atomic_store_explicit(&pool_left, m, memory_order_relaxed);
		pool_gen = (pool_gen + 1) & GEN_MASK;
		atomic_store_explicit(&pool_cursor, pool_gen << (2 * ITEM_BITS) | (uint64_t)m << ITEM_BITS, memory_order_release);
		atomic_fetch_add(&pool_wake, 1);
		if (atomic_load(&pool_sleepers) > 0) futex_wake(&pool_wake);
		pool_work();
		for (int spins = 0; atomic_load_explicit(&pool_left, memory_order_acquire) > 0;)
			if (++spins < 4096) __builtin_ia32_pause();
			else sched_yield();
	}
}
