#ifndef SWIFT_DUALPIPE_LANE_KERNELS_H
#define SWIFT_DUALPIPE_LANE_KERNELS_H
// The kernels that Swift would leave one lane wide or four: those that need exponentials
// (softmax, GELU, SiLU, the SwiGLU gate, the sigmoid router), AdamW (a square root and two
// divisions a parameter), RMSNorm, and attention's causal products, compiled once per x86
// instruction set: Swift compiles a function for one CPU only, and the package's binary must run
// on any x86-64. Each set is a table of the same
// functions; dp_lane_kernels_best() picks the widest set this CPU and OS support.
//
// Every `n` is a count of floats; pointers marked restrict must not overlap.

#ifdef __cplusplus
extern "C" {
#endif

/// One AdamW step's scalars: the same for every parameter of a buffer.
typedef struct dp_adamw_step {
    float beta1, beta2, epsilon;
    /// learning rate x weight decay where the buffer decays, else 0.
    float decay;
    float learning_rate;
    /// Multiplies every gradient first (the clipping factor).
    float gradient_scale;
    /// The bias corrections 1 - beta1^t and 1 - beta2^t.
    float correction1, correction2;
} dp_adamw_step;

/// Which terms and columns each row of a causal attention product needs (see causal_product).
typedef enum dp_causal_shape {
    /// Scores and their gradient (Q·Kᵀ, dO·Vᵀ): row i needs columns 0...i only, over every k.
    DP_CAUSAL_COLUMNS_TO_ROW = 0,
    /// P·V and dS·K: a(i, k) is 0 for k > i, so row i sums k in 0...i.
    DP_CAUSAL_TERMS_TO_ROW = 1,
    /// Pᵀ·dO and dSᵀ·Q: a(i, k) is 0 for k < i, so row i sums k in i..<k_count.
    DP_CAUSAL_TERMS_FROM_ROW = 2,
} dp_causal_shape;

typedef struct dp_lane_kernels {
    /// "avx512", "avx2" or "generic".
    const char *name;
    /// row[0..<n] = softmax(scale * row) in place; *maximum = max(scale * row); returns the sum of
    /// the exponentials before they were normalised. scale > 0, n >= 1.
    float (*softmax)(float *row, long n, float scale, float *maximum);
    /// d[j] = scale * p[j] * (d[j] - sum_k p[k] d[k]): the softmax's gradient from the upstream
    /// gradient d, in place.
    void (*softmax_backward)(const float *__restrict p, float *__restrict d, long n, float scale);
    /// Causal softmax over `count` [t, t] score matrices in place: row i of each becomes
    /// softmax(scale * row[0...i]) and its entries past i become 0. scale > 0.
    void (*causal_softmax)(float *scores, long count, long t, float scale);
    /// Its gradient in place on d (the upstream gradient, laid out like p): row i gets
    /// scale * p * (d - sum_k p[k] d[k]) over 0...i and 0 past i.
    void (*causal_softmax_backward)(const float *__restrict p, float *__restrict d, long count, long t, float scale);
    /// out = silu(gate) * up.
    void (*swiglu)(const float *__restrict gate, const float *__restrict up, float *__restrict out, long n);
    /// dgate = dh * up * silu'(gate), dup = dh * silu(gate).
    void (*swiglu_backward)(const float *__restrict gate, const float *__restrict up, const float *__restrict dh,
                            float *__restrict dgate, float *__restrict dup, long n);
    /// y = x * Phi(x) (exact GELU; Phi the standard normal CDF).
    void (*gelu)(const float *__restrict x, float *__restrict y, long n);
    /// x = gelu(x) in place, derivative = gelu'(x) = Phi(x) + x phi(x).
    void (*gelu_with_derivative)(float *__restrict x, float *__restrict derivative, long n);
    /// d = d * gelu'(x), in place on the gradient.
    void (*gelu_backward)(const float *__restrict x, float *__restrict d, long n);
    /// y = x * sigma(x).
    void (*silu)(const float *__restrict x, float *__restrict y, long n);
    /// d = d * silu'(x), in place on the gradient.
    void (*silu_backward)(const float *__restrict x, float *__restrict d, long n);
    /// y = sigma(x) = 1 / (1 + e^-x).
    void (*sigmoid)(const float *__restrict x, float *__restrict y, long n);
    /// One AdamW step of n parameters p with gradients g and moments m, v, in place:
    /// g' = gradient_scale g, m = beta1 m + (1 - beta1) g', v = beta2 v + (1 - beta2) g'^2,
    /// p -= decay p, then p -= learning_rate (m / correction1) / (sqrt(v / correction2) + epsilon).
    /// Every operation rounds as written (no fused multiply-adds, division and square root
    /// correctly rounded), so every set gives the same bits: copies of a stage on ranks of
    /// different CPUs stay identical.
    void (*adamw)(float *__restrict p, const float *__restrict g, float *__restrict m, float *__restrict v, long n,
                  const dp_adamw_step *step);
    /// One causal attention product, skipping the masked half that a dense sgemm would compute:
    /// c[i][0..<n] = sum over k of a(i, k) b[k][0..<n] for i < m, where a(i, k) = a[i a_row + k a_column]
    /// (a as stored, or transposed), b's rows are ldb apart and c's ldc apart. k runs over 0..<k_count
    /// as `shape` narrows it. Rows are computed in blocks that share one range of k and columns, so
    /// a row may take terms just past its own range: `a` must hold zeros there (causal softmax's
    /// probabilities and gradients do). With DP_CAUSAL_COLUMNS_TO_ROW, row i is written at least
    /// through column min(n, i + 1 rounded up to 16) - 1, causal_softmax's span, and may be left
    /// unwritten past it; the other shapes write all n columns. Sums run in increasing k.
    void (*causal_product)(const float *a, long a_row, long a_column, const float *b, long ldb, float *c, long ldc,
                           long m, long n, long k_count, dp_causal_shape shape);
    /// RMSNorm over `rows` rows of `width`: inverse[r] = 1 / sqrt(mean(x_r^2) + epsilon) and
    /// y_r = g * x_r * inverse[r].
    void (*rms_norm)(const float *__restrict x, const float *__restrict g, float *__restrict y,
                     float *__restrict inverse, long rows, long width, float epsilon);
    /// Its input gradient: dx_r = inverse[r] (g * dy_r - x_r c_r), c_r = sum(g * dy_r * x_r) inverse[r]^2 / width.
    void (*rms_norm_backward)(const float *__restrict x, const float *__restrict inverse, const float *__restrict g,
                              const float *__restrict dy, float *__restrict dx, long rows, long width);
    /// Its gain gradient, accumulated: dg += sum over rows of dy_r * x_r * inverse[r].
    void (*rms_norm_gain_gradient)(const float *__restrict x, const float *__restrict inverse,
                                   const float *__restrict dy, float *__restrict dg, long rows, long width);
    /// b[j][i] = a[i][j] for i < rows, j < columns; a's rows are lda apart, b's ldb apart.
    void (*transpose)(const float *__restrict a, long lda, float *__restrict b, long ldb, long rows, long columns);
    /// `peak_chains` independent chains x = x a + b, chain j starting at j, each stepped
    /// `iterations` times; returns the sum of the chains. Its time is the core's multiply-add peak
    /// for this set's lanes: 2 peak_chains iterations FLOP (with a = b = 1 the sum is exact,
    /// peak_chains (peak_chains - 1) / 2 + peak_chains iterations, for small counts).
    float (*multiply_add_chains)(long iterations, float a, float b);
    /// Twelve registers of this set's lanes: 48 (SSE2), 96 (AVX2), 192 (AVX-512).
    long peak_chains;
} dp_lane_kernels;

/// The widest set this CPU and its OS run (never NULL).
const dp_lane_kernels *dp_lane_kernels_best(void);

/// The set called `name` if this CPU runs it, else NULL.
const dp_lane_kernels *dp_lane_kernels_named(const char *name);

#ifdef __cplusplus
}
#endif
#endif
