# Warnings are errors for everything we compile.
function(virtpp_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12's optimiser-driven flow warnings report impossible overlaps and overflows inside
    # libstdc++'s own string and vector code (GCC bugs 105329, 105545, 106199). They stay on as
    # warnings; clang's build (the sanitizer build) keeps its flow analysis as errors.
    target_compile_options(${target} PRIVATE -Wno-error=restrict -Wno-error=stringop-overflow
      -Wno-error=array-bounds -Wno-error=maybe-uninitialized -Wno-restrict)
  endif()
endfunction()
