# Writes a C++ source defining a char array with the bytes of a file. A char array, not a raw
# string literal: no delimiter can collide with the content and no compiler limit on the length
# of string literals applies.
#   cmake -DINPUT=file -DOUTPUT=out.cpp -DNAMESPACE=a::b -DSYMBOL=kData -P embed_file.cmake
# Defines `const unsigned char SYMBOL[]` (NUL-terminated; unsigned so bytes >= 0x80 are not
# narrowing conversions) and `const std::size_t SYMBOL##Size`.
foreach(var INPUT OUTPUT NAMESPACE SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: ${var} is not set")
  endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# Two hex digits per byte -> "0x..," ; 16 bytes per line.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
set(line_pattern "")
foreach(i RANGE 15)  # CMake regexes have no {n} repetition
  string(APPEND line_pattern "0x[0-9a-f][0-9a-f],")
endforeach()
string(REGEX REPLACE "(${line_pattern})" "\\1\n  " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}"
"// Generated from ${input_name} by config/cmake/embed_file.cmake. Do not edit.
#include <cstddef>

namespace ${NAMESPACE} {

extern const unsigned char ${SYMBOL}[];
extern const std::size_t ${SYMBOL}Size;

const unsigned char ${SYMBOL}[] = {
  ${bytes}0x00};
const std::size_t ${SYMBOL}Size = ${size};

}  // namespace ${NAMESPACE}
")
