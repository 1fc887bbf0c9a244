/* The standalone runner vggsim builds next to every model: it reads a weights blob and a
 * float32 .npy batch, runs the generated forward, and writes the output as .npy.
 *
 *   MODEL [-r RUNS] weights.bin in.npy out.npy
 *
 * in.npy is [N, C, H, W] or [C, H, W] float32 (little-endian, C order); out.npy is
 * [N, C, H, W], or [N, C] when the output is C×1×1 (logits). With -r, forward runs RUNS
 * times and each run's wall time is printed to stderr as "time_ms T1 T2 …".
 * Exit status: 0 ok, 1 failure (out of memory, I/O), 2 bad input; errors are one line.
 * vggsim_MODEL_ is replaced by the model's symbol prefix when the runner is generated. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

int vggsim_MODEL_forward(const float *in, float *out, int batch, const float *weights, float *scratch);
size_t vggsim_MODEL_weights_bytes(void);
size_t vggsim_MODEL_scratch_bytes(void);
size_t vggsim_MODEL_input_elems(void);
size_t vggsim_MODEL_output_elems(void);
uint64_t vggsim_MODEL_weights_signature(void);

/* The model's per-image shapes, set by the generator. */
static const long in_chw[3] = {VGGSIM_IN_C, VGGSIM_IN_H, VGGSIM_IN_W};
static const long out_chw[3] = {VGGSIM_OUT_C, VGGSIM_OUT_H, VGGSIM_OUT_W};

static const char *prog = "runner";

static void die(int code, const char *file, const char *msg) {
	fprintf(stderr, "%s: %s: %s\n", prog, file, msg);
	exit(code);
}

static void *xalloc(size_t n) {
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 64) != 0) die(1, "memory", "out of memory");
	return p;
}

static unsigned char *read_all(const char *path, size_t *len) {
	FILE *f = fopen(path, "rb");
	if (!f) die(2, path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap);
	if (!buf) die(1, path, "out of memory");
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf) die(1, path, "out of memory");
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0) break;
	}
	if (ferror(f)) die(1, path, "read error");
	fclose(f);
	*len = n;
	return buf;
}

/* read_npy returns the float32 data of a C-order little-endian .npy and its shape. */
static float *read_npy(const char *path, long shape[4], int *ndim) {
	size_t len;
	unsigned char *b = read_all(path, &len);
	if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) die(2, path, "not a .npy file");
	size_t hl, off;
	if (b[6] == 1) {
		hl = b[8] | (size_t)b[9] << 8;
		off = 10;
	} else {
		if (len < 12) die(2, path, "truncated .npy header");
		hl = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		off = 12;
	}
	if (off + hl > len) die(2, path, "truncated .npy header");
	char *h = malloc(hl + 1);
	memcpy(h, b + off, hl);
	h[hl] = 0;
	char *d = strstr(h, "'descr'");
	if (!d || !(strstr(d, "'<f4'") || strstr(d, "'float32'"))) die(2, path, "dtype is not float32 ('<f4')");
	char *fo = strstr(h, "'fortran_order'");
	if (!fo || !strstr(fo, "False")) die(2, path, "fortran_order arrays are not supported");
	char *s = strstr(h, "'shape'");
	if (!s || !(s = strchr(s, '('))) die(2, path, "no shape in the .npy header");
	*ndim = 0;
	s++;
	while (*s && *s != ')') {
		while (*s == ' ' || *s == ',') s++;
		if (*s == ')') break;
		char *e;
		long v = strtol(s, &e, 10);
		if (e == s || v < 0 || *ndim == 4) die(2, path, "shape is not [N, C, H, W] or [C, H, W]");
		shape[(*ndim)++] = v;
		s = e;
	}
	free(h);
	size_t n = 1;
	for (int i = 0; i < *ndim; i++) n *= (size_t)shape[i];
	if (len - off - hl != n * 4) die(2, path, "data size does not match the shape");
	float *x = xalloc(n * 4);
	memcpy(x, b + off + hl, n * 4);
	free(b);
	return x;
}

static void write_npy(const char *path, const float *y, const long *shape, int ndim) {
	char dims[128] = "";
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		char t[32];
		snprintf(t, sizeof t, ndim == 1 ? "%ld," : (i ? " %ld" : "%ld"), shape[i]);
		if (i && ndim > 1) strcat(dims, ",");
		strcat(dims, t);
		n *= (size_t)shape[i];
	}
	char hdr[256];
	int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", dims);
	int total = 10 + hl + 1;
	int pad = (64 - total % 64) % 64;
	FILE *f = fopen(path, "wb");
	if (!f) die(2, path, strerror(errno));
	unsigned short h16 = (unsigned short)(hl + pad + 1);
	fwrite("\x93NUMPY\x01\x00", 1, 8, f);
	fputc(h16 & 0xff, f);
	fputc(h16 >> 8, f);
	fwrite(hdr, 1, hl, f);
	for (int i = 0; i < pad; i++) fputc(' ', f);
	fputc('\n', f);
	if (fwrite(y, 4, n, f) != n || fclose(f) != 0) die(1, path, "write error");
}

static double now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
	prog = argv[0];
	int runs = 1, a = 1;
	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		runs = atoi(argv[2]);
		if (runs < 1) die(2, "-r", "runs must be positive");
		a = 3;
	}
	if (argc - a != 3) {
		fprintf(stderr, "usage: %s [-r RUNS] weights.bin in.npy out.npy\n", prog);
		return 2;
	}
	const char *wpath = argv[a], *ipath = argv[a + 1], *opath = argv[a + 2];

	/* The blob is mapped to check its header, then its payload copied (below). */
	int fd = open(wpath, O_RDONLY);
	if (fd < 0) die(2, wpath, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) die(1, wpath, strerror(errno));
	size_t wlen = (size_t)st.st_size;
	if (wlen < 64) die(2, wpath, "not a vggsim weights blob (bad magic)");
	unsigned char *blob = mmap(NULL, wlen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (blob == MAP_FAILED) die(1, wpath, strerror(errno));
	close(fd);
	if (wlen < 64 || memcmp(blob, "VGGSIMWB", 8) != 0) die(2, wpath, "not a vggsim weights blob (bad magic)");
	uint64_t payload, sig;
	memcpy(&payload, blob + 16, 8);
	memcpy(&sig, blob + 24, 8);
	char msg[160];
	if (payload != vggsim_MODEL_weights_bytes() || wlen - 64 != payload) {
		snprintf(msg, sizeof msg, "%zu bytes of weights, the model wants %zu", wlen - 64, vggsim_MODEL_weights_bytes());
		die(2, wpath, msg);
	}
	if (sig != vggsim_MODEL_weights_signature()) die(2, wpath, "weights blob was written for another model (signature differs)");
	/* The payload is copied into anonymous memory with huge pages asked for (THP
	   "madvise" mode): forward streams every weight once per image, and the page cache
	   of a freshly written blob is 4 KiB pages — ResNet-50 at one thread ran 1.7x slower
	   on such a mapping than on a copy of the same file made by cp(1). */
	size_t huge = (size_t)2 << 20, cap = (payload + huge - 1) / huge * huge;
	float *w = cap ? aligned_alloc(huge, cap) : NULL;
	if (cap && !w) die(1, wpath, "out of memory for the weights");
	if (cap) {
		madvise(w, cap, MADV_HUGEPAGE);
		memcpy(w, blob + 64, payload);
	}
	munmap(blob, wlen);

	long shape[4];
	int ndim;
	float *x = read_npy(ipath, shape, &ndim);
	long batch = 1;
	const long *chw = shape;
	if (ndim == 4) {
		batch = shape[0];
		chw = shape + 1;
	} else if (ndim != 3) {
		die(2, ipath, "shape is not [N, C, H, W] or [C, H, W]");
	}
	if (batch < 1 || chw[0] != in_chw[0] || chw[1] != in_chw[1] || chw[2] != in_chw[2]) {
		snprintf(msg, sizeof msg, "shape does not match the model's input Nx%ldx%ldx%ld", in_chw[0], in_chw[1], in_chw[2]);
		die(2, ipath, msg);
	}
	float *y = xalloc((size_t)batch * vggsim_MODEL_output_elems() * 4);
	float *scratch = xalloc(vggsim_MODEL_scratch_bytes());
	double *t = malloc(sizeof(double) * runs);
	for (int r = 0; r < runs; r++) {
		double t0 = now_ms();
		if (vggsim_MODEL_forward(x, y, (int)batch, w, scratch) != 0) die(2, ipath, "forward rejected the batch");
		t[r] = now_ms() - t0;
	}
	if (argc > 2 && a == 3) {
		fprintf(stderr, "time_ms");
		for (int r = 0; r < runs; r++) fprintf(stderr, " %.4f", t[r]);
		fprintf(stderr, "\n");
	}
	long oshape[4] = {batch, out_chw[0], out_chw[1], out_chw[2]};
	write_npy(opath, y, oshape, out_chw[1] == 1 && out_chw[2] == 1 ? 2 : 4);
	return 0;
}
