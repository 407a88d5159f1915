// Checks that every urna Dockerfile must pass: the dockerfile-utils linter,
// multi-stage builds on Debian bookworm-slim bases, final stages that run as
// a numeric non-root user, and apt-get installs that leave no package lists.
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";

// Parses a Dockerfile and returns its stages: `stages` in file order,
// `bases` (the image or stage each FROM names), `finalStages` (stages that no
// other stage builds FROM or copies from) and `instructionsByStage`.
export function parseStages(text) {
  const dockerfile = DockerfileParser.parse(text);
  const froms = dockerfile.getFROMs();
  const stages = froms.map((f) => f.getBuildStage()).filter(Boolean);
  const bases = froms.map((f) => f.getImageName() + (f.getImageTag() ? `:${f.getImageTag()}` : ""));
  const copiedFrom = dockerfile.getCOPYs().map((c) => c.getFromFlag()?.getValue()).filter(Boolean);
  const finalStages = stages.filter((s) => !bases.includes(s) && !copiedFrom.includes(s));

  const instructionsByStage = new Map();
  let current = null;
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === "FROM") current = instruction.getBuildStage?.() ?? null;
    else if (current) instructionsByStage.set(current, [...(instructionsByStage.get(current) ?? []), instruction]);
  }
  return { dockerfile, froms, stages, bases, finalStages, instructionsByStage };
}

// Returns [ok, check, details] triples for the checks shared by all images.
// `isAllowedBase` decides which external base images a file may use.
export function commonChecks(label, text, isAllowedBase, allowedDescription) {
  const results = [];
  const diagnostics = validate(text);
  results.push([diagnostics.length === 0, `${label} passes the dockerfile-utils linter`,
    diagnostics.map((d) => `line ${d.range.start.line + 1}: ${d.message}`)]);

  const { dockerfile, froms, stages, bases, finalStages, instructionsByStage } = parseStages(text);
  const external = bases.filter((b) => !stages.includes(b));
  const badBases = external.filter((b) => !isAllowedBase(b));
  results.push([froms.length >= 2 && badBases.length === 0,
    `${label} is multi-stage and every external base is ${allowedDescription}`,
    froms.length < 2 ? ["only one FROM"] : badBases]);

  const rootErrors = finalStages.flatMap((stage) => {
    const users = (instructionsByStage.get(stage) ?? []).filter((i) => i.getKeyword() === "USER");
    const last = users.at(-1)?.getArgumentsContent() ?? "";
    return /^(?!0(:|$))(\d+)(:\d+)?$/.test(last) ? [] : [`stage ${stage} ends with USER "${last}", expected a numeric non-root UID`];
  });
  results.push([finalStages.length > 0 && rootErrors.length === 0,
    `${label}: ${finalStages.length} final stage${finalStages.length === 1 ? "" : "s"} run${finalStages.length === 1 ? "s" : ""} as a numeric non-root user`, rootErrors]);

  const aptErrors = dockerfile.getInstructions().filter((i) => i.getKeyword() === "RUN")
    .map((i) => i.getArgumentsContent())
    .filter((cmd) => /apt-get install/.test(cmd) && !(/--no-install-recommends/.test(cmd) && /rm -rf \/var\/lib\/apt\/lists/.test(cmd)))
    .map((cmd) => `apt-get install without --no-install-recommends or list cleanup: ${cmd.slice(0, 80)}`);
  results.push([aptErrors.length === 0, `${label}: apt-get installs skip recommends and clean their lists`, aptErrors]);
  return results;
}
