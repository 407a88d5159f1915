#!/usr/bin/env bash
# Fetch the third-party servers urna runs locally into .tools/ (not tracked):
# Apache Kafka's jars from Maven Central and FerretDB built from the Go module
# proxy. Both steps are skipped when their output is already there.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin" "$tools/kafka/libs"

kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/local/kafka/pom.xml")
if [ ! -f "$tools/kafka/libs/kafka_2.13-$kafka_version.jar" ]; then
  echo "install-tools: resolving Apache Kafka $kafka_version from Maven Central"
  rm -f "$tools/kafka/libs/"*.jar
  (cd "$root/local/kafka" && mvn -q -B dependency:copy-dependencies \
      -DoutputDirectory="$tools/kafka/libs" -DincludeScope=runtime)
fi

if [ ! -x "$tools/bin/urna-ferretdb" ] || [ "$root/local/ferretdb/main.go" -nt "$tools/bin/urna-ferretdb" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "install-tools: Go is missing; installing golang-1.23 from bookworm-backports"
    "$root/scripts/install-go.sh"
    # FerretDB 1.24 needs Go 1.24: with GOTOOLCHAIN=auto, go 1.23 fetches the
    # toolchain that go.mod names from the Go module proxy.
    export PATH="$PATH:/usr/lib/go-1.23/bin" GOTOOLCHAIN=auto
  fi
  echo "install-tools: building FerretDB (embedded, SQLite backend) from the Go module proxy"
  (cd "$root/local/ferretdb" && go build -o "$tools/bin/urna-ferretdb" .)
fi
echo "install-tools: Kafka $kafka_version and FerretDB are in $tools"
