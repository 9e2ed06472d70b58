#!/usr/bin/env bash
# Resolves an Apache Kafka broker (org.apache.kafka:kafka_2.13 and every jar it
# needs, plus log4j-slf4j-impl so the broker logs through log4j) into Troupe's
# cache with Maven, once, and prints the folder. Tests and scripts run the broker
# with `java -cp 'FOLDER/*' kafka.Kafka ...` (runtime/cli/kafka/broker-process.ts).
#
#   scripts/fetch-kafka.sh                 # prints e.g. ~/.cache/troupe/kafka/4.3.1
#   KAFKA_VERSION=4.2.0 scripts/fetch-kafka.sh
#
# Why a Maven resolve rather than the release tarball: the Maven artefacts are
# checksummed by Maven Central and kept in ~/.m2, so a second cache miss is local,
# and it is the same tool the member store build uses.
# Why 4.x: KRaft only (no ZooKeeper), which lets one JVM be broker and controller.
#
# Idempotent: a complete folder (marked by .complete) is printed at once, with no
# Maven start. Concurrent callers are serialised with flock; the folder is moved
# into place whole, so an interrupted fetch never looks cached.
# Progress goes to stderr; stdout carries only the folder.
set -euo pipefail
# shellcheck source=lib/cache-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache-lock.sh"

version="${KAFKA_VERSION:-4.3.1}"
base="${TROUPE_CACHE:-${HOME}/.cache/troupe}/kafka"
dir="${base}/${version}"

if [[ -f "$dir/.complete" ]]; then echo "$dir"; exit 0; fi

take_cache_lock fetch-kafka "$base/.lock" 900 || exit 1
if [[ -f "$dir/.complete" ]]; then echo "$dir"; exit 0; fi
command -v mvn >/dev/null 2>&1 || { echo "fetch-kafka: Maven (mvn) is needed to resolve Kafka ${version}" >&2; exit 1; }

tmp="$(mktemp -d "${base}/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# A throwaway pom: its only job is to name the dependencies Maven should copy.
cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.troupe</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
POM

echo "fetch-kafka: resolving org.apache.kafka:kafka_2.13:${version} with Maven ..." >&2
if ! mvn -q -B -C -f "$tmp/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp/libs" -DincludeScope=runtime >"$tmp/mvn.log" 2>&1; then
  tail -40 "$tmp/mvn.log" >&2
  echo "fetch-kafka: Maven could not resolve Kafka ${version}" >&2
  exit 1
fi
if ! ls "$tmp/libs"/kafka_2.13-"${version}".jar >/dev/null 2>&1; then
  echo "fetch-kafka: Maven finished but kafka_2.13-${version}.jar is not in $tmp/libs" >&2
  exit 1
fi
touch "$tmp/libs/.complete"
rm -rf "$dir"
mv "$tmp/libs" "$dir"
echo "fetch-kafka: cached $dir ($(ls "$dir" | wc -l) jars)" >&2
echo "$dir"
