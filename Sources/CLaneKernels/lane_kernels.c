// One definition of each kernel, as an always-inlined body in plain C loops, instantiated below
// once per instruction set: the compiler vectorises each instance for its own set (4 lanes of
// SSE2, 8 of AVX2 with FMA, 16 of AVX-512), and the table of the widest set the CPU runs is
// picked at the first call. Reductions keep 16 running partial sums in every set, so that no
// add waits on the one before it and the loop vectorises without reassociating float sums.

#include "CLaneKernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define BODY static inline __attribute__((always_inline))
#define PARTIALS 16

/// e^x, Cephes' single-precision method: x = n ln 2 + r with |r| <= ln2 / 2, a degree-6
/// polynomial for e^r, and 2^n put straight into the exponent bits. Relative error about 1e-7.
/// Inputs are clamped to [-87, 88] (below, about 1.6e-38 instead of less; above, 1.7e38).
BODY float exponential(float x) {
    float c = x < -87.0f ? -87.0f : x;
    c = c > 88.0f ? 88.0f : c;
    // Adding 1.5 x 2^23 rounds to an integer and leaves it in the low mantissa bits.
    float shifted = c * 1.44269504f + 12582912.0f;
    float n = shifted - 12582912.0f;
    float r = c - n * 0.693359375f + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    float er = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    bits = (bits - 0x4B400000u + 127u) << 23;
    float twoToTheN;
    memcpy(&twoToTheN, &bits, sizeof twoToTheN);
    return er * twoToTheN;
}

/// sigma(x) = 1 / (1 + e^-x).
BODY float logistic(float x) { return 1.0f / (1.0f + exponential(-x)); }

/// Phi(x), the standard normal CDF, and e^(-x^2/2) (the density is that over sqrt(2 pi)):
/// Abramowitz and Stegun 7.1.26 for erf(|x| / sqrt 2), absolute error below 1.5e-7, sharing its
/// exponential with the density. Beyond |x| = 13, Phi is 0 or 1 in float and e^(-x^2/2) underflows.
BODY float normal_cdf(float x, float *gaussian) {
    float a = fabsf(x);
    a = a > 13.0f ? 13.0f : a;
    float t = 1.0f / (1.0f + (0.3275911f * 0.70710677f) * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float g = exponential(-0.5f * a * a);
    *gaussian = g;
    float tail = 0.5f * p * t * g; // 1 - Phi(|x|)
    return 0.5f + copysignf(0.5f - tail, x);
}

#define INVERSE_SQRT_2PI 0.39894228f

/// max(row[0..<n]), n >= 1.
BODY float row_maximum(const float *row, long n) {
    long full = n & ~(long)(PARTIALS - 1), j;
    float lanesMaximum[PARTIALS];
    for (int k = 0; k < PARTIALS; k++) lanesMaximum[k] = -INFINITY;
    for (j = 0; j < full; j += PARTIALS)
        for (int k = 0; k < PARTIALS; k++) lanesMaximum[k] = row[j + k] > lanesMaximum[k] ? row[j + k] : lanesMaximum[k];
    float m = -INFINITY;
    for (int k = 0; k < PARTIALS; k++) m = lanesMaximum[k] > m ? lanesMaximum[k] : m;
    for (; j < n; j++) m = row[j] > m ? row[j] : m;
    return m;
}

/// row[j] = e^(scale row[j] - maximum) for j < n; returns their sum.
BODY float exponentials(float *row, long n, float scale, float maximum) {
    long full = n & ~(long)(PARTIALS - 1), j;
    float lanesSum[PARTIALS] = {0};
    for (j = 0; j < full; j += PARTIALS)
        for (int k = 0; k < PARTIALS; k++) {
            float e = exponential(row[j + k] * scale - maximum);
            row[j + k] = e;
            lanesSum[k] += e;
        }
    float sum = 0;
    for (int k = 0; k < PARTIALS; k++) sum += lanesSum[k];
    for (; j < n; j++) {
        float e = exponential(row[j] * scale - maximum);
        row[j] = e;
        sum += e;
    }
    return sum;
}

BODY float softmax_body(float *row, long n, float scale, float *maximum) {
    float m = row_maximum(row, n) * scale; // scale > 0, so this is the maximum of the scaled row
    float sum = exponentials(row, n, scale, m);
    float inverse = 1.0f / sum;
    for (long j = 0; j < n; j++) row[j] *= inverse;
    *maximum = m;
    return sum;
}

BODY void softmax_backward_body(const float *restrict p, float *restrict d, long n, float scale) {
    long full = n & ~(long)(PARTIALS - 1), j;
    float lanesSum[PARTIALS] = {0};
    for (j = 0; j < full; j += PARTIALS)
        for (int k = 0; k < PARTIALS; k++) lanesSum[k] += p[j + k] * d[j + k];
    float inner = 0;
    for (int k = 0; k < PARTIALS; k++) inner += lanesSum[k];
    for (; j < n; j++) inner += p[j] * d[j];
    for (j = 0; j < n; j++) d[j] = scale * p[j] * (d[j] - inner);
}

// Row i of a causal matrix has i + 1 live entries. Each row runs as if it were that long rounded
// up to whole groups of 16 (within the row): the extra entries are future positions, set to -inf
// (their exponential is e^-87 after the clamp, below a float's resolution next to the row's
// largest term, 1) and zeroed afterwards, so short rows do not fall to one-lane code.
BODY long causal_span(long i, long t) {
    long live = i + 1, padded = (live + PARTIALS - 1) & ~(long)(PARTIALS - 1);
    return padded < t ? padded : t;
}

BODY void causal_softmax_body(float *scores, long count, long t, float scale) {
    for (long r = 0; r < count * t; r++) {
        float *row = scores + r * t;
        long i = r % t, span = causal_span(i, t), j;
        for (j = i + 1; j < span; j++) row[j] = -INFINITY;
        float sum = exponentials(row, span, scale, row_maximum(row, span) * scale);
        // Zeroed before the division: e^-87 divided by the sum would be subnormal, and a product
        // with a subnormal result takes a microcode assist (about a hundred cycles) on Intel cores.
        for (j = i + 1; j < t; j++) row[j] = 0;
        float inverse = 1.0f / sum;
        for (j = 0; j <= i; j++) row[j] *= inverse;
    }
}

BODY void causal_softmax_backward_body(const float *restrict p, float *restrict d, long count, long t, float scale) {
    for (long r = 0; r < count * t; r++) {
        // p is 0 past i, so the live entries' inner product and gradient come out the same over
        // the padded span, and the padding's gradient is 0.
        long i = r % t, span = causal_span(i, t);
        softmax_backward_body(p + r * t, d + r * t, span, scale);
        for (long j = span; j < t; j++) d[r * t + j] = 0;
    }
}

/// sum(a * b * c) over n, c NULL meaning 1: the reductions of RMSNorm, in 16 partial sums.
BODY float product_sum(const float *restrict a, const float *restrict b, const float *restrict c, long n) {
    long full = n & ~(long)(PARTIALS - 1), j;
    float lanesSum[PARTIALS] = {0};
    for (j = 0; j < full; j += PARTIALS)
        for (int k = 0; k < PARTIALS; k++) lanesSum[k] += a[j + k] * b[j + k] * (c ? c[j + k] : 1.0f);
    float sum = 0;
    for (int k = 0; k < PARTIALS; k++) sum += lanesSum[k];
    for (; j < n; j++) sum += a[j] * b[j] * (c ? c[j] : 1.0f);
    return sum;
}

BODY void rms_norm_body(const float *restrict x, const float *restrict g, float *restrict y, float *restrict inverse,
                        long rows, long width, float epsilon) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width;
        float *yr = y + r * width;
        float inv = 1.0f / sqrtf(product_sum(xr, xr, NULL, width) / (float)width + epsilon);
        inverse[r] = inv;
        for (long j = 0; j < width; j++) yr[j] = g[j] * xr[j] * inv;
    }
}

BODY void rms_norm_backward_body(const float *restrict x, const float *restrict inverse, const float *restrict g,
                                 const float *restrict dy, float *restrict dx, long rows, long width) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width, *dyr = dy + r * width;
        float *dxr = dx + r * width;
        float inv = inverse[r];
        float c = product_sum(g, dyr, xr, width) * inv * inv / (float)width;
        for (long j = 0; j < width; j++) dxr[j] = inv * (g[j] * dyr[j] - xr[j] * c);
    }
}

BODY void rms_norm_gain_gradient_body(const float *restrict x, const float *restrict inverse, const float *restrict dy,
                                      float *restrict dg, long rows, long width) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width, *dyr = dy + r * width;
        float inv = inverse[r];
        for (long j = 0; j < width; j++) dg[j] += dyr[j] * xr[j] * inv;
    }
}

BODY void swiglu_body(const float *restrict gate, const float *restrict up, float *restrict out, long n) {
    for (long j = 0; j < n; j++) out[j] = gate[j] * logistic(gate[j]) * up[j];
}

BODY void swiglu_backward_body(const float *restrict gate, const float *restrict up, const float *restrict dh,
                               float *restrict dgate, float *restrict dup, long n) {
    for (long j = 0; j < n; j++) {
        float a = gate[j], s = logistic(a);
        dgate[j] = up[j] * s * (1.0f + a * (1.0f - s)) * dh[j];
        dup[j] = dh[j] * a * s;
    }
}

BODY void gelu_body(const float *restrict x, float *restrict y, long n) {
    for (long j = 0; j < n; j++) {
        float g;
        y[j] = x[j] * normal_cdf(x[j], &g);
    }
}

BODY void gelu_with_derivative_body(float *restrict x, float *restrict derivative, long n) {
    for (long j = 0; j < n; j++) {
        float v = x[j], g, cdf = normal_cdf(v, &g);
        x[j] = v * cdf;
        derivative[j] = cdf + v * g * INVERSE_SQRT_2PI;
    }
}

BODY void gelu_backward_body(const float *restrict x, float *restrict d, long n) {
    for (long j = 0; j < n; j++) {
        float v = x[j], g, cdf = normal_cdf(v, &g);
        d[j] *= cdf + v * g * INVERSE_SQRT_2PI;
    }
}

BODY void silu_body(const float *restrict x, float *restrict y, long n) {
    for (long j = 0; j < n; j++) y[j] = x[j] * logistic(x[j]);
}

BODY void silu_backward_body(const float *restrict x, float *restrict d, long n) {
    for (long j = 0; j < n; j++) {
        float s = logistic(x[j]);
        d[j] *= s * (1.0f + x[j] * (1.0f - s));
    }
}

BODY void sigmoid_body(const float *restrict x, float *restrict y, long n) {
    for (long j = 0; j < n; j++) y[j] = logistic(x[j]);
}

// Square root without errno: C's sqrtf may set it for negative inputs, which keeps the compiler
// from using the vector instruction; v is never negative here.
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define ROOT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef ROOT
#define ROOT(x) sqrtf(x)
#endif

BODY void adamw_body(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
                     const dp_adamw_step *step) {
    // Contracting a * b + c into one fused multiply-add would round differently in the sets
    // that have it than in the baseline.
#pragma STDC FP_CONTRACT OFF
    const float b1 = step->beta1, b2 = step->beta2, keep1 = 1.0f - b1, keep2 = 1.0f - b2;
    const float eps = step->epsilon, decay = step->decay, lr = step->learning_rate, scale = step->gradient_scale;
    const float c1 = step->correction1, c2 = step->correction2;
    for (long j = 0; j < n; j++) {
        float gj = g[j] * scale;
        float mj = b1 * m[j] + keep1 * gj;
        float vj = b2 * v[j] + keep2 * gj * gj;
        m[j] = mj;
        v[j] = vj;
        float pj = p[j];
        pj -= decay * pj;
        p[j] = pj - lr * (mj / c1) / (ROOT(vj / c2) + eps);
    }
}

// Causal attention's products. Each row block's outputs stay in registers for the whole sum: R
// rows of W vectors of 16 floats (a vector type that each set splits into its own registers:
// four SSE2, two AVX2, one AVX-512), fed per term k by W loads of b's row k and R broadcasts of
// a(i, k). R and W are per set, so that the accumulators and b's row fit in its register file.
// Vector types wider than a set's registers are fine inside always-inlined bodies; clang warns
// that passing them would change the calling convention, which never happens here.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
typedef float vector16 __attribute__((ext_vector_type(16)));
BODY vector16 load16(const float *p) { vector16 v; memcpy(&v, p, sizeof v); return v; }
BODY void store16(float *p, vector16 v) { memcpy(p, &v, sizeof v); }

#define MAX_ROWS 8
#define MAX_VECTORS 2

/// Rows [i0, i0 + R), columns [c0, c0 + 16 W): the sum of a(i, k) b[k][...] over k0..<k1.
BODY void causal_tile(const float *a, long a_row, long a_column, const float *b, long ldb, float *c, long ldc,
                      long i0, long c0, long k0, long k1, const int R, const int W) {
    vector16 sum[MAX_ROWS][MAX_VECTORS];
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) sum[r][w] = (vector16)0;
    for (long k = k0; k < k1; k++) {
        vector16 bk[MAX_VECTORS];
        for (int w = 0; w < W; w++) bk[w] = load16(b + k * ldb + c0 + 16 * w);
        for (int r = 0; r < R; r++) {
            float s = a[(i0 + r) * a_row + k * a_column];
            for (int w = 0; w < W; w++) sum[r][w] += s * bk[w];
        }
    }
    for (int r = 0; r < R; r++)
        for (int w = 0; w < W; w++) store16(c + (i0 + r) * ldc + c0 + 16 * w, sum[r][w]);
}

/// The same for the last columns [c0, c1), fewer than 16.
BODY void causal_tile_tail(const float *a, long a_row, long a_column, const float *b, long ldb, float *c, long ldc,
                           long i0, long c0, long c1, long k0, long k1, const int R) {
    for (int r = 0; r < R; r++)
        for (long j = c0; j < c1; j++) {
            float s = 0;
            for (long k = k0; k < k1; k++) s += a[(i0 + r) * a_row + k * a_column] * b[k * ldb + j];
            c[(i0 + r) * ldc + j] = s;
        }
}

BODY void causal_rows(const float *a, long a_row, long a_column, const float *b, long ldb, float *c, long ldc,
                      long i0, long n, long k_count, dp_causal_shape shape, const int R, const int W) {
    long i1 = i0 + R, reach = (i1 + 15) & ~15L;
    long columns = shape == DP_CAUSAL_COLUMNS_TO_ROW && reach < n ? reach : n;
    long k0 = shape == DP_CAUSAL_TERMS_FROM_ROW ? i0 : 0;
    long k1 = shape == DP_CAUSAL_TERMS_TO_ROW && i1 < k_count ? i1 : k_count;
    long c0 = 0;
    for (; c0 + 16 * W <= columns; c0 += 16 * W) causal_tile(a, a_row, a_column, b, ldb, c, ldc, i0, c0, k0, k1, R, W);
    for (; c0 + 16 <= columns; c0 += 16) causal_tile(a, a_row, a_column, b, ldb, c, ldc, i0, c0, k0, k1, R, 1);
    if (c0 < columns) causal_tile_tail(a, a_row, a_column, b, ldb, c, ldc, i0, c0, columns, k0, k1, R);
}

BODY void causal_product_body(const float *a, long a_row, long a_column, const float *b, long ldb, float *c, long ldc,
                              long m, long n, long k_count, dp_causal_shape shape, const int R, const int W) {
    long i = 0;
    for (; i + R <= m; i += R) causal_rows(a, a_row, a_column, b, ldb, c, ldc, i, n, k_count, shape, R, W);
    for (; i < m; i++) causal_rows(a, a_row, a_column, b, ldb, c, ldc, i, n, k_count, shape, 1, W);
}

typedef float vector8 __attribute__((ext_vector_type(8)));

/// An 8 x 8 block through registers, in three rounds of shuffles that each set turns into its own
/// (3.7 times faster than element by element, which loads or stores across eight cache lines).
BODY void transpose8x8(const float *restrict a, long lda, float *restrict b, long ldb) {
    vector8 row[8], pair[8], quad[8];
    for (int k = 0; k < 8; k++) memcpy(&row[k], a + k * lda, sizeof row[k]);
    // pair[k], pair[k + 1] (k even): rows k and k + 1 interleaved, of columns 0, 1, 4, 5 and of 2, 3, 6, 7.
    for (int k = 0; k < 8; k += 2) {
        pair[k] = __builtin_shufflevector(row[k], row[k + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        pair[k + 1] = __builtin_shufflevector(row[k], row[k + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    // quad[g + h] and quad[g + h + 2] (g = 0: rows 0-3, g = 4: rows 4-7): one column in each half,
    // columns 0 and 4, 2 and 6, 1 and 5, 3 and 7 for quad[g], [g + 1], [g + 2], [g + 3].
    for (int g = 0; g < 8; g += 4)
        for (int h = 0; h < 2; h++) {
            quad[g + h] = __builtin_shufflevector(pair[g + h], pair[g + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            quad[g + h + 2] = __builtin_shufflevector(pair[g + h], pair[g + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    static const int lowColumn[4] = {0, 2, 1, 3};
    for (int h = 0; h < 4; h++) {
        vector8 low = __builtin_shufflevector(quad[h], quad[h + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        vector8 high = __builtin_shufflevector(quad[h], quad[h + 4], 4, 5, 6, 7, 12, 13, 14, 15);
        memcpy(b + lowColumn[h] * ldb, &low, sizeof low);
        memcpy(b + (lowColumn[h] + 4) * ldb, &high, sizeof high);
    }
}

BODY void transpose_body(const float *restrict a, long lda, float *restrict b, long ldb, long rows, long columns) {
    long i = 0;
    for (; i + 8 <= rows; i += 8) {
        long j = 0;
        for (; j + 8 <= columns; j += 8) transpose8x8(a + i * lda + j, lda, b + j * ldb + i, ldb);
        for (; j < columns; j++)
            for (long r = i; r < i + 8; r++) b[j * ldb + r] = a[r * lda + j];
    }
    for (; i < rows; i++)
        for (long j = 0; j < columns; j++) b[j * ldb + i] = a[i * lda + j];
}

// The core's multiply-add peak for a set's lanes: independent chains x = x a + b, twelve vectors
// of them, enough that two multiply-add units with a 4-cycle latency (Zen 3, Skylake-X) never
// wait on a chain, and few enough to stay in registers (AVX2 has 16). Each vector16 is split into
// the set's own registers (three SSE2 sets of four, six AVX2 pairs, twelve AVX-512 ones).
#define PEAK_REGISTERS 12
BODY float multiply_add_chains_body(long iterations, float a, float b, long lanes) {
    vector16 x[PEAK_REGISTERS];
    const long count = PEAK_REGISTERS * lanes / 16;
    for (long v = 0; v < count; v++)
        for (int l = 0; l < 16; l++) x[v][l] = (float)(16 * v + l);
    for (long k = 0; k < iterations; k++) {
        // Unrolled whole, so that x lives in registers rather than in memory.
#pragma clang loop unroll(full)
        for (long v = 0; v < PEAK_REGISTERS; v++)
            if (v < count) x[v] = x[v] * a + b;
    }
    float sum = 0;
    for (long v = 0; v < count; v++)
        for (int l = 0; l < 16; l++) sum += x[v][l];
    return sum;
}
#pragma clang diagnostic pop

// One table of the kernels, each a function compiled with `attributes` around its body; `lanes`
// floats fit one of the set's registers, and the causal products take its row and vector blocking.
#define LANE_KERNELS(set, attributes, lanes, block_rows, block_vectors)                                    \
    attributes static float softmax_##set(float *row, long n, float scale, float *maximum) {                 \
        return softmax_body(row, n, scale, maximum);                                                           \
    }                                                                                                          \
    attributes static void softmax_backward_##set(const float *restrict p, float *restrict d, long n, float s) { \
        softmax_backward_body(p, d, n, s);                                                                     \
    }                                                                                                          \
    attributes static void causal_softmax_##set(float *scores, long count, long t, float scale) {            \
        causal_softmax_body(scores, count, t, scale);                                                          \
    }                                                                                                          \
    attributes static void causal_softmax_backward_##set(const float *restrict p, float *restrict d, long count, \
                                                         long t, float scale) {                                \
        causal_softmax_backward_body(p, d, count, t, scale);                                                   \
    }                                                                                                          \
    attributes static void swiglu_##set(const float *restrict g, const float *restrict u, float *restrict o, long n) { \
        swiglu_body(g, u, o, n);                                                                               \
    }                                                                                                          \
    attributes static void swiglu_backward_##set(const float *restrict g, const float *restrict u,           \
                                                 const float *restrict dh, float *restrict dg,                \
                                                 float *restrict du, long n) {                                 \
        swiglu_backward_body(g, u, dh, dg, du, n);                                                             \
    }                                                                                                          \
    attributes static void gelu_##set(const float *restrict x, float *restrict y, long n) { gelu_body(x, y, n); } \
    attributes static void gelu_with_derivative_##set(float *restrict x, float *restrict d, long n) {         \
        gelu_with_derivative_body(x, d, n);                                                                    \
    }                                                                                                          \
    attributes static void gelu_backward_##set(const float *restrict x, float *restrict d, long n) {          \
        gelu_backward_body(x, d, n);                                                                           \
    }                                                                                                          \
    attributes static void silu_##set(const float *restrict x, float *restrict y, long n) { silu_body(x, y, n); } \
    attributes static void silu_backward_##set(const float *restrict x, float *restrict d, long n) {          \
        silu_backward_body(x, d, n);                                                                           \
    }                                                                                                          \
    attributes static void sigmoid_##set(const float *restrict x, float *restrict y, long n) {                \
        sigmoid_body(x, y, n);                                                                                 \
    }                                                                                                          \
    attributes static void adamw_##set(float *restrict p, const float *restrict g, float *restrict m,          \
                                       float *restrict v, long n, const dp_adamw_step *step) {                \
        adamw_body(p, g, m, v, n, step);                                                                       \
    }                                                                                                          \
    attributes static void causal_product_##set(const float *a, long ar, long ac, const float *b, long ldb,   \
                                                float *c, long ldc, long m, long n, long k, dp_causal_shape s) { \
        causal_product_body(a, ar, ac, b, ldb, c, ldc, m, n, k, s, block_rows, block_vectors);                \
    }                                                                                                          \
    attributes static void rms_norm_##set(const float *restrict x, const float *restrict g, float *restrict y,  \
                                          float *restrict inverse, long rows, long width, float epsilon) {    \
        rms_norm_body(x, g, y, inverse, rows, width, epsilon);                                                 \
    }                                                                                                          \
    attributes static void rms_norm_backward_##set(const float *restrict x, const float *restrict inverse,     \
                                                   const float *restrict g, const float *restrict dy,          \
                                                   float *restrict dx, long rows, long width) {                \
        rms_norm_backward_body(x, inverse, g, dy, dx, rows, width);                                            \
    }                                                                                                          \
    attributes static void rms_norm_gain_gradient_##set(const float *restrict x, const float *restrict inverse, \
                                                        const float *restrict dy, float *restrict dg,          \
                                                        long rows, long width) {                               \
        rms_norm_gain_gradient_body(x, inverse, dy, dg, rows, width);                                          \
    }                                                                                                          \
    attributes static void transpose_##set(const float *restrict a, long lda, float *restrict b, long ldb,     \
                                           long rows, long columns) {                                          \
        transpose_body(a, lda, b, ldb, rows, columns);                                                         \
    }                                                                                                          \
    attributes static float multiply_add_chains_##set(long iterations, float a, float b) {                   \
        return multiply_add_chains_body(iterations, a, b, lanes);                                              \
    }                                                                                                          \
    static const dp_lane_kernels kernels_##set = {                                                             \
        #set, softmax_##set, softmax_backward_##set, causal_softmax_##set, causal_softmax_backward_##set,      \
        swiglu_##set, swiglu_backward_##set, gelu_##set, gelu_with_derivative_##set, gelu_backward_##set,      \
        silu_##set, silu_backward_##set, sigmoid_##set, adamw_##set, causal_product_##set, rms_norm_##set,     \
        rms_norm_backward_##set, rms_norm_gain_gradient_##set, transpose_##set, multiply_add_chains_##set,     \
        PEAK_REGISTERS * lanes,                                                                                \
    };

// 16 SSE2 registers: 2 rows x 4 of sums, 4 for b's row, 1 broadcast. 16 AVX2: 4 x 2, 2, 1.
// 32 AVX-512: 8 x 2, 2, 1. Rows that divide 128 and 16 leave no remainder of single rows at
// the sequence's end, where causal rows are longest; on AVX-512 8 rows beat 6 by 5 to 15%
// (fewer broadcast loads per multiply-add) and 12 left such a remainder. Lanes: 4, 8, 16.
LANE_KERNELS(generic, , 4, 2, 1)

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
LANE_KERNELS(avx2, __attribute__((target("avx2,fma"))), 8, 4, 1)
LANE_KERNELS(avx512, __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), 16, 8, 2)

// __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0).
static int runs_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int runs_avx512(void) {
    __builtin_cpu_init();
    return runs_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}
#endif

const dp_lane_kernels *dp_lane_kernels_named(const char *name) {
    if (name == NULL) return NULL;
    if (strcmp(name, "generic") == 0) return &kernels_generic;
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (strcmp(name, "avx2") == 0) return runs_avx2() ? &kernels_avx2 : NULL;
    if (strcmp(name, "avx512") == 0) return runs_avx512() ? &kernels_avx512 : NULL;
#endif
    return NULL;
}

const dp_lane_kernels *dp_lane_kernels_best(void) {
    static const char *const widestFirst[] = {"avx512", "avx2", "generic"};
    for (unsigned k = 0; k < sizeof widestFirst / sizeof widestFirst[0]; k++) {
        const dp_lane_kernels *set = dp_lane_kernels_named(widestFirst[k]);
        if (set != NULL) return set;
    }
    return &kernels_generic;
}
