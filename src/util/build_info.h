// What was built: the git commit of the sources, for `bitnet bench` rows, `--version`,
// `bitnet system-info` and bitnet_version(). Defined in a file generated at configure time
// (cmake/build_info.cpp.in); CMake re-runs its configure step when git's HEAD moves, so an
// incremental build after a commit reports the new commit (only that one file recompiles).
#pragma once

namespace bitnet {

const char* build_commit();   // short hash, "unknown" outside a git checkout
const char* build_version();  // "libbitnet <commit>"

}  // namespace bitnet
