// Lints deploy/docker/Dockerfile.web and checks it against the web app's own
// build (web/package.json, web/vite.config.ts, web/src) and the nginx
// configuration the image serves with.
// Usage: node check_web_dockerfile.mjs DOCKERFILE NGINX_CONF REPO_ROOT
// Prints one "ok"/"FAIL" line per check and exits 1 when any check fails.
import fs from "node:fs";
import path from "node:path";
import { commonChecks, parseStages } from "./dockerfile_checks.mjs";

const [dockerfilePath, nginxConfPath, repoRoot] = process.argv.slice(2);
const text = fs.readFileSync(dockerfilePath, "utf8");
const nginxConf = fs.readFileSync(nginxConfPath, "utf8");
const label = path.basename(dockerfilePath);
let failures = 0;

function report(ok, check, details = []) {
  console.log(`${ok ? "ok" : "FAIL"} ${check}`);
  for (const line of details.slice(0, 20)) console.log(`    ${line}`);
  if (!ok) failures += 1;
}

// The Node.js stage uses the official node image's Debian bookworm-slim
// variant because Debian bookworm's nodejs is too old for Vite.
const isBookwormSlim = (base) => base === "debian:bookworm-slim" || /^node:\d+(\.\d+)*-bookworm-slim$/.test(base);
for (const [ok, check, details] of commonChecks(label, text, isBookwormSlim, "a Debian bookworm-slim image")) {
  report(ok, check, details);
}

const { dockerfile, froms, finalStages, instructionsByStage } = parseStages(text);
const webPackage = JSON.parse(fs.readFileSync(path.join(repoRoot, "web/package.json"), "utf8"));
const stageOf = (name) => instructionsByStage.get(name) ?? [];
const argsOf = (instructions, keyword) => instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? "");

// The build stage is the one the final stage copies dist/ from.
const finalStage = finalStages[0];
const distCopy = stageOf(finalStage).find((i) => i.getKeyword() === "COPY" && i.getFromFlag());
const buildStage = distCopy?.getFromFlag().getValue();
const buildRuns = argsOf(stageOf(buildStage), "RUN");
const buildErrors = [];
if (finalStages.length !== 1 || finalStage !== "urna-web") buildErrors.push(`expected one final stage urna-web, found ${finalStages.join(", ") || "none"}`);
if (!buildStage) buildErrors.push(`stage ${finalStage} copies nothing from a build stage`);
if (!buildRuns.some((c) => /^npm ci\b/.test(c))) buildErrors.push(`stage ${buildStage} does not run npm ci, as the local build does`);
if (!webPackage.scripts?.build) buildErrors.push("web/package.json has no build script");
if (!buildRuns.some((c) => /^npm run build$/.test(c.trim()))) buildErrors.push(`stage ${buildStage} does not run npm run build (web/package.json: ${webPackage.scripts?.build})`);
const workdir = argsOf(stageOf(buildStage), "WORKDIR").at(-1) ?? "";
if (!workdir.endsWith("/web")) buildErrors.push(`stage ${buildStage} builds in ${workdir || "/"}, expected a folder named web`);
const copies = argsOf(stageOf(buildStage), "COPY");
if (!copies.some((c) => /web\/package-lock\.json/.test(c))) buildErrors.push("web/package-lock.json is not copied, so npm ci cannot pin the dependencies");
report(buildErrors.length === 0, `${label} builds the app with web/package.json's npm ci and npm run build`, buildErrors);

// Node.js major version of the build stage against web/package.json engines.
// A major equal to the required one may still be below its minor, so it fails.
const nodeBase = froms.map((f) => `${f.getImageName()}:${f.getImageTag() ?? ""}`).find((b) => b.startsWith("node:")) ?? "";
const nodeMajor = Number(nodeBase.match(/^node:(\d+)/)?.[1] ?? 0);
const requiredMajor = Number((webPackage.engines?.node ?? "").match(/(\d+)/)?.[1] ?? 0);
const nodeAccepted = nodeMajor > 0 && nodeMajor > requiredMajor;
report(nodeAccepted, `${label} builds on Node.js ${nodeMajor || "?"}, newer than web/package.json engines (${webPackage.engines?.node})`,
  nodeAccepted ? [] : [`build stage base: ${nodeBase || "none"}`]);

// Vite writes dist/ unless vite.config.ts sets build.outDir.
const viteConfig = fs.readFileSync(path.join(repoRoot, "web/vite.config.ts"), "utf8");
const outDir = viteConfig.match(/outDir:\s*['"]([^'"]+)['"]/)?.[1] ?? "dist";
const nginxRoot = nginxConf.match(/^\s*root\s+([^;]+);/m)?.[1];
const serveErrors = [];
const [distSource, distTarget] = distCopy?.getArguments().map((a) => a.getValue()) ?? [];
if (path.posix.normalize(distSource ?? "") !== path.posix.join(workdir, outDir)) serveErrors.push(`copies ${distSource}, but Vite writes ${path.posix.join(workdir, outDir)}`);
if (distTarget !== nginxRoot) serveErrors.push(`copies the app to ${distTarget}, but nginx serves root ${nginxRoot}`);
report(serveErrors.length === 0, `${label} copies Vite's ${outDir}/ to the nginx root ${nginxRoot}`, serveErrors);

// The API address reaches the bundle only as VITE_API_BASE at build time.
const apiErrors = [];
const readsApiBase = fs.readdirSync(path.join(repoRoot, "web/src"), { recursive: true })
  .filter((f) => /\.(ts|vue)$/.test(f))
  .some((f) => fs.readFileSync(path.join(repoRoot, "web/src", f), "utf8").includes("import.meta.env.VITE_API_BASE"));
if (!readsApiBase) apiErrors.push("web/src never reads import.meta.env.VITE_API_BASE");
if (!argsOf(stageOf(buildStage), "ARG").includes("VITE_API_BASE")) apiErrors.push(`stage ${buildStage} declares no ARG VITE_API_BASE`);
if (!argsOf(stageOf(buildStage), "ENV").some((e) => /^VITE_API_BASE=\$VITE_API_BASE$/.test(e))) apiErrors.push(`stage ${buildStage} does not pass VITE_API_BASE to npm run build`);
report(apiErrors.length === 0, `${label} passes the build argument VITE_API_BASE to Vite`, apiErrors);

// nginx must listen on the port the image exposes, and the ENTRYPOINT must load the
// configuration file the image copies.
const listen = nginxConf.match(/^\s*listen\s+(\d+);/m)?.[1];
const exposed = argsOf(stageOf(finalStage), "EXPOSE");
const confCopy = argsOf(stageOf(finalStage), "COPY").find((c) => c.startsWith(path.relative(repoRoot, nginxConfPath))) ?? "";
const confTarget = confCopy.split(/\s+/)[1];
const entrypoint = argsOf(stageOf(finalStage), "ENTRYPOINT").at(-1) ?? "";
const nginxErrors = [];
if (listen !== "8080") nginxErrors.push(`nginx listens on ${listen}, expected 8080 (the Cloud Run containerPort)`);
if (!exposed.includes(listen ?? "")) nginxErrors.push(`stage ${finalStage} exposes ${exposed.join(", ")}, not nginx's port ${listen}`);
if (!confTarget) nginxErrors.push(`stage ${finalStage} does not copy ${path.relative(repoRoot, nginxConfPath)}`);
if (!entrypoint.includes(`"-c", "${confTarget}"`)) nginxErrors.push(`ENTRYPOINT does not load ${confTarget}: ${entrypoint}`);
if (!/^pid\s+\/tmp\//m.test(nginxConf)) nginxErrors.push("nginx's pid file is not under /tmp, which a non-root user cannot write elsewhere");
report(nginxErrors.length === 0, `${label} starts nginx with ${path.basename(nginxConfPath)} on port ${listen}`, nginxErrors);

process.exit(failures === 0 ? 0 : 1);
