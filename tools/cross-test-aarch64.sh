#!/bin/sh
# Cross-builds the engine's kernel checker (tools/cross/checkasm: the kernels,
# the weight packing, the C reference and a GLib test driver) for aarch64 and
# runs it under qemu user emulation, so the NEON kernels are compared byte for
# byte with the C reference on an x86 machine.
#
# Needs: gcc-aarch64-linux-gnu and qemu-user (Debian), meson, ninja, pkg-config,
# and an arm64 GLib: either installed (multiarch libglib2.0-dev:arm64) or
# fetched by this script with `apt-get download` into <build>/sysroot (needs
# `dpkg --add-architecture arm64 && apt-get update` once; nothing is installed).
# Exits 0 with "skipped: ..." when a tool is missing, non-zero on a mismatch.
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

# The arm64 GLib: multiarch install, else a sysroot of extracted packages.
libdir=lib/aarch64-linux-gnu
if [ -f /usr/$libdir/pkgconfig/glib-2.0.pc ]; then
  sysroot=/
  pcdirs="'/usr/$libdir/pkgconfig', '/usr/share/pkgconfig'"
else
  sysroot=$build/sysroot
  if [ ! -f "$sysroot/usr/$libdir/pkgconfig/glib-2.0.pc" ]; then
    debs=$build/debs
    rm -rf "$debs" "$sysroot"
    mkdir -p "$debs"
    if ! (cd "$debs" && apt-get download libglib2.0-0:arm64 libglib2.0-dev:arm64 \
          libpcre2-8-0:arm64 libpcre2-dev:arm64) >"$build/apt-download.log" 2>&1; then
      skip "no arm64 GLib (not installed, and apt-get download failed: see $build/apt-download.log;" \
        "dpkg --add-architecture arm64 && apt-get update enables it)"
    fi
    for deb in "$debs"/*.deb; do
      dpkg-deb -x "$deb" "$sysroot"
    done
  fi
  pcdirs="'$sysroot/usr/$libdir/pkgconfig', '$sysroot/usr/share/pkgconfig'"
fi

# Machine file for this GLib, layered over the committed cross file.
cat >"$build/glib-arm64.ini" <<EOF
[binaries]
exe_wrapper = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', '-E', 'LD_LIBRARY_PATH=$sysroot/usr/$libdir:$sysroot/$libdir']

[properties]
sys_root = '$sysroot'
pkg_config_libdir = [$pcdirs]

[built-in options]
c_link_args = ['-Wl,-rpath-link,$sysroot/usr/$libdir', '-Wl,-rpath-link,$sysroot/$libdir']
EOF

if [ ! -f "$build/checker/build.ninja" ]; then
  meson setup "$build/checker" "$root/tools/cross/checkasm" \
    --cross-file "$root/tools/cross/aarch64-linux-gnu.ini" --cross-file "$build/glib-arm64.ini" >"$build/setup.log" 2>&1 ||
    { cat "$build/setup.log"; echo "cross configure failed" >&2; exit 1; }
fi
ninja -C "$build/checker"
meson test -C "$build/checker" --verbose --print-errorlogs
