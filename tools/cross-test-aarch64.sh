#!/bin/sh
# Cross-builds the runtime library (the INT8 model loader, the engine and its
# NEON kernels) and its tests for aarch64 from this project's own meson.build
# (tools/cross/aarch64-linux-gnu.ini, -Dtraining=disabled -Dgstreamer=disabled)
# and runs them under qemu user emulation, so the NEON kernels and the runner
# are compared byte for byte with the C reference on an x86 machine.
#
# Needs: gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (Debian),
# meson, ninja, pkg-config, and the arm64 builds of GLib, json-glib and ORC:
# either installed (multiarch libglib2.0-dev:arm64 libjson-glib-dev:arm64
# liborc-0.4-dev:arm64) or fetched by this script with `apt-get download` from
# the machine's Debian sources into <build>/sysroot, with a private apt state
# in <build>/apt (nothing is installed, the machine's dpkg setup is untouched).
# Exits 0 with "skipped: ..." when a tool is missing, non-zero on a failure.
#
# Usage: tools/cross-test-aarch64.sh [build-dir]   (default: build-aarch64)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-aarch64}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac

skip () {
  echo "skipped: $*"
  exit 0
}

for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null 2>&1 ||
    skip "no aarch64 cross compiler/qemu ($tool not found; apt-get install gcc-aarch64-linux-gnu qemu-user)"
done
for tool in meson ninja pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done

mkdir -p "$build"
# gcc-aarch64-linux-gnu installed without its recommends has no C library to link.
printf 'int main (void) { return 0; }\n' >"$build/probe.c"
aarch64-linux-gnu-gcc "$build/probe.c" -o "$build/probe" >/dev/null 2>&1 ||
  skip "no aarch64 cross compiler/qemu (aarch64-linux-gnu-gcc cannot link; apt-get install libc6-dev-arm64-cross)"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/probe" ||
  skip "no aarch64 cross compiler/qemu (qemu-aarch64 cannot run an aarch64 program)"

# The runtime's arm64 libraries and what their pkg-config files and shared
# libraries need (GLib's, GIO's, json-glib's, ORC's).
debs="libglib2.0-0 libglib2.0-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libpcre2-dev
  libffi8 libffi-dev zlib1g zlib1g-dev libmount1 libmount-dev libblkid1 libblkid-dev libselinux1 libselinux1-dev
  libsepol2 libsepol-dev libjson-glib-1.0-0 libjson-glib-dev liborc-0.4-0 liborc-0.4-dev"
libdir=lib/aarch64-linux-gnu
if [ -f /usr/$libdir/pkgconfig/glib-2.0.pc ] && [ -f /usr/$libdir/pkgconfig/json-glib-1.0.pc ] &&
   [ -f /usr/$libdir/pkgconfig/orc-0.4.pc ]; then
  sysroot=/
  pcdirs="'/usr/$libdir/pkgconfig', '/usr/share/pkgconfig'"
else
  sysroot=$build/sysroot
  if [ ! -f "$sysroot/.complete" ]; then
    command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 ||
      skip "no arm64 GLib/json-glib/ORC installed and no apt-get/dpkg-deb to fetch them"
    apt=$build/apt
    rm -rf "$apt" "$sysroot"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
    # A private apt state for arm64: the machine's sources, none of its state.
    set -- -o APT::Architecture=arm64 -o APT::Architectures::=arm64 -o Dir::State::Lists="$apt/lists" \
      -o Dir::Cache="$apt/cache" -o Dir::State::status=/dev/null -o Debug::NoLocking=1
    # shellcheck disable=SC2086
    if ! { apt-get -q "$@" update && (cd "$apt/debs" && apt-get -q "$@" download $debs); } \
        >"$build/apt-download.log" 2>&1; then
      cat "$build/apt-download.log" >&2
      echo "could not fetch the arm64 packages (see above)" >&2
      exit 1
    fi
    for deb in "$apt/debs"/*.deb; do
      dpkg-deb -x "$deb" "$sysroot"
    done
    touch "$sysroot/.complete"
  fi
  pcdirs="'$sysroot/usr/$libdir/pkgconfig', '$sysroot/usr/share/pkgconfig'"
fi

# Machine file for these libraries, layered over the committed cross file.
# pkg-config's sysroot prefixes the paths of the .pc files found in the sysroot.
cat >"$build/arm64-libs.ini" <<EOT
[binaries]
exe_wrapper = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-E', 'LD_LIBRARY_PATH=$sysroot/usr/$libdir:$sysroot/$libdir']

[properties]
sys_root = '$sysroot'
pkg_config_libdir = [$pcdirs]

[built-in options]
c_link_args = ['-Wl,-rpath-link,$sysroot/usr/$libdir', '-Wl,-rpath-link,$sysroot/$libdir']
EOT

if [ ! -f "$build/runtime/build.ninja" ]; then
  meson setup "$build/runtime" "$root" \
    --cross-file "$root/tools/cross/aarch64-linux-gnu.ini" --cross-file "$build/arm64-libs.ini" \
    -Dtraining=disabled -Dgstreamer=disabled >"$build/setup.log" 2>&1 ||
    { cat "$build/setup.log"; echo "cross configure failed" >&2; exit 1; }
fi
meson compile -C "$build/runtime"
# qemu runs the programs several times slower than the CPU would.  Suite
# common (the test helpers' own test) is left out: g_test_trap_subprocess()
# starts the aarch64 binary directly, which needs binfmt_misc, not just qemu.
meson test -C "$build/runtime" --print-errorlogs --num-processes 2 --timeout-multiplier 10 --no-suite common
