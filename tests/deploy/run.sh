#!/usr/bin/env bash
# Offline validation of urna's deployment files: kustomize renders, Kubernetes
# and CRD schemas, urna's manifest rules, Grafana dashboards, the Cloud Run
# services and the Dockerfiles. Needs no cluster and no container engine. Installs its own tools
# into tests/deploy/node_modules and tests/deploy/.tools on the first run.
# Prints one line per check and ends with "N passed, M failed".
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$here/.tools"
kustomize_version=v5.7.1
kubernetes_version=1.33.0
kubernetes_validate_version=1.37.0
passed=0
failed=0

# Counts the "ok"/"FAIL" lines a validator printed and echoes them.
count_lines() {
  local line
  while IFS= read -r line; do
    echo "$line"
    case "$line" in
      "ok "*) passed=$((passed + 1)) ;;
      "FAIL "*) failed=$((failed + 1)) ;;
    esac
  done
}

check() {
  local name="$1"
  shift
  local output
  if output="$("$@" 2>&1)"; then
    echo "ok $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    printf '%s\n' "$output" | tail -n 20 | sed 's/^/    /'
    failed=$((failed + 1))
  fi
}

install_tools() {
  mkdir -p "$tools/bin" "$tools/render"

  # npm ci again whenever package-lock.json changed after the last install.
  if [ ! -f "$here/node_modules/.package-lock.json" ] \
    || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi

  if [ ! -x "$tools/bin/kustomize" ]; then
    GOBIN="$tools/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version" || return 1
  fi

  if [ ! -x "$tools/venv/bin/kubernetes-validate" ]; then
    /usr/bin/python3 -m venv "$tools/venv" \
      && "$tools/venv/bin/pip" install --quiet "kubernetes-validate==$kubernetes_validate_version" || return 1
  fi

  # Strimzi publishes no JSON schemas on a registry, so generate the CRDs with
  # Strimzi's own crd-generator from its API model, both from Maven Central.
  if [ ! -s "$tools/strimzi-crds/kafkatopic.yaml" ]; then
    mkdir -p "$tools/strimzi-crds"
    mvn -q -B -f "$here/strimzi/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$tools/strimzi-classpath.txt" || return 1
    local cp
    cp="$(cat "$tools/strimzi-classpath.txt")"
    java -cp "$cp" io.strimzi.crdgenerator.CrdGenerator --crd-api-version v1 \
      --api-versions v1beta2 --storage-version v1beta2 --yaml \
      "io.strimzi.api.kafka.model.kafka.Kafka=$tools/strimzi-crds/kafka.yaml" \
      "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$tools/strimzi-crds/kafkanodepool.yaml" 2>/dev/null || return 1
    java -cp "$cp" io.strimzi.crdgenerator.CrdGenerator --crd-api-version v1 \
      --api-versions v1beta2 --storage-version v1beta2 --yaml \
      "io.strimzi.api.kafka.model.topic.KafkaTopic=$tools/strimzi-crds/kafkatopic.yaml" 2>/dev/null || return 1
  fi
}

render() {
  "$tools/bin/kustomize" build "$1" > "$2"
}

mkdir -p "$tools"
if ! install_tools > "$tools/install.log" 2>&1; then
  echo "FAIL install validation tools (npm ci, go install kustomize, pip kubernetes-validate, mvn Strimzi)"
  tail -n 20 "$tools/install.log" | sed 's/^/    /'
  echo "0 passed, 1 failed"
  exit 1
fi
echo "ok install validation tools"
passed=$((passed + 1))

# base with the tally HPA fallback component, rendered from a kustomization
# inside .tools because a component needs a parent kustomization.
mkdir -p "$tools/render/hpa-fallback"
cat > "$tools/render/hpa-fallback/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../../../../deploy/k8s/base]
components: [../../../../../deploy/k8s/components/tally-hpa-fallback]
YAML

renders=()
for variant in base overlays/local overlays/gke hpa-fallback; do
  label="${variant#overlays/}"
  source_dir="$repo/deploy/k8s/$variant"
  [ "$variant" = hpa-fallback ] && source_dir="$tools/render/hpa-fallback"
  out="$tools/render/$label.yaml"
  check "kustomize $kustomize_version renders $label" render "$source_dir" "$out"
  [ -s "$out" ] && renders+=("$label=$out")
done

for entry in "${renders[@]}"; do
  check "${entry%%=*}: strict Kubernetes $kubernetes_version schemas (kubernetes-validate $kubernetes_validate_version)" \
    "$tools/venv/bin/kubernetes-validate" --strict --quiet --no-warn -k "$kubernetes_version" "${entry#*=}"
done

count_lines < <(cd "$here" && node validate_manifests.mjs "$tools/strimzi-crds" "${renders[@]}")

count_lines < <(cd "$here" && node validate_dashboards.mjs "$tools/grafana-dashboard.schema.json" "$repo"/deploy/grafana/dashboards/*.json)

count_lines < <(cd "$here" && node check_dockerfile.mjs "$repo/deploy/docker/Dockerfile" "$repo")

count_lines < <(cd "$here" && node check_web_dockerfile.mjs "$repo/deploy/docker/Dockerfile.web" "$repo/deploy/docker/nginx-web.conf" "$repo")
check "nginx-web.conf serves the app as a non-root user ($(/usr/sbin/nginx -v 2>&1 | sed 's/^nginx version: //'))" \
  bash "$here/check_web_nginx.sh" "$repo/deploy/docker/nginx-web.conf"

count_lines < <(cd "$here" && node validate_cloudrun.mjs "$tools/knative-service.schema.json" "$repo"/deploy/cloudrun/*.yaml)

# The validators must reject known-bad input, or a pass above means nothing.
expect_failure() {
  ! "$@" > /dev/null 2>&1
}
check "kubernetes-validate rejects fixtures/broken.yaml" \
  expect_failure "$tools/venv/bin/kubernetes-validate" --strict --quiet -k "$kubernetes_version" "$here/fixtures/broken.yaml"
check "manifest validators reject each object of fixtures/broken.yaml" \
  bash -c "out=\$(cd '$here' && node validate_manifests.mjs '$tools/strimzi-crds' broken='$here/fixtures/broken.yaml'); \
    grep -q 'containerPort must be integer' <<<\"\$out\" && grep -q 'replicationFactor' <<<\"\$out\" && grep -q 'maxReplicaCount must be integer' <<<\"\$out\""
check "Cloud Run validator reports each defect of fixtures/broken-cloudrun.yaml" \
  bash -c "out=\$(cd '$here' && node validate_cloudrun.mjs '$tools/knative-service.schema.json' '$here/fixtures/broken-cloudrun.yaml'); \
    grep -q 'UNLISTED_TAG} is not in' <<<\"\$out\" && grep -q 'containerPort must be integer' <<<\"\$out\" \
    && grep -q 'additionalProperty\":\"imagePulPolicy' <<<\"\$out\" && grep -q 'URNA_REDIS_PASSWORD is a plain value' <<<\"\$out\" \
    && grep -q 'URNA_LOGS_API_LISTEN must be 0.0.0.0:8080' <<<\"\$out\""
check "web Dockerfile checks report each defect of fixtures/broken-web.Dockerfile" \
  bash -c "out=\$(cd '$here' && node check_web_dockerfile.mjs '$here/fixtures/broken-web.Dockerfile' '$repo/deploy/docker/nginx-web.conf' '$repo'); \
    grep -q '^    node:22\$' <<<\"\$out\" && grep -q 'ends with USER \"\"' <<<\"\$out\" && grep -q 'does not run npm ci' <<<\"\$out\" \
    && grep -q 'declares no ARG VITE_API_BASE' <<<\"\$out\" && grep -q 'but nginx serves root' <<<\"\$out\""
check "dashboard validator rejects fixtures/broken-dashboard.json" \
  expect_failure bash -c "cd '$here' && node validate_dashboards.mjs '$tools/grafana-dashboard.schema.json' '$here/fixtures/broken-dashboard.json'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
