// This CPU's fp32 peak, measured: its clock, from a chain of dependent
// integer adds (one per cycle on every x86 core), and its FMA rate, from N
// threads of independent AVX-512 FMAs on registers only (24 chains, no
// memory). Their ratio is the flop per cycle a core issues: 64 where two
// 512-bit FMA units do (Intel's AVX-512 server cores), 32 where 512-bit
// FMAs run as two 256-bit halves (AMD Zen 4).
//   cpu_peak THREADS   -> "GHZ GFLOPS FLOP_PER_CYCLE" (FMA rate at THREADS)
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kChains = 24 };
static const long kSteps = 20000000;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *fmas(void *out) {
  __m512 acc[kChains];
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < kChains; ++i)
    acc[i] = _mm512_set1_ps((float)i);
  for (long k = 0; k < kSteps; ++k)
#pragma GCC unroll 24
    for (int i = 0; i < kChains; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  float sum = 0.f;
  for (int i = 0; i < kChains; ++i)
    sum += _mm512_reduce_add_ps(acc[i]);
  *(float *)out = sum;
  return NULL;
}

/// Cycles per second: 4 dependent adds per iteration, one cycle each.
static double clock_hz(void) {
  const long n = 500000000L;
  long x = 0;
  const double t0 = now();
  for (long i = 0; i < n; ++i)
    __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
  return 4.0 * (double)n / (now() - t0);
}

int main(int argc, char **argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "usage: cpu_peak THREADS (1 to 256)\n");
    return 2;
  }
  const double hz = clock_hz();
  pthread_t tid[256];
  float sums[256];
  const double t0 = now();
  for (int t = 0; t < threads; ++t)
    pthread_create(&tid[t], NULL, fmas, &sums[t]);
  for (int t = 0; t < threads; ++t)
    pthread_join(tid[t], NULL);
  const double s = now() - t0;
  const double flops = 2.0 * 16 * kChains * (double)kSteps * threads;
  float sink = 0.f;
  for (int t = 0; t < threads; ++t)
    sink += sums[t];
  printf("%.2f %.1f %.1f\n", hz * 1e-9, flops / s * 1e-9 + 0.0 * sink,
         flops / s / hz / threads);
  return 0;
}
