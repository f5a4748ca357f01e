#!/usr/bin/env bash
# Lays out libtorch for the trainer image so that DJL loads it without writing or downloading
# anything at run time:
#   LIBTORCH_DIR                      libtorch's shared libraries (the image sets PYTORCH_LIBRARY_PATH to it)
#   DJL_CACHE_DIR/pytorch/V-F-linux-x86_64/D-libdjl_torch.so   DJL's JNI library, where DJL looks for it
# and removes the CPU libtorch jar from LIB_DIR (its libraries are in LIBTORCH_DIR now).
#
# Flavor cpu: libtorch comes out of the pytorch-native-cpu jar that mvn package put in LIB_DIR.
# Flavor cuNNN (e.g. cu128): libtorch for that CUDA version is downloaded from DJL's repository
# (LIBTORCH_BASE_URL, default https://publish.djl.ai/pytorch; point it at a mirror), the same
# files DJL itself would download at run time. The pytorch-jni jar must hold a JNI library for the
# flavor (pytorch-jni 2.7.1-0.36.0 has cpu and cu128).
#
# Usage: install-libtorch.sh LIB_DIR FLAVOR LIBTORCH_DIR DJL_CACHE_DIR
# Needs PYTORCH_VERSION and DJL_VERSION in the environment, the JDK's jar tool, and curl and gunzip
# for a CUDA flavor.
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: install-libtorch.sh LIB_DIR FLAVOR LIBTORCH_DIR DJL_CACHE_DIR" >&2; exit 2; }
lib_dir="$(cd "$1" && pwd)"
flavor="$2"
mkdir -p "$3" "$4"
libtorch_dir="$(cd "$3" && pwd)"
djl_cache_dir="$(cd "$4" && pwd)"
: "${PYTORCH_VERSION:?}" "${DJL_VERSION:?}"
base_url="${LIBTORCH_BASE_URL:-https://publish.djl.ai/pytorch}"
classifier=linux-x86_64

fail() {
  echo "install-libtorch: $*" >&2
  exit 1
}

jni_jar="$lib_dir/pytorch-jni-$PYTORCH_VERSION-$DJL_VERSION.jar"
cpu_jar="$lib_dir/pytorch-native-cpu-$PYTORCH_VERSION-$classifier.jar"
[[ -f "$jni_jar" ]] || fail "no $(basename "$jni_jar") in $lib_dir: the pom's DJL or libtorch version differs from PYTORCH_VERSION=$PYTORCH_VERSION DJL_VERSION=$DJL_VERSION"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ "$flavor" == cpu ]]; then
  [[ -f "$cpu_jar" ]] || fail "no $(basename "$cpu_jar") in $lib_dir"
  (cd "$work" && jar xf "$cpu_jar" "pytorch/cpu/$classifier/")
  cp "$work/pytorch/cpu/$classifier/"* "$libtorch_dir/"
elif [[ "$flavor" =~ ^cu[0-9]+$ ]]; then
  url="$base_url/$PYTORCH_VERSION"
  curl -fsSL "$url/files.txt" > "$work/files.txt" || fail "cannot read $url/files.txt"
  grep "^$flavor/$classifier/native/lib/.*\.gz$" "$work/files.txt" > "$work/wanted" \
    || fail "$url/files.txt lists no libtorch for $flavor/$classifier"
  while read -r file; do
    name="$(basename "${file%.gz}")"
    name="$(printf '%b' "${name//%/\\x}")"  # the names are URL-encoded (e.g. %2B for +)
    echo "install-libtorch: $url/$file" >&2
    curl -fsSL "$url/$file" | gunzip > "$libtorch_dir/$name"
  done < "$work/wanted"
  [[ -f "$libtorch_dir/libtorch_cuda.so" ]] || fail "the $flavor download has no libtorch_cuda.so"
else
  fail "unknown flavor $flavor: cpu, or a CUDA flavor such as cu128"
fi
[[ -f "$libtorch_dir/libtorch.so" ]] || fail "no libtorch.so in $libtorch_dir"

jni_dir="$djl_cache_dir/pytorch/$PYTORCH_VERSION-$flavor-$classifier"
mkdir -p "$jni_dir"
(cd "$work" && jar xf "$jni_jar" "jnilib/$classifier/$flavor/libdjl_torch.so")
[[ -s "$work/jnilib/$classifier/$flavor/libdjl_torch.so" ]] \
  || fail "$(basename "$jni_jar") has no JNI library for $flavor"
cp "$work/jnilib/$classifier/$flavor/libdjl_torch.so" "$jni_dir/$DJL_VERSION-libdjl_torch.so"

rm -f "$cpu_jar"
echo "install-libtorch: libtorch $PYTORCH_VERSION ($flavor) in $libtorch_dir, JNI in $jni_dir" >&2
