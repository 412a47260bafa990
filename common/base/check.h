#pragma once

#include <cstdio>
#include <cstdlib>

// ENSEMBLE_CHECK(cond): a broken invariant is a programmer error; crash at once,
// in release builds too, naming the place and the condition.
#define ENSEMBLE_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
