# Kernel sources. Each ISA's translation units are compiled with only their own flags, so portable
# code never contains AVX (or dotprod) instructions; dispatch picks one at run time.
#
# Naming: kernels/<family>/<family>_<isa>.cpp. The suffix decides the flags; files of the other
# architecture are left out of the build. On aarch64, _neon files get the baseline flags (Advanced
# SIMD is mandatory) and _neondot files +dotprod; a neon/neondot pair usually shares one .inc body
# (ternary_mad_neon.inc, ternary_sparse_neon.inc), which is not compiled on its own.
file(GLOB_RECURSE BITNET_KERNEL_SRC CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/*.cpp)

string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _bitnet_proc)
if(_bitnet_proc MATCHES "^(x86_64|amd64|x64)$")
  set(BITNET_KERNEL_ARCH x86)
elseif(_bitnet_proc MATCHES "^(aarch64|arm64)$")
  set(BITNET_KERNEL_ARCH arm)
else()
  set(BITNET_KERNEL_ARCH other)  # scalar kernels only
endif()
message(STATUS "libbitnet kernels: ${BITNET_KERNEL_ARCH} (${CMAKE_SYSTEM_PROCESSOR})")

set(_bitnet_x86_avx2 -mavx2 -mfma -mf16c)
# -Wno-maybe-uninitialized: GCC 12's own AVX-512 intrinsic headers trip it (GCC bug 105593).
set(_bitnet_x86_avx512 -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -Wno-maybe-uninitialized)

foreach(src ${BITNET_KERNEL_SRC})
  get_filename_component(name ${src} NAME_WE)
  if(name MATCHES "_(avx2|avxvnni|avx512|avx512vnni|avx512vbmi|avx512amx)$")
    set(isa ${CMAKE_MATCH_1})
    if(NOT BITNET_KERNEL_ARCH STREQUAL "x86")
      continue()
    endif()
    if(isa STREQUAL "avx2")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx2}")
    elseif(isa STREQUAL "avxvnni")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx2};-mavxvnni")
    elseif(isa STREQUAL "avx512")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx512}")
    elseif(isa STREQUAL "avx512vnni")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx512};-mavx512vnni")
    elseif(isa STREQUAL "avx512amx")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx512};-mamx-tile;-mamx-int8")
    elseif(isa STREQUAL "avx512vbmi")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "${_bitnet_x86_avx512};-mavx512vbmi")
    endif()
  elseif(name MATCHES "_(neon|neondot)$")
    set(isa ${CMAKE_MATCH_1})
    if(NOT BITNET_KERNEL_ARCH STREQUAL "arm")
      continue()
    endif()
    if(isa STREQUAL "neondot")
      set_source_files_properties(${src} PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
    endif()
  endif()
  target_sources(bitnet_obj PRIVATE ${src})
endforeach()
