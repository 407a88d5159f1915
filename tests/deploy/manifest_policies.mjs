// urna's own rules for the rendered manifests, beyond what the schemas check.
// checkPolicies returns [check name, list of violations] pairs.

const SERVICES = {
  "urna-grpc-front": 3000,
  "urna-grpc-producer": 3001,
  "urna-rest-front": 8000,
  "urna-rest-producer": 8080,
  "urna-tally": 9100,
  "urna-logs-api": 5000,
};
const HPA_TARGETS = ["urna-grpc-front", "urna-grpc-producer", "urna-rest-front", "urna-rest-producer"];
const INGRESS_PATHS = ["/grpc/", "/rest/", "/rust/(.*)", "/api/"];

const byKind = (objects, kind) => objects.filter((o) => o.kind === kind);
const find = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (workload) => workload.spec.template.spec;

function checkNamespace(objects) {
  return objects
    .filter((o) => o.kind !== "Namespace" && o.metadata.namespace !== "urna")
    .map((o) => `${o.kind}/${o.metadata.name} is in namespace ${o.metadata.namespace}, expected urna`);
}

function checkHardening(objects) {
  const errors = [];
  for (const w of [...byKind(objects, "Deployment"), ...byKind(objects, "StatefulSet")]) {
    const spec = podSpec(w);
    if (spec.securityContext?.runAsNonRoot !== true) errors.push(`${w.metadata.name}: runAsNonRoot is not true`);
    if (!(spec.securityContext?.runAsUser > 0)) errors.push(`${w.metadata.name}: runAsUser is missing or 0`);
    for (const c of spec.containers) {
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) errors.push(`${w.metadata.name}/${c.name}: readOnlyRootFilesystem is not true`);
      if (sc.allowPrivilegeEscalation !== false) errors.push(`${w.metadata.name}/${c.name}: allowPrivilegeEscalation is not false`);
      if (!sc.capabilities?.drop?.includes("ALL")) errors.push(`${w.metadata.name}/${c.name}: capabilities are not dropped`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory || !c.resources?.limits?.memory) {
        errors.push(`${w.metadata.name}/${c.name}: CPU/memory requests or memory limit missing`);
      }
      if (/:latest$/.test(c.image) || !c.image.includes(":")) errors.push(`${w.metadata.name}/${c.name}: image ${c.image} has no pinned tag`);
    }
  }
  return errors;
}

function checkServices(objects) {
  const errors = [];
  for (const [name, port] of Object.entries(SERVICES)) {
    const deployment = find(objects, "Deployment", name);
    if (!deployment) { errors.push(`Deployment ${name} missing`); continue; }
    const container = podSpec(deployment).containers[0];
    if (container.ports?.[0]?.containerPort !== port) errors.push(`${name}: container port is not ${port}`);
    if (container.readinessProbe?.httpGet?.path !== "/readyz") errors.push(`${name}: readiness probe is not GET /readyz`);
    if (container.livenessProbe?.httpGet?.path !== "/healthz") errors.push(`${name}: liveness probe is not GET /healthz`);
    const service = find(objects, "Service", name);
    if (!service) errors.push(`Service ${name} missing`);
    else if (service.spec.ports[0].port !== port) errors.push(`Service ${name}: port is not ${port}`);
    if (!find(objects, "PodDisruptionBudget", name)) errors.push(`PodDisruptionBudget ${name} missing`);
  }
  for (const s of byKind(objects, "Service")) {
    if (s.spec.type && s.spec.type !== "ClusterIP") errors.push(`Service ${s.metadata.name} is ${s.spec.type}; only ClusterIP is allowed`);
  }
  return errors;
}

function checkAutoscaling(objects) {
  const errors = [];
  for (const name of HPA_TARGETS) {
    const hpa = byKind(objects, "HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.name === name);
    if (!hpa) errors.push(`no HorizontalPodAutoscaler targets ${name}`);
  }
  const topic = find(objects, "KafkaTopic", "votes");
  if (!topic) return [...errors, "KafkaTopic votes missing"];
  const partitions = topic.spec.partitions;
  const scaled = find(objects, "ScaledObject", "urna-tally");
  const tallyHpa = byKind(objects, "HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.name === "urna-tally");
  if (!scaled && !tallyHpa) errors.push("urna-tally has neither a ScaledObject nor an HPA");
  if (scaled) {
    if (scaled.spec.maxReplicaCount !== partitions) errors.push(`ScaledObject maxReplicaCount ${scaled.spec.maxReplicaCount} != votes partitions ${partitions}`);
    const trigger = scaled.spec.triggers.find((t) => t.type === "kafka");
    if (!trigger) errors.push("ScaledObject urna-tally has no kafka trigger");
    else if (trigger.metadata.topic !== "votes" || trigger.metadata.allowIdleConsumers === "true") errors.push("kafka trigger must watch topic votes with allowIdleConsumers false");
  }
  if (tallyHpa && tallyHpa.spec.maxReplicas > partitions) errors.push(`urna-tally HPA maxReplicas ${tallyHpa.spec.maxReplicas} > votes partitions ${partitions}`);
  return errors;
}

function checkKafka(objects) {
  const errors = [];
  const kafka = byKind(objects, "Kafka")[0];
  const pool = byKind(objects, "KafkaNodePool")[0];
  const topic = find(objects, "KafkaTopic", "votes");
  if (!kafka || !pool || !topic) return ["Kafka, KafkaNodePool or KafkaTopic votes missing"];
  if (kafka.metadata.annotations?.["strimzi.io/kraft"] !== "enabled") errors.push("Kafka is not annotated strimzi.io/kraft: enabled");
  if (kafka.metadata.annotations?.["strimzi.io/node-pools"] !== "enabled") errors.push("Kafka is not annotated strimzi.io/node-pools: enabled");
  if (pool.spec.replicas !== 3) errors.push(`KafkaNodePool has ${pool.spec.replicas} nodes, expected 3`);
  if (pool.metadata.labels?.["strimzi.io/cluster"] !== kafka.metadata.name) errors.push("KafkaNodePool is not labelled with the Kafka cluster name");
  if (kafka.spec.kafka.config["default.replication.factor"] !== 3) errors.push("default.replication.factor is not 3");
  if (kafka.spec.kafka.config["min.insync.replicas"] !== 2) errors.push("min.insync.replicas is not 2");
  if (topic.spec.partitions !== 12) errors.push(`votes has ${topic.spec.partitions} partitions, expected 12`);
  if (topic.spec.replicas !== 3) errors.push(`votes has replication factor ${topic.spec.replicas}, expected 3`);
  if (topic.spec.config["min.insync.replicas"] !== 2) errors.push("votes min.insync.replicas is not 2");
  if (!(topic.spec.config["retention.ms"] >= 12 * 3600 * 1000)) errors.push("votes retention is shorter than 12 hours");
  return errors;
}

function checkStores(objects) {
  const errors = [];
  const redis = find(objects, "StatefulSet", "urna-redis");
  const mongo = find(objects, "StatefulSet", "urna-mongodb");
  if (!redis || !mongo) return ["StatefulSet urna-redis or urna-mongodb missing"];
  const redisArgs = podSpec(redis).containers[0].args.join(" ");
  if (!/--appendonly yes/.test(redisArgs)) errors.push("Redis runs without --appendonly yes");
  if (!/--requirepass \S+/.test(redisArgs)) errors.push("Redis runs without --requirepass");
  if (!podSpec(mongo).containers[0].args.includes("--auth")) errors.push("MongoDB runs without --auth");
  const policies = byKind(objects, "NetworkPolicy");
  const denyAll = policies.find((p) => Object.keys(p.spec.podSelector).length === 0 && !p.spec.ingress);
  if (!denyAll) errors.push("no default-deny ingress NetworkPolicy");
  for (const store of ["urna-redis", "urna-mongodb"]) {
    const allowing = policies.filter((p) => p.spec.podSelector.matchLabels?.["app.kubernetes.io/name"] === store);
    if (allowing.length === 0) errors.push(`no NetworkPolicy admits clients to ${store}`);
    for (const p of allowing) {
      for (const rule of p.spec.ingress ?? []) {
        for (const peer of rule.from ?? []) {
          const names = peer.podSelector?.matchExpressions?.[0]?.values ?? [peer.podSelector?.matchLabels?.["app.kubernetes.io/name"]];
          if (peer.namespaceSelector || names.some((n) => !n || !n.startsWith("urna-"))) errors.push(`${p.metadata.name} admits a peer outside urna's pods`);
        }
      }
    }
  }
  return errors;
}

function checkSecrets(objects) {
  const errors = [];
  for (const secret of byKind(objects, "Secret")) {
    for (const [key, value] of Object.entries(secret.stringData ?? {})) {
      if (/password|uri/.test(key) && !String(value).includes("example-")) errors.push(`${secret.metadata.name}.${key} is not a marked example value`);
    }
    if (secret.data) errors.push(`${secret.metadata.name} has base64 data; keep example values in stringData`);
  }
  return errors;
}

function checkIngress(objects, expectRateLimits) {
  const errors = [];
  const ingresses = byKind(objects, "Ingress");
  const paths = ingresses.flatMap((i) => i.spec.rules.flatMap((r) => r.http.paths.map((p) => p.path)));
  for (const wanted of INGRESS_PATHS) if (!paths.includes(wanted)) errors.push(`no Ingress path ${wanted}`);
  for (const ingress of ingresses) {
    if (ingress.spec.ingressClassName !== "nginx") errors.push(`${ingress.metadata.name}: ingressClassName is not nginx`);
    if (expectRateLimits && !ingress.metadata.annotations?.["nginx.ingress.kubernetes.io/limit-rps"]) errors.push(`${ingress.metadata.name}: no limit-rps annotation`);
  }
  const alias = ingresses.find((i) => i.spec.rules.some((r) => r.http.paths.some((p) => p.path.startsWith("/rust/"))));
  if (alias && alias.metadata.annotations?.["nginx.ingress.kubernetes.io/rewrite-target"] !== "/rest/$1") errors.push("/rust/ is not rewritten to /rest/");
  return errors;
}

export function checkPolicies(objects, expectRateLimits = true) {
  return [
    ["every object is in namespace urna", checkNamespace(objects)],
    ["workloads are non-root, read-only, capability-free, with pinned images and resources", checkHardening(objects)],
    ["six urna services with ports, /readyz and /healthz probes, ClusterIP Services and PDBs", checkServices(objects)],
    ["HPAs for fronts and producers; tally autoscaling capped at the votes partitions", checkAutoscaling(objects)],
    ["Kafka KRaft 3 nodes, RF 3, min.insync.replicas 2, votes 12 partitions", checkKafka(objects)],
    ["Redis with AOF and password, MongoDB with auth, reachable only from urna pods", checkStores(objects)],
    ["Secrets hold only marked example values", checkSecrets(objects)],
    [`Ingress routes /grpc/ /rest/ /rust/ /api/ on class nginx${expectRateLimits ? " with rate limits" : ""}`, checkIngress(objects, expectRateLimits)],
  ];
}
