# Cross build for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu. Run the results under
# qemu-aarch64 -L /usr/aarch64-linux-gnu (see .ci/kernels-multiarch.sh).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
# Programs (ccache, git) come from the host; libraries and headers from the target sysroot, except
# header-only packages (fmt, nlohmann_json, CLI11), whose CMake configs live in the host prefix.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/usr/aarch64-linux-gnu)
# Header-only dependencies: use the host's package configs (fmt is used as fmt::fmt-header-only only).
foreach(_pkg_dir fmt=/usr/lib/x86_64-linux-gnu/cmake/fmt CLI11=/usr/share/cmake/CLI11
                 nlohmann_json=/usr/share/cmake/nlohmann_json)
  string(REPLACE "=" ";" _pair "${_pkg_dir}")
  list(GET _pair 0 _name)
  list(GET _pair 1 _dir)
  if(NOT DEFINED ${_name}_DIR AND EXISTS "${_dir}")
    set(${_name}_DIR "${_dir}" CACHE PATH "")
  endif()
endforeach()
