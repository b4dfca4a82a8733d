# Compiler flags, sanitizers and the helpers every component uses.

# Flags for code we wrote (not for generated protobuf code).
set(RAFTMETA_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

set(RAFTMETA_SANITIZER_FLAGS "")
if(RAFTMETA_SANITIZE STREQUAL "address")
  set(RAFTMETA_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
elseif(RAFTMETA_SANITIZE STREQUAL "thread")
  set(RAFTMETA_SANITIZER_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT RAFTMETA_SANITIZE STREQUAL "")
  message(FATAL_ERROR "RAFTMETA_SANITIZE must be empty, 'address' or 'thread', not '${RAFTMETA_SANITIZE}'")
endif()

if(RAFTMETA_CI)
  add_compile_options(-g0)
endif()
if(NOT RAFTMETA_SANITIZE STREQUAL "")
  # Sanitized code runs slower; -O1 keeps the build fast and stacks readable.
  set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g")
  if(RAFTMETA_CI)
    set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1")
  endif()
  # Link-time flag everywhere so generated code and our code link together.
  add_link_options(${RAFTMETA_SANITIZER_FLAGS})
endif()

# raftmeta_target(<target>): our flags on our code.
function(raftmeta_target target)
  target_compile_options(${target} PRIVATE ${RAFTMETA_WARNINGS} ${RAFTMETA_SANITIZER_FLAGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  if(NOT RAFTMETA_SANITIZE STREQUAL "")
    string(TOUPPER "${RAFTMETA_SANITIZE}" san)
    target_compile_definitions(${target} PUBLIC RAFTMETA_SANITIZER_${san}=1)
  endif()
endfunction()

# raftmeta_test(<name> SOURCES ... [LIBS ...] LABELS ... TIMEOUT <s>
#               [ASAN] [TSAN] [ARGS ...] [RUN_SERIAL])
# Every test has a timeout and at least one label. The default build has every
# test; the address build only those marked ASAN, the thread build only those
# marked TSAN (TSan cannot see into Debian's gRPC, so threaded tests over gRPC
# are not marked).
function(raftmeta_test name)
  cmake_parse_arguments(T "ASAN;TSAN;RUN_SERIAL" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  if(NOT T_TIMEOUT OR NOT T_LABELS)
    message(FATAL_ERROR "raftmeta_test(${name}): TIMEOUT and LABELS are required")
  endif()
  if(RAFTMETA_SANITIZE STREQUAL "address" AND NOT T_ASAN)
    return()
  endif()
  if(RAFTMETA_SANITIZE STREQUAL "thread" AND NOT T_TSAN)
    return()
  endif()
  if(NOT TARGET ${name})
    add_executable(${name} ${T_SOURCES})
    raftmeta_target(${name})
    target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gmock Threads::Threads)
  endif()
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  set(labels ${T_LABELS})
  if(RAFTMETA_SANITIZE STREQUAL "thread")
    list(APPEND labels tsan)
  elseif(RAFTMETA_SANITIZE STREQUAL "address")
    list(APPEND labels asan)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${T_TIMEOUT})
  if(T_RUN_SERIAL)
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
  if(RAFTMETA_SANITIZE STREQUAL "thread")
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=1:report_signal_unsafe=0")
  elseif(RAFTMETA_SANITIZE STREQUAL "address")
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endif()
endfunction()
