// oneDNN (C API, Debian libdnnl-dev 2.x) baseline: runs a bench/export model (model.ir +
// weights.bin) on DIR/input.bin, checks the logits against DIR/logits.bin and times the
// forward pass.
//
// Every conv is created with dnnl_format_tag_any for src, weights and dst, so oneDNN picks its
// blocked layouts; a ReLU that is a conv's (or an add's) only user is fused as an eltwise
// post-op; weights are reordered into the chosen layout once, before timing. Activation
// reorders between primitives whose chosen layouts differ are part of the timed forward.
//
// build: cc -O2 -o onednn_bench bench/onednn_bench.c -ldnnl
// usage: OMP_NUM_THREADS=N OMP_PROC_BIND=close ./onednn_bench DIR [--runs N] [--warmup N]
//        [--algo direct|winograd|auto]
// Prints one JSON line: {"peer": "onednn", "times_ms": [...], "relerr": ..., "impl": "..."}.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#define CHECK(f)                                                                  \
	do {                                                                          \
		dnnl_status_t s_ = (f);                                                   \
		if (s_ != dnnl_success) {                                                 \
			fprintf(stderr, "onednn_bench: %s:%d: %s: status %d\n", __FILE__,     \
				__LINE__, #f, (int)s_);                                           \
			exit(1);                                                              \
		}                                                                         \
	} while (0)

enum { MAXN = 1024, MAXIN = 4, MAXSTEP = 4096 };

typedef struct {
	char op[32];
	int kh, kw, s, p, g, bias;
	int in[MAXIN], nin;
	int c, h, w;
	char name[128];
	int fused;      // a ReLU fused into its producer
	dnnl_memory_t mem;
	dnnl_memory_desc_t md;
} node;

static node nodes[MAXN];
static int nnodes, ret = -1;
static int users[MAXN];
static dnnl_engine_t eng;
static dnnl_stream_t strm;

typedef struct {
	dnnl_primitive_t prim;
	int nargs;
	dnnl_exec_arg_t args[8];
} step;
static step steps[MAXSTEP];
static int nsteps;

static void die(const char *msg, const char *arg) {
	fprintf(stderr, "onednn_bench: %s%s\n", msg, arg ? arg : "");
	exit(2);
}

static float *readf(const char *dir, const char *file, size_t *n) {
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "rb");
	if (!f) die("cannot open ", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	float *d = malloc(sz);
	if (fread(d, 1, sz, f) != (size_t)sz) die("short read ", path);
	fclose(f);
	*n = sz / 4;
	return d;
}

static void parse(const char *dir) {
	char path[4096], line[1024];
	snprintf(path, sizeof path, "%s/model.ir", dir);
	FILE *f = fopen(path, "r");
	if (!f) die("cannot open ", path);
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "graph", 5) || line[0] == '\n') continue;
		if (!strncmp(line, "return %", 8)) {
			ret = atoi(line + 8);
			continue;
		}
		int id;
		char *colon = strrchr(line, ':'), *at = strchr(line + 1, '@');
		if (at) sscanf(at + 1, "%127s", nodes[nnodes].name);
		if (!colon || sscanf(colon + 1, " %dx%dx%d", &nodes[nnodes].c, &nodes[nnodes].h, &nodes[nnodes].w) != 3) die("bad shape: ", line);
		char *p = line;
		if (sscanf(p, "%%%d = ", &id) != 1 || id != nnodes || id >= MAXN) die("bad line: ", line);
		node *n = &nodes[id];
		p = strchr(p, '=') + 2;
		int k = 0;
		while (*p && *p != ' ' && *p != '[' && k < 31) n->op[k++] = *p++;
		n->op[k] = 0;
		n->g = 1;
		if (*p == '[') {
			char *e = strchr(p, ']');
			*e = 0;
			char *t = strstr(p, "k=");
			if (t) sscanf(t, "k=%dx%d", &n->kh, &n->kw);
			if ((t = strstr(p, "s="))) n->s = atoi(t + 2);
			if ((t = strstr(p, "p="))) n->p = atoi(t + 2);
			if ((t = strstr(p, "g="))) n->g = atoi(t + 2);
			n->bias = strstr(p, "bias") != NULL;
			p = e + 1;
		}
		while ((p = strchr(p, '%')) && n->nin < MAXIN) {
			n->in[n->nin++] = atoi(p + 1);
			p++;
		}
		nnodes++;
	}
	fclose(f);
	for (int i = 0; i < nnodes; i++)
		for (int j = 0; j < nodes[i].nin; j++) users[nodes[i].in[j]]++;
}

static void add_step(dnnl_primitive_desc_t pd, int nargs, const dnnl_exec_arg_t *args) {
	if (nsteps == MAXSTEP) die("too many steps", NULL);
	step *s = &steps[nsteps++];
	CHECK(dnnl_primitive_create(&s->prim, pd));
	s->nargs = nargs;
	memcpy(s->args, args, nargs * sizeof *args);
}

// as returns memory holding value v in layout want, adding a (timed) reorder step if needed.
static dnnl_memory_t as(int v, const dnnl_memory_desc_t *want) {
	if (dnnl_memory_desc_equal(&nodes[v].md, want)) return nodes[v].mem;
	dnnl_primitive_desc_t pd;
	dnnl_memory_t m;
	CHECK(dnnl_reorder_primitive_desc_create(&pd, &nodes[v].md, eng, want, eng, NULL));
	CHECK(dnnl_memory_create(&m, want, eng, DNNL_MEMORY_ALLOCATE));
	dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, nodes[v].mem}, {DNNL_ARG_TO, m}};
	add_step(pd, 2, a);
	return m;
}

// packed returns user data (plain layout tag) in layout want, reordered now (untimed).
static dnnl_memory_t packed(const float *data, int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag,
		const dnnl_memory_desc_t *want) {
	dnnl_memory_desc_t umd;
	dnnl_memory_t um, m;
	CHECK(dnnl_memory_desc_init_by_tag(&umd, nd, dims, dnnl_f32, tag));
	CHECK(dnnl_memory_create(&um, &umd, eng, (void *)data));
	CHECK(dnnl_memory_create(&m, want, eng, DNNL_MEMORY_ALLOCATE));
	dnnl_primitive_desc_t pd;
	dnnl_primitive_t r;
	CHECK(dnnl_reorder_primitive_desc_create(&pd, &umd, eng, want, eng, NULL));
	CHECK(dnnl_primitive_create(&r, pd));
	dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, um}, {DNNL_ARG_TO, m}};
	CHECK(dnnl_primitive_execute(r, strm, 2, a));
	CHECK(dnnl_stream_wait(strm));
	return m;
}

static dnnl_primitive_attr_t relu_attr(int i) {
	dnnl_primitive_attr_t attr;
	CHECK(dnnl_primitive_attr_create(&attr));
	if (users[i] == 1) {
		for (int j = i + 1; j < nnodes; j++)
			if (!strcmp(nodes[j].op, "relu") && nodes[j].in[0] == i) {
				dnnl_post_ops_t po;
				CHECK(dnnl_post_ops_create(&po));
				CHECK(dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0));
				CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
				nodes[j].fused = 1;
				break;
			}
	}
	return attr;
}

static const char *impl_of(dnnl_primitive_desc_t pd) {
	const char *s = NULL;
	dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
	return s ? s : "?";
}

static char first_impl[256];

static void build(const float *w, size_t nw, dnnl_alg_kind_t algo) {
	size_t off = 0;
#define TAKE(n_) (off += (n_), off > nw ? (die("weights.bin too short", NULL), w) : w + off - (n_))
	for (int i = 0; i < nnodes; i++) {
		node *n = &nodes[i];
		dnnl_dims_t od = {1, n->c, n->h, n->w};
		if (!strcmp(n->op, "input")) {
			CHECK(dnnl_memory_desc_init_by_tag(&n->md, 4, od, dnnl_f32, dnnl_nchw));
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
		} else if (!strcmp(n->op, "conv")) {
			node *x = &nodes[n->in[0]];
			int g = n->g;
			dnnl_memory_desc_t smd, wmd, bmd, dmd;
			dnnl_dims_t sd = {1, x->c, x->h, x->w};
			dnnl_dims_t wd = {g, n->c / g, x->c / g, n->kh, n->kw};
			dnnl_dims_t wd1 = {n->c, x->c, n->kh, n->kw};
			dnnl_dims_t bd = {n->c};
			CHECK(dnnl_memory_desc_init_by_tag(&smd, 4, sd, dnnl_f32, dnnl_format_tag_any));
			if (g > 1) CHECK(dnnl_memory_desc_init_by_tag(&wmd, 5, wd, dnnl_f32, dnnl_format_tag_any));
			else CHECK(dnnl_memory_desc_init_by_tag(&wmd, 4, wd1, dnnl_f32, dnnl_format_tag_any));
			CHECK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));
			CHECK(dnnl_memory_desc_init_by_tag(&dmd, 4, od, dnnl_f32, dnnl_format_tag_any));
			dnnl_dims_t st = {n->s, n->s}, pl = {n->p, n->p};
			dnnl_dims_t pr = {(n->h - 1) * n->s + n->kh - x->h - n->p, (n->w - 1) * n->s + n->kw - x->w - n->p};
			dnnl_primitive_attr_t attr = relu_attr(i);
			dnnl_primitive_desc_t pd = NULL;
			dnnl_convolution_desc_t cd;
			dnnl_alg_kind_t a = algo;
			if (a == dnnl_convolution_winograd && !(n->kh == 3 && n->kw == 3 && n->s == 1 && g == 1)) a = dnnl_convolution_direct;
			CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, a, &smd, &wmd,
					n->bias ? &bmd : NULL, &dmd, st, pl, pr));
			if (dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL) != dnnl_success) {
				CHECK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
						&smd, &wmd, n->bias ? &bmd : NULL, &dmd, st, pl, pr));
				CHECK(dnnl_primitive_desc_create(&pd, &cd, attr, eng, NULL));
			}
			if (!first_impl[0] || (n->s == 1 && n->kh == 3 && !strchr(first_impl, '|')))
				snprintf(first_impl + strlen(first_impl), sizeof first_impl - strlen(first_impl), "%s%s", first_impl[0] ? "|" : "", impl_of(pd));
			const dnnl_memory_desc_t *psrc = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
			const dnnl_memory_desc_t *pw = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
			const dnnl_memory_desc_t *pdst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
			size_t nwt = (size_t)n->c * (x->c / g) * n->kh * n->kw;
			const float *wp = TAKE(nwt);
			dnnl_memory_t wm = g > 1 ? packed(wp, 5, wd, dnnl_goihw, pw) : packed(wp, 4, wd1, dnnl_oihw, pw);
			dnnl_memory_t bm = NULL;
			if (n->bias) {
				const float *bp = TAKE((size_t)n->c);
				bm = packed(bp, 1, bd, dnnl_x, &bmd);
			}
			dnnl_memory_t src = as(n->in[0], psrc);
			n->md = *pdst;
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
			dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, n->mem}, {DNNL_ARG_BIAS, bm}};
			add_step(pd, n->bias ? 4 : 3, args);
		} else if (!strcmp(n->op, "relu")) {
			node *x = &nodes[n->in[0]];
			if (n->fused) {
				n->md = x->md;
				n->mem = x->mem;
				continue;
			}
			dnnl_eltwise_desc_t ed;
			dnnl_primitive_desc_t pd;
			CHECK(dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, dnnl_eltwise_relu, &x->md, 0, 0));
			CHECK(dnnl_primitive_desc_create(&pd, &ed, NULL, eng, NULL));
			n->md = x->md;
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
			dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, x->mem}, {DNNL_ARG_DST, n->mem}};
			add_step(pd, 2, args);
		} else if (!strcmp(n->op, "add")) {
			if (n->nin != 2) die("add with more than two operands: ", n->name);
			node *a = &nodes[n->in[0]];
			dnnl_binary_desc_t bd;
			dnnl_primitive_desc_t pd;
			dnnl_memory_t b = as(n->in[1], &a->md);
			CHECK(dnnl_binary_desc_init(&bd, dnnl_binary_add, &a->md, &a->md, &a->md));
			CHECK(dnnl_primitive_desc_create(&pd, &bd, relu_attr(i), eng, NULL));
			n->md = a->md;
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
			dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, a->mem}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, n->mem}};
			add_step(pd, 3, args);
		} else if (!strcmp(n->op, "maxpool") || !strcmp(n->op, "gap")) {
			node *x = &nodes[n->in[0]];
			int gap = !strcmp(n->op, "gap");
			dnnl_dims_t st = {gap ? 1 : n->s, gap ? 1 : n->s}, k = {gap ? x->h : n->kh, gap ? x->w : n->kw};
			dnnl_dims_t dil = {0, 0}, pl = {gap ? 0 : n->p, gap ? 0 : n->p};
			dnnl_dims_t pr = {(n->h - 1) * st[0] + k[0] - x->h - pl[0], (n->w - 1) * st[1] + k[1] - x->w - pl[1]};
			dnnl_memory_desc_t dmd;
			CHECK(dnnl_memory_desc_init_by_tag(&dmd, 4, od, dnnl_f32, dnnl_format_tag_any));
			dnnl_pooling_v2_desc_t pdsc;
			dnnl_primitive_desc_t pd;
			CHECK(dnnl_pooling_v2_forward_desc_init(&pdsc, dnnl_forward_inference,
					gap ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max, &x->md, &dmd, st, k, dil, pl, pr));
			CHECK(dnnl_primitive_desc_create(&pd, &pdsc, NULL, eng, NULL));
			n->md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
			dnnl_exec_arg_t args[2] = {{DNNL_ARG_SRC, x->mem}, {DNNL_ARG_DST, n->mem}};
			add_step(pd, 2, args);
		} else if (!strcmp(n->op, "flatten")) {
			n->md = nodes[n->in[0]].md;
			n->mem = nodes[n->in[0]].mem;
		} else if (!strcmp(n->op, "linear")) {
			node *x = &nodes[n->in[0]];
			dnnl_dims_t wd = {n->c, x->c, 1, 1}, bd = {n->c}, dd = {1, n->c};
			dnnl_memory_desc_t wmd, bmd, dmd;
			CHECK(dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_format_tag_any));
			CHECK(dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_x));
			CHECK(dnnl_memory_desc_init_by_tag(&dmd, 2, dd, dnnl_f32, dnnl_nc));
			dnnl_inner_product_desc_t ipd;
			dnnl_primitive_desc_t pd;
			CHECK(dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, &x->md, &wmd, &bmd, &dmd));
			CHECK(dnnl_primitive_desc_create(&pd, &ipd, NULL, eng, NULL));
			const float *wp = TAKE((size_t)n->c * x->c);
			const float *bp = TAKE((size_t)n->c);
			dnnl_memory_t wm = packed(wp, 4, wd, dnnl_oihw, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
			dnnl_memory_t bm = packed(bp, 1, bd, dnnl_x, &bmd);
			n->md = dmd;
			CHECK(dnnl_memory_create(&n->mem, &n->md, eng, DNNL_MEMORY_ALLOCATE));
			dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, x->mem}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, n->mem}};
			add_step(pd, 4, args);
		} else {
			die("op not supported by the oneDNN baseline: ", n->op);
		}
	}
	if (off != nw) die("weights.bin has more floats than the graph uses", NULL);
}

static double now_ms(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
	if (argc < 2) die("usage: onednn_bench DIR [--runs N] [--warmup N] [--algo direct|winograd|auto]", NULL);
	const char *dir = argv[1];
	int runs = 20, warmup = 3;
	dnnl_alg_kind_t algo = dnnl_convolution_direct;
	const char *algoname = "direct";
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--algo")) {
			algoname = argv[i + 1];
			if (!strcmp(algoname, "winograd")) algo = dnnl_convolution_winograd;
			else if (!strcmp(algoname, "auto")) algo = dnnl_convolution_auto;
			else if (strcmp(algoname, "direct")) die("--algo wants direct, winograd or auto, got ", algoname);
		} else die("unknown flag ", argv[i]);
	}
	parse(dir);
	if (ret < 0) die("model.ir has no return", NULL);
	size_t nw, nx, ny;
	float *w = readf(dir, "weights.bin", &nw);
	float *x = readf(dir, "input.bin", &nx);
	float *want = readf(dir, "logits.bin", &ny);
	CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
	CHECK(dnnl_stream_create(&strm, eng, dnnl_stream_default_flags));
	build(w, nw, algo);
	if (nx != (size_t)nodes[0].c * nodes[0].h * nodes[0].w) die("input.bin size does not match the model input", NULL);
	{ void *h; CHECK(dnnl_memory_get_data_handle(nodes[0].mem, &h)); memcpy(h, x, nx * 4); }
	double *t = malloc(sizeof(double) * (runs > 0 ? runs : 1));
	for (int r = 0; r < warmup + runs; r++) {
		double t0 = now_ms();
		for (int i = 0; i < nsteps; i++) CHECK(dnnl_primitive_execute(steps[i].prim, strm, steps[i].nargs, steps[i].args));
		CHECK(dnnl_stream_wait(strm));
		double t1 = now_ms();
		if (r >= warmup) t[r - warmup] = t1 - t0;
	}
	// The logits (inner product dst is plain nc; a conv net ending in a conv is reordered).
	dnnl_memory_desc_t plain;
	dnnl_dims_t od = {1, nodes[ret].c, nodes[ret].h, nodes[ret].w};
	CHECK(dnnl_memory_desc_init_by_tag(&plain, 4, od, dnnl_f32, dnnl_nchw));
	float *y;
	if (nodes[ret].md.ndims == 2) {
		dnnl_memory_get_data_handle(nodes[ret].mem, (void **)&y);
	} else {
		dnnl_memory_t m = as(ret, &plain);
		if (m != nodes[ret].mem) CHECK(dnnl_primitive_execute(steps[nsteps - 1].prim, strm, 2, steps[nsteps - 1].args));
		CHECK(dnnl_stream_wait(strm));
		dnnl_memory_get_data_handle(m, (void **)&y);
	}
	double num = 0, den = 0;
	for (size_t i = 0; i < ny; i++) {
		num = fmax(num, fabs(y[i] - want[i]));
		den = fmax(den, fabs(want[i]));
	}
	const char *thr = getenv("OMP_NUM_THREADS");
	printf("{\"peer\": \"onednn\", \"algo\": \"%s\", \"threads\": %s, \"impl\": \"%s\", \"times_ms\": [", algoname,
			thr ? thr : "0", first_impl);
	for (int r = 0; r < runs; r++) printf("%s%.4f", r ? ", " : "", t[r]);
	printf("], \"relerr\": %.3g}\n", num / fmax(den, 1e-30));
	return 0;
}
