// Validates the Cloud Run service definitions in deploy/cloudrun/. Usage:
//   node validate_cloudrun.mjs SCHEMA_CACHE.json SERVICE.yaml ...
// Each file is one Knative serving.knative.dev/v1 Service with ${NAME}
// placeholders, which are replaced by the examples that docs/cloudrun.md
// lists before validation. Checks, per file: the Knative models of
// @kubernetes-models/knative, a strict schema generated from the same
// package's types (unknown fields rejected), the Cloud Run settings urna
// relies on, and the service's own needs (its environment, probes, image).
// Prints one "ok"/"FAIL" line per check and exits 1 when any check fails.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";
import { createGenerator } from "ts-json-schema-generator";
import { Service } from "@kubernetes-models/knative/serving.knative.dev/v1/Service";
import { parseStages } from "./dockerfile_checks.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const knativeDir = path.join(here, "node_modules/@kubernetes-models/knative");
const [schemaCache, ...files] = process.argv.slice(2);
let failures = 0;

function report(ok, check, details = []) {
  console.log(`${ok ? "ok" : "FAIL"} ${check}`);
  for (const line of details.slice(0, 20)) console.log(`    ${line}`);
  if (!ok) failures += 1;
}

// Per service: the Dockerfile that builds its image, the probe paths its
// server serves, and the checks of its environment.
const SERVICES = {
  "urna-logs-api": { dockerfile: "deploy/docker/Dockerfile", checkEnv: checkLogsApiEnv, probePaths: logsApiProbePaths },
  "urna-web": { dockerfile: "deploy/docker/Dockerfile.web", checkEnv: checkWebEnv, probePaths: webProbePaths },
};

// Generates JSON schemas of the Knative ServiceSpec and of ObjectMeta from
// the TypeScript types the packages publish, once per package version.
// ts-json-schema-generator closes every interface (additionalProperties
// false), so a misspelled field fails as it does with kubectl's strict mode.
function strictSchemas() {
  const version = JSON.parse(fs.readFileSync(path.join(knativeDir, "package.json"), "utf8")).version;
  const cacheFile = schemaCache.replace(/\.json$/, `-${version}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, "utf8"));
  const generate = (file, type) => createGenerator({ path: file, type, skipTypeCheck: true }).createSchema(type);
  const schemas = {
    spec: generate(path.join(knativeDir, "serving.knative.dev/v1/ServiceSpec.d.ts"), "IServiceSpec"),
    metadata: generate(path.join(here, "node_modules/@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta.d.ts"), "IObjectMeta"),
  };
  fs.writeFileSync(cacheFile, JSON.stringify(schemas));
  return schemas;
}

// Placeholders and their examples from docs/cloudrun.md's table rows:
// | `NAME` | meaning | `example` |
function documentedPlaceholders() {
  const text = fs.readFileSync(path.join(repo, "docs/cloudrun.md"), "utf8");
  return new Map([...text.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| [^|]+ \| `([^`]+)` \|$/gm)].map((m) => [m[1], m[2]]));
}

function substitute(text, examples) {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name) => examples.get(name) ?? whole);
}

function strictErrors(obj, validators) {
  const errors = [];
  const unknownTop = Object.keys(obj).filter((k) => !["apiVersion", "kind", "metadata", "spec"].includes(k));
  errors.push(...unknownTop.map((k) => `unknown top-level field ${k}`));
  for (const part of ["metadata", "spec"]) {
    if (!validators[part](obj[part] ?? {})) {
      errors.push(...validators[part].errors.map((e) => `${part}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
    }
  }
  return errors;
}

// Cloud Run rules every urna service follows.
function cloudRunErrors(obj, rawImage) {
  const errors = [];
  const name = obj.metadata?.name;
  const template = obj.spec?.template ?? {};
  const containers = template.spec?.containers ?? [];
  const container = containers[0] ?? {};
  const port = container.ports?.[0]?.containerPort;

  if (obj.apiVersion !== "serving.knative.dev/v1" || obj.kind !== "Service") errors.push(`${obj.apiVersion} ${obj.kind} is not a serving.knative.dev/v1 Service`);
  if (!SERVICES[name]) errors.push(`service ${name} is none of ${Object.keys(SERVICES).join(", ")}`);
  if (obj.metadata?.labels?.["app.kubernetes.io/name"] !== name) errors.push(`label app.kubernetes.io/name is not ${name}`);
  if (template.metadata?.labels?.["app.kubernetes.io/name"] !== name) errors.push(`template label app.kubernetes.io/name is not ${name}`);
  if (!obj.metadata?.annotations?.["run.googleapis.com/ingress"]) errors.push("annotation run.googleapis.com/ingress is missing");
  if (containers.length !== 1 || container.name !== name) errors.push(`expected one container named ${name}`);
  if (!/^\$\{REGION\}-docker\.pkg\.dev\/\$\{PROJECT_ID\}\/urna\/[a-z0-9-]+:\$\{TAG\}$/.test(rawImage ?? "")) {
    errors.push(`image ${rawImage} is not \${REGION}-docker.pkg.dev/\${PROJECT_ID}/urna/<name>:\${TAG}`);
  }
  if (container.ports?.length !== 1 || port !== 8080 || container.ports[0].name !== "http1") errors.push("expected one port http1 with containerPort 8080");
  if (!template.spec?.serviceAccountName) errors.push("serviceAccountName is missing, so the service would run as the default compute account");
  if (!container.resources?.limits?.cpu || !container.resources?.limits?.memory) errors.push("resources.limits needs cpu and memory");
  for (const probe of ["startupProbe", "livenessProbe"]) {
    const get = container[probe]?.httpGet;
    if (!get) errors.push(`${probe} with httpGet is missing`);
    else if (get.port !== port) errors.push(`${probe} checks port ${get.port}, not the containerPort ${port}`);
  }
  for (const env of container.env ?? []) {
    if (/PASSWORD|_URI$|SECRET|TOKEN/.test(env.name) && env.value !== undefined) errors.push(`${env.name} is a plain value; take it from Secret Manager with secretKeyRef`);
    const ref = env.valueFrom?.secretKeyRef;
    if (ref && !/^(latest|[1-9][0-9]*)$/.test(ref.key)) errors.push(`${env.name}: secretKeyRef key ${ref.key} is not a Secret Manager version (a number or latest)`);
  }
  return errors;
}

// Final stages of the Dockerfile that builds a service's image.
function imageErrors(name, rawImage) {
  const service = SERVICES[name];
  if (!service) return [];
  const stages = parseStages(fs.readFileSync(path.join(repo, service.dockerfile), "utf8")).finalStages;
  const image = rawImage?.match(/\/urna\/([a-z0-9-]+):/)?.[1];
  const errors = [];
  if (image !== name) errors.push(`image ${image} is not named after the service ${name}`);
  if (!stages.includes(name)) errors.push(`${service.dockerfile} has no final stage ${name} (final stages: ${stages.join(", ")})`);
  return errors;
}

// Environment variable names that the logs API's C code reads, from the
// string literals in src/logs_api/ and the shared src/common/.
function logsApiVariables() {
  const names = new Set();
  for (const dir of ["src/logs_api", "src/common"]) {
    for (const file of fs.readdirSync(path.join(repo, dir)).filter((f) => f.endsWith(".c"))) {
      for (const m of fs.readFileSync(path.join(repo, dir, file), "utf8").matchAll(/"(URNA_[A-Z0-9_]+)"/g)) names.add(m[1]);
    }
  }
  return names;
}

function checkLogsApiEnv(obj) {
  const container = obj.spec.template.spec.containers[0];
  const env = new Map((container.env ?? []).map((e) => [e.name, e]));
  const known = logsApiVariables();
  const errors = [];
  for (const name of env.keys()) if (!known.has(name)) errors.push(`${name} is not read by src/logs_api or src/common`);
  const port = container.ports?.[0]?.containerPort;
  if (env.get("URNA_LOGS_API_LISTEN")?.value !== `0.0.0.0:${port}`) errors.push(`URNA_LOGS_API_LISTEN must be 0.0.0.0:${port}, the containerPort`);
  if (!/^[^:\s]+:\d+$/.test(env.get("URNA_REDIS_ADDR")?.value ?? "")) errors.push("URNA_REDIS_ADDR must be host:port");
  for (const name of ["URNA_REDIS_PASSWORD", "URNA_MONGO_URI"]) {
    if (!env.get(name)?.valueFrom?.secretKeyRef) errors.push(`${name} must come from Secret Manager (secretKeyRef)`);
  }
  if (!/^https:\/\/[^/]+$/.test(env.get("URNA_CORS_ORIGIN")?.value ?? "")) errors.push("URNA_CORS_ORIGIN must be the web app's https origin, without a path");
  if (env.get("URNA_ENV")?.value !== "production") errors.push("URNA_ENV must be production, so that a missing Redis password stops the service");
  const sseClients = Number(env.get("URNA_SSE_MAX_CLIENTS")?.value ?? 200);
  const concurrency = obj.spec.template.spec.containerConcurrency ?? 80;
  if (concurrency <= sseClients) errors.push(`containerConcurrency ${concurrency} leaves no room beside ${sseClients} stream clients`);
  return errors;
}

function checkWebEnv(obj) {
  const env = obj.spec.template.spec.containers[0].env ?? [];
  return env.length === 0 ? [] : [`urna-web takes its API address at build time (VITE_API_BASE), but sets ${env.map((e) => e.name).join(", ")}`];
}

// Probe paths that the logs API's request routing handles.
function logsApiProbePaths() {
  const routing = fs.readFileSync(path.join(repo, "src/logs_api/api.c"), "utf8");
  return { ready: routing.includes('"/readyz"') ? "/readyz" : null, live: routing.includes('"/healthz"') ? "/healthz" : null };
}

// Probe path of the web image: nginx returns 200 on /healthz itself.
function webProbePaths() {
  const conf = fs.readFileSync(path.join(repo, "deploy/docker/nginx-web.conf"), "utf8");
  const health = /location = \/healthz\s*\{[^}]*return 200/.test(conf) ? "/healthz" : null;
  return { ready: health, live: health };
}

function probeErrors(obj) {
  const service = SERVICES[obj.metadata?.name];
  if (!service) return [];
  const container = obj.spec.template.spec.containers[0];
  const paths = service.probePaths();
  const errors = [];
  const startup = container.startupProbe?.httpGet?.path;
  const readiness = container.readinessProbe?.httpGet?.path;
  if (!paths.ready || (startup !== paths.ready && readiness !== paths.ready)) errors.push(`neither the startup nor a readiness probe checks ${paths.ready ?? "a readiness path the server answers"}`);
  if (!paths.live || container.livenessProbe?.httpGet?.path !== paths.live) errors.push(`the liveness probe does not check ${paths.live ?? "a health path the server answers"}`);
  return errors;
}

const schemas = strictSchemas();
const ajv = new Ajv({ allErrors: true, strict: false });
const validators = { spec: ajv.compile(schemas.spec), metadata: ajv.compile(schemas.metadata) };
const examples = documentedPlaceholders();
const knativeVersion = JSON.parse(fs.readFileSync(path.join(knativeDir, "package.json"), "utf8")).version;

for (const file of files) {
  const label = path.basename(file);
  const raw = fs.readFileSync(file, "utf8");
  const code = raw.split("\n").filter((line) => !/^\s*#/.test(line)).join("\n");
  const used = [...new Set([...code.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]))];
  const undocumented = used.filter((name) => !examples.has(name));
  report(undocumented.length === 0, `${label}: ${used.length} placeholders, each listed with an example in docs/cloudrun.md`,
    undocumented.map((name) => `\${${name}} is not in docs/cloudrun.md's placeholder table`));

  const documents = YAML.parseAllDocuments(substitute(raw, examples)).map((d) => d.toJS()).filter(Boolean);
  if (documents.length !== 1) {
    report(false, `${label}: one Knative Service`, [`found ${documents.length} documents`]);
    continue;
  }
  const obj = documents[0];
  const rawImage = YAML.parse(raw)?.spec?.template?.spec?.containers?.[0]?.image;

  let modelErrors = [];
  try {
    new Service(obj).validate();
  } catch (err) {
    modelErrors = [err.message];
  }
  report(modelErrors.length === 0, `${label}: matches the Knative Service model (@kubernetes-models/knative ${knativeVersion})`, modelErrors);
  report(strictErrors(obj, validators).length === 0, `${label}: no field outside the Knative Service types (strict)`, strictErrors(obj, validators));

  const ruleErrors = [...cloudRunErrors(obj, rawImage), ...imageErrors(obj.metadata?.name, rawImage)];
  report(ruleErrors.length === 0, `${label}: Cloud Run port 8080, service account, limits, probes, secrets, image from its Dockerfile stage`, ruleErrors);
  if (ruleErrors.length > 0 && !SERVICES[obj.metadata?.name]) continue;

  const serviceErrors = [...SERVICES[obj.metadata.name].checkEnv(obj), ...probeErrors(obj)];
  report(serviceErrors.length === 0, `${label}: environment and probe paths that ${obj.metadata.name} reads and answers`, serviceErrors);
}
process.exit(failures === 0 ? 0 : 1);
