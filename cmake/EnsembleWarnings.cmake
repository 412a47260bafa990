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
  if(ENSEMBLE_SKIP_INCOMPLETE_TESTS)
    # Development aid while several people edit the tree: skip a test whose
    # sources are not written yet. Never set in CI.
    foreach(src ${ARG_UNPARSED_ARGUMENTS})
      if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
        message(WARNING "skipping ${name}: ${src} missing")
        return()
      endif()
    endforeach()
  endif()
  add_executable(${name} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  ensemble_warnings(${name})
  # The label list must reach the test properties as one value.
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  string(REPLACE ";" "\\;" labels "${labels}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "${labels}")
endfunction()
