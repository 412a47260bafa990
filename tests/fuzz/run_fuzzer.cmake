# Runs a libFuzzer binary for a bounded time on a checked-in seed corpus.
#   cmake -DFUZZER=<binary> -DSEED_CORPUS=<dir> -DWORK_DIR=<dir> -DSECONDS=<n>
#         [-DDICT=<file>] [-DSKIP_KNOWN=<class>,...] -P run_fuzzer.cmake
# SKIP_KNOWN sets ENSEMBLE_FUZZ_SKIP_KNOWN for the fuzzer: the known crash classes
# (README.md) it must step around.
# New inputs go to WORK_DIR/corpus (never into the source tree); a crash leaves its
# input in WORK_DIR/artifacts and fails the test with libFuzzer's report.
if(DEFINED MISSING)
  message(FATAL_ERROR "${MISSING}")
endif()
foreach(var FUZZER SEED_CORPUS WORK_DIR SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS ${FUZZER})
  message(FATAL_ERROR "fuzzer binary ${FUZZER} not found: build its target first")
endif()
file(GLOB seeds ${SEED_CORPUS}/*)
if(NOT seeds)
  message(FATAL_ERROR "seed corpus ${SEED_CORPUS} is empty")
endif()

set(dict_flag)
if(DEFINED DICT AND EXISTS "${DICT}")
  set(dict_flag -dict=${DICT})
endif()

if(SKIP_KNOWN)
  set(ENV{ENSEMBLE_FUZZ_SKIP_KNOWN} "${SKIP_KNOWN}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/corpus ${WORK_DIR}/artifacts)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -max_len=4096 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=64
          -print_final_stats=1 -artifact_prefix=${WORK_DIR}/artifacts/ ${dict_flag}
          ${WORK_DIR}/corpus ${SEED_CORPUS}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${result}); crashing input in ${WORK_DIR}/artifacts")
endif()
