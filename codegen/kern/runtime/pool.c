// vggsim's persistent thread pool: N-1 workers created once, woken per parallel region.
// The first region starts the pool with $VGGSIM_THREADS threads (default 1) unless
// vggsim_pool_start was called before. A region splits items [0, n) into N contiguous shares; the caller runs share 0. Workers
// spin briefly after a region (layers follow each other within microseconds), then sleep
// on a condition variable so an idle pool costs no CPU.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

typedef void (*vggsim_task)(float **args, int64_t lo, int64_t hi);

enum { VGGSIM_MAX_THREADS = 64, VGGSIM_SPIN = 200000 };

static int pool_n = 1;      // threads created (the caller included)
static int pool_active = 1; // threads a region is split across
static int pool_started;
static pthread_t pool_th[VGGSIM_MAX_THREADS];
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static _Atomic long pool_gen;
static _Atomic int pool_done;
static vggsim_task pool_fn;
static float **pool_args;
static int64_t pool_items;
static long pool_gen0[VGGSIM_MAX_THREADS]; // the generation a worker starts after

static void pool_share(int id) {
	if (id >= pool_active) return;
	int64_t lo = pool_items * id / pool_active, hi = pool_items * (id + 1) / pool_active;
	if (lo < hi) pool_fn(pool_args, lo, hi);
}

static void *pool_worker(void *p) {
	int id = (int)(intptr_t)p;
	long seen = pool_gen0[id]; // not 0: a worker added later must not rerun a past region
	for (;;) {
		long g;
		int spins = 0;
		while ((g = atomic_load_explicit(&pool_gen, memory_order_acquire)) == seen) {
			if (++spins < VGGSIM_SPIN) {
				__builtin_ia32_pause();
				continue;
			}
			pthread_mutex_lock(&pool_mu);
			while (atomic_load(&pool_gen) == seen) pthread_cond_wait(&pool_cv, &pool_mu);
			pthread_mutex_unlock(&pool_mu);
		}
		seen = g;
		pool_share(id);
		atomic_fetch_add_explicit(&pool_done, 1, memory_order_release);
	}
	return 0;
}

// vggsim_pool_start sets the pool to n threads (the caller included); it creates the
// missing workers once. It returns the thread count in effect.
int vggsim_pool_start(int n) {
	pool_started = 1;
	if (n < 1) n = 1;
	if (n > VGGSIM_MAX_THREADS) n = VGGSIM_MAX_THREADS;
	for (int i = pool_n; i < n; i++) {
		pool_gen0[i] = atomic_load(&pool_gen);
		if (pthread_create(&pool_th[i], 0, pool_worker, (void *)(intptr_t)i) != 0) return pool_n;
		pthread_detach(pool_th[i]);
		pool_n = i + 1;
	}
	pool_active = n < pool_n ? n : pool_n;
	return pool_active;
}

// vggsim_parallel runs fn over items [0, n) split across the pool and returns when all
// shares are done.
void vggsim_parallel(vggsim_task fn, float **args, int64_t n) {
	if (!pool_started) {
		const char *e = getenv("VGGSIM_THREADS");
		vggsim_pool_start(e ? atoi(e) : 1);
	}
	if (pool_active == 1 || n < 2) {
		fn(args, 0, n);
		return;
	}
	pool_fn = fn;
	pool_args = args;
	pool_items = n;
	atomic_store_explicit(&pool_done, 0, memory_order_relaxed);
	pthread_mutex_lock(&pool_mu);
	atomic_fetch_add_explicit(&pool_gen, 1, memory_order_release);
	pthread_cond_broadcast(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
	pool_share(0);
	while (atomic_load_explicit(&pool_done, memory_order_acquire) < pool_n - 1) __builtin_ia32_pause();
}
