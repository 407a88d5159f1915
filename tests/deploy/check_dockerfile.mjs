// Lints deploy/docker/Dockerfile and checks it against the CMake project and
// the kustomize base. Usage: node check_dockerfile.mjs DOCKERFILE REPO_ROOT
// Prints one "ok"/"FAIL" line per check and exits 1 when any check fails.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { commonChecks, parseStages } from "./dockerfile_checks.mjs";

const [dockerfilePath, repoRoot] = process.argv.slice(2);
const text = fs.readFileSync(dockerfilePath, "utf8");
let failures = 0;

function report(ok, check, details = []) {
  console.log(`${ok ? "ok" : "FAIL"} ${check}`);
  for (const line of details.slice(0, 20)) console.log(`    ${line}`);
  if (!ok) failures += 1;
}

// Returns the executable targets that add_executable() declares in every
// CMakeLists.txt under src/. Only the urna-* ones are services; the CLI is urna.
function cmakeExecutables() {
  const names = new Set();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "CMakeLists.txt") {
        for (const m of fs.readFileSync(full, "utf8").matchAll(/add_executable\s*\(\s*([A-Za-z0-9_.+-]+)/g)) names.add(m[1]);
      }
    }
  };
  const src = path.join(repoRoot, "src");
  if (fs.existsSync(src)) walk(src);
  return names;
}

for (const [ok, check, details] of commonChecks("Dockerfile", text, (b) => b === "debian:bookworm-slim", "debian:bookworm-slim")) {
  report(ok, check, details);
}
const { dockerfile, finalStages } = parseStages(text);

const buildLine = dockerfile.getInstructions().map((i) => i.getArgumentsContent() ?? "").find((c) => /cmake --build/.test(c)) ?? "";
const configures = /cmake -S \. -B build -DCMAKE_BUILD_TYPE=Release/.test(buildLine);
const built = new Set((buildLine.match(/--target\s+([^\n\\&;]+)/)?.[1] ?? "").trim().split(/\s+/).filter(Boolean));
const declared = cmakeExecutables();
const services = new Set([...declared].filter((n) => n.startsWith("urna-")));
const targetErrors = [];
if (!configures) targetErrors.push("the build stage does not run cmake -S . -B build -DCMAKE_BUILD_TYPE=Release");
if (declared.size === 0) targetErrors.push("no add_executable() found in src/**/CMakeLists.txt, so the targets cannot be confirmed");
for (const t of built) if (!declared.has(t)) targetErrors.push(`Dockerfile builds ${t}, which no add_executable() declares`);
for (const s of services) if (!built.has(s)) targetErrors.push(`service executable ${s} is declared in CMake but not built by the Dockerfile`);
for (const t of built) if (!finalStages.includes(t)) targetErrors.push(`target ${t} has no final stage of the same name`);
for (const s of finalStages) if (!built.has(s)) targetErrors.push(`final stage ${s} is not a built target`);
report(targetErrors.length === 0, `Dockerfile builds exactly the ${services.size} service executables declared in CMake`, targetErrors);

const kustomization = YAML.parse(fs.readFileSync(path.join(repoRoot, "deploy/k8s/base/kustomization.yaml"), "utf8"));
const imageNames = new Set(kustomization.images.map((i) => i.name));
const imageErrors = [...finalStages.filter((s) => !imageNames.has(s)).map((s) => `stage ${s} has no image in the kustomize base`),
  ...[...imageNames].filter((n) => !finalStages.includes(n)).map((n) => `image ${n} has no Dockerfile stage`)];
report(imageErrors.length === 0, `Dockerfile stages and kustomize images name the same ${imageNames.size} services`, imageErrors);

process.exit(failures === 0 ? 0 : 1);
