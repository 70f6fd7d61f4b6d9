/* Tiny assertion helpers shared by the C tests (header-only; each test is one translation unit). */
#ifndef ZEGO_TEST_CHECK_H
#define ZEGO_TEST_CHECK_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static int check_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      check_failures++;                                                        \
    }                                                                          \
  } while (0)

#define CHECK_EQ(actual, expected)                                                       \
  do {                                                                                   \
    long long a_ = (long long)(actual), e_ = (long long)(expected);                      \
    if (a_ != e_) {                                                                      \
      fprintf(stderr, "%s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, #actual, \
              a_, e_);                                                                   \
      check_failures++;                                                                  \
    }                                                                                    \
  } while (0)

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Polls *flag (read under the caller's discipline) until non-zero or timeout; returns it. */
#define WAIT_FOR(expr, timeout_s)                                   \
  do {                                                              \
    double until_ = now_s() + (timeout_s);                          \
    while (!(expr) && now_s() < until_) sleep_ms(10);               \
  } while (0)

static int check_report(const char *name) {
  if (check_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
