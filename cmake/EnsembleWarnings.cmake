# ensemble_warnings(target): the project's warning set on one target.
function(ensemble_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(ENSEMBLE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# ensemble_test(name src... LIBS lib...): a GTest binary registered with ctest.
function(ensemble_test name)
  cmake_parse_arguments(ARG "" "" "LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  ensemble_warnings(${name})
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "unit;${ARG_LABELS}")
endfunction()
