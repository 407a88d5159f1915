// Validates the Grafana dashboards. Usage:
//   node validate_dashboards.mjs SCHEMA_CACHE.json DASHBOARD.json ...
// The JSON Schema is generated from the Dashboard type that @grafana/schema
// publishes (ts-json-schema-generator), then every dashboard is checked with
// Ajv, and every query against urna's data model and metric list.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";
import { createGenerator } from "ts-json-schema-generator";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const [schemaCache, ...dashboards] = process.argv.slice(2);
const REDIS_COMMANDS = new Set(["get", "hgetall", "hget", "hkeys", "hlen"]);
let failures = 0;

function report(ok, check, details = []) {
  console.log(`${ok ? "ok" : "FAIL"} ${check}`);
  for (const line of details.slice(0, 20)) console.log(`    ${line}`);
  if (!ok) failures += 1;
}

// Generates the schema once per @grafana/schema version and caches it.
function dashboardSchema() {
  const version = JSON.parse(fs.readFileSync(path.join(here, "node_modules/@grafana/schema/package.json"), "utf8")).version;
  const cacheFile = schemaCache.replace(/\.json$/, `-${version}.json`);
  if (fs.existsSync(cacheFile)) return JSON.parse(fs.readFileSync(cacheFile, "utf8"));
  const typesFile = path.join(here, "node_modules/@grafana/schema/dist/types/raw/dashboard/x/types.gen.d.ts");
  const schema = createGenerator({ path: typesFile, type: "Dashboard", skipTypeCheck: true }).createSchema("Dashboard");
  fs.writeFileSync(cacheFile, JSON.stringify(schema));
  return schema;
}

// Redis keys named in the data model's key table, with <route> style
// placeholders turned into wildcards.
function documentedRedisKeys() {
  const text = fs.readFileSync(path.join(repo, "docs/data-model.md"), "utf8");
  return [...text.matchAll(/^\| `(urna:[^`]+)` \|/gm)].map((m) => new RegExp(`^${m[1].replace(/<[^>]+>/g, "[^:]+")}$`));
}

function documentedMetrics() {
  const text = fs.readFileSync(path.join(repo, "docs/deploy.md"), "utf8");
  return new Set([...text.matchAll(/^\| `(urna_[a-z_]+)`/gm)].map((m) => m[1]));
}

function provisionedDatasources() {
  const file = path.join(repo, "deploy/grafana/provisioning/datasources/datasources.yaml");
  return new Map(YAML.parse(fs.readFileSync(file, "utf8")).datasources.map((d) => [d.uid, d.type]));
}

function allPanels(dashboard) {
  return (dashboard.panels ?? []).flatMap((p) => (p.type === "row" ? p.panels ?? [] : [p]));
}

function checkQueries(dashboard, datasources, redisKeys, metrics) {
  const errors = [];
  for (const panel of allPanels(dashboard)) {
    const where = `panel "${panel.title}"`;
    if (!panel.targets?.length) errors.push(`${where} has no query`);
    for (const target of panel.targets ?? []) {
      const uid = target.datasource?.uid ?? panel.datasource?.uid;
      const type = datasources.get(uid);
      if (!type) { errors.push(`${where}: datasource uid ${uid} is not provisioned`); continue; }
      if (type === "redis-datasource") {
        if (!REDIS_COMMANDS.has(target.command)) errors.push(`${where}: Redis command ${target.command} is not a read command the plugin supports`);
        if (!redisKeys.some((re) => re.test(target.key ?? ""))) errors.push(`${where}: Redis key ${target.key} is not in docs/data-model.md`);
      } else if (type === "prometheus") {
        const used = [...(target.expr ?? "").matchAll(/\burna_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ""));
        if (used.length === 0) errors.push(`${where}: PromQL ${target.expr} uses no urna metric`);
        for (const name of used) if (!metrics.has(name)) errors.push(`${where}: metric ${name} is not listed in docs/deploy.md`);
      }
    }
  }
  return errors;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(dashboardSchema());
const datasources = provisionedDatasources();
const redisKeys = documentedRedisKeys();
const metrics = documentedMetrics();
report(redisKeys.length > 0 && metrics.size > 0, `docs list ${redisKeys.length} Redis keys and ${metrics.size} metrics`);
for (const file of dashboards) {
  const name = path.basename(file);
  const dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
  const ok = validate(dashboard);
  report(ok, `${name}: matches the @grafana/schema Dashboard type`,
    (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
  report(checkQueries(dashboard, datasources, redisKeys, metrics).length === 0,
    `${name}: ${allPanels(dashboard).length} panels query provisioned datasources, documented keys and metrics`,
    checkQueries(dashboard, datasources, redisKeys, metrics));
}
process.exit(failures === 0 ? 0 : 1);
