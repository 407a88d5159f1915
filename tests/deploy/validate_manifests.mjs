// Validates rendered kustomize output. Usage:
//   node validate_manifests.mjs STRIMZI_CRD_DIR LABEL=RENDERED.yaml ...
// Prints one "ok"/"FAIL" line per check and exits 1 when any check fails.
// Core kinds are checked with kubernetes-models, KEDA kinds with
// @kubernetes-models/keda, Strimzi kinds with Ajv against the CRD schemas that
// Strimzi's own crd-generator produced (unknown fields rejected).
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import Ajv from "ajv";
import { checkPolicies } from "./manifest_policies.mjs";

const [crdDir, ...renders] = process.argv.slice(2);
let failures = 0;

function report(ok, check, details = []) {
  console.log(`${ok ? "ok" : "FAIL"} ${check}`);
  for (const line of details.slice(0, 20)) console.log(`    ${line}`);
  if (!ok) failures += 1;
}

function readDocuments(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((doc) => doc.toJS())
    .filter((obj) => obj);
}

function objectName(obj) {
  return `${obj.kind}/${obj.metadata?.name}`;
}

// Rejects fields a structural schema does not list, as kubectl's strict
// field validation does. Objects marked preserve-unknown-fields or with an
// additionalProperties schema keep accepting any key.
function strictify(schema) {
  if (!schema || typeof schema !== "object") return schema;
  const copy = Array.isArray(schema) ? schema.map(strictify) : {};
  if (Array.isArray(schema)) return copy;
  for (const [key, value] of Object.entries(schema)) {
    if (key === "x-kubernetes-preserve-unknown-fields" || key.startsWith("x-kubernetes-")) continue;
    copy[key] = key === "properties"
      ? Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, strictify(sub)]))
      : strictify(value);
  }
  if (schema.properties && schema.additionalProperties === undefined
      && !schema["x-kubernetes-preserve-unknown-fields"]) {
    copy.additionalProperties = false;
  }
  return copy;
}

function loadStrimziValidators() {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map();
  for (const file of fs.readdirSync(crdDir).filter((name) => name.endsWith(".yaml"))) {
    const crd = YAML.parse(fs.readFileSync(path.join(crdDir, file), "utf8"));
    for (const version of crd.spec.versions) {
      const schema = strictify(version.schema.openAPIV3Schema);
      schema.properties.metadata = { type: "object" };
      validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(schema));
    }
  }
  return validators;
}

async function loadModelClass(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  if (group === "keda.sh") {
    return (await import(`@kubernetes-models/keda/keda.sh/${version}/${obj.kind}`))[obj.kind];
  }
  const folder = group === "" ? version : `${group}/${version}`;
  return (await import(`kubernetes-models/${folder}/${obj.kind}`))[obj.kind];
}

async function validateObject(obj, strimzi) {
  const key = obj.apiVersion.replace(/^kafka\.strimzi\.io\//, "kafka.strimzi.io/") + `/${obj.kind}`;
  if (obj.apiVersion.startsWith("kafka.strimzi.io/")) {
    const validate = strimzi.get(key);
    if (!validate) return [`${objectName(obj)}: no Strimzi schema for ${obj.apiVersion}`];
    if (validate(obj)) return [];
    return validate.errors.map((e) => `${objectName(obj)}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }
  let Model;
  try {
    Model = await loadModelClass(obj);
  } catch {
    return [`${objectName(obj)}: no schema for ${obj.apiVersion} ${obj.kind}`];
  }
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [`${objectName(obj)}: ${err.message}`];
  }
}

const strimzi = loadStrimziValidators();
for (const render of renders) {
  const [label, file] = render.split("=");
  const objects = readDocuments(file);
  const schemaErrors = [];
  const crdErrors = [];
  for (const obj of objects) {
    const errors = await validateObject(obj, strimzi);
    const isCustom = /strimzi\.io|keda\.sh/.test(obj.apiVersion);
    (isCustom ? crdErrors : schemaErrors).push(...errors);
  }
  const coreCount = objects.filter((o) => !/strimzi\.io|keda\.sh/.test(o.apiVersion)).length;
  report(schemaErrors.length === 0, `${label}: ${coreCount} objects match Kubernetes schemas (kubernetes-models)`, schemaErrors);
  report(crdErrors.length === 0, `${label}: ${objects.length - coreCount} Strimzi and KEDA objects match their CRD schemas`, crdErrors);
  // The local overlay drops the rate limits so a local load test is not throttled.
  for (const [check, errors] of checkPolicies(objects, label !== "local")) report(errors.length === 0, `${label}: ${check}`, errors);
}
process.exit(failures === 0 ? 0 : 1);
