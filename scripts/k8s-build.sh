#!/bin/sh
# Build the single-node Kubernetes of `make k8s-up` once per machine, into a cache
# outside the clone: kube-apiserver, kube-controller-manager, kube-scheduler and the
# kubelet of version 1.20.2, from Debian bookworm's `kubernetes` source package (the
# last whose sources ship their whole vendor tree, so it builds offline), and the
# pause binary of the Pod sandboxes from the same sources. Reused when present.
#
#   XC_K8S_CACHE  where the binaries go (default ~/.cache/xc-runner/k8s-1.20.2)
#
# The source comes through apt with a private sources list and lists folder: the
# system's apt configuration is left alone. The build (GOPATH mode, `make WHAT=...`)
# takes 6 to 15 minutes of both cores and 1 to 2 GB of memory; it runs niced, and its
# 2.3 GB of intermediate output is removed once the binaries are kept.
set -eu
case ${1-} in -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac

cache=${XC_K8S_CACHE:-${HOME:-/root}/.cache/xc-runner/k8s-1.20.2}
version=v1.20.2
binaries='kube-apiserver kube-controller-manager kube-scheduler kubelet'

have_all() {
    for b in $binaries pause; do
        [ -x "$cache/bin/$b" ] || return 1
    done
    [ "$(cat "$cache/VERSION" 2>/dev/null)" = "$version" ]
}

if have_all; then
    echo "k8s-build: $version already built in $cache" >&2
    exit 0
fi

for tool in apt-get dpkg-source go rsync gcc make; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "k8s-build: $tool is missing (run scripts/k8s-packages.sh as root)" >&2
        exit 1
    }
done

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
# The source package, through a private apt configuration (deb-src of bookworm main),
# fetched as root: the private lists folder is not the _apt user's.
mkdir -p "$work/apt/lists/partial" "$work/src"
printf 'deb-src http://deb.debian.org/debian bookworm main\n' >"$work/apt/sources.list"
aptopts="-o Dir::Etc::SourceList=$work/apt/sources.list -o Dir::Etc::SourceParts=/dev/null \
-o APT::Sandbox::User=root \
-o Dir::State::Lists=$work/apt/lists -o APT::Get::List-Cleanup=0"
# shellcheck disable=SC2086 # one word per option
apt-get $aptopts -qq update
# shellcheck disable=SC2086
(cd "$work/src" && apt-get $aptopts -qq source --download-only kubernetes >/dev/null)
dsc=$(ls "$work"/src/kubernetes_*.dsc)
dpkg-source --no-check -x "$dsc" "$work/src/kubernetes" >/dev/null
got=$(date +%s)
echo "k8s-build: source downloaded and unpacked in $((got - start)) s" >&2

# GOPATH mode: the vendor tree, no module proxy, no cgo.
mkdir -p "$work/gopath/src/k8s.io" "$work/gocache"
ln -s "$work/src/kubernetes" "$work/gopath/src/k8s.io/kubernetes"
cd "$work/gopath/src/k8s.io/kubernetes"
GOPATH="$work/gopath" GOCACHE="$work/gocache" GO111MODULE=off GOPROXY=off GOFLAGS=-mod=vendor \
CGO_ENABLED=0 KUBE_GIT_VERSION="$version" KUBE_GIT_MAJOR=1 KUBE_GIT_MINOR=20 \
KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=0000000000000000000000000000000000000000 \
    nice -n 19 make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet" \
    >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; echo "k8s-build: the build failed" >&2; exit 1; }
built=$(date +%s)
echo "k8s-build: binaries built in $((built - got)) s" >&2

mkdir -p "$cache/bin.new"
for b in $binaries; do
    cp "_output/local/bin/linux/amd64/$b" "$cache/bin.new/$b"
done
gcc -Os -static -o "$cache/bin.new/pause" build/pause/linux/pause.c
strip "$cache/bin.new/pause" 2>/dev/null || true
rm -rf "$cache/bin"
mv "$cache/bin.new" "$cache/bin"
echo "$version" >"$cache/VERSION"
echo "k8s-build: $version in $cache/bin ($(du -sm "$cache/bin" | cut -f1) MB), $(($(date +%s) - start)) s in all" >&2
