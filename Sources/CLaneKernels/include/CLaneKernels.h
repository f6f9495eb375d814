#ifndef SWIFT_DUALPIPE_LANE_KERNELS_H
#define SWIFT_DUALPIPE_LANE_KERNELS_H
// The model's elementwise kernels that need exponentials (softmax, GELU, SiLU, the SwiGLU gate,
// the sigmoid router), compiled once per x86 instruction set: Swift compiles a function for one
// CPU only, and the package's binary must run on any x86-64. Each set is a table of the same
// functions; dp_lane_kernels_best() picks the widest set this CPU and OS support.
//
// Every `n` is a count of floats; pointers marked restrict must not overlap.

#ifdef __cplusplus
extern "C" {
#endif

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
} dp_lane_kernels;

/// The widest set this CPU and its OS run (never NULL).
const dp_lane_kernels *dp_lane_kernels_best(void);

/// The set called `name` if this CPU runs it, else NULL.
const dp_lane_kernels *dp_lane_kernels_named(const char *name);

#ifdef __cplusplus
}
#endif
#endif
