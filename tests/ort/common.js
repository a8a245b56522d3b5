'use strict';
// Shared helpers for the ONNX Runtime reference scripts: loading onnxruntime-node, argument parsing,
// session options, output-name sanitising and the one-line error exit.

const fs = require('fs');
const path = require('path');

// Folds a (possibly multi-line) message into one line, as the error contract wants.
function OneLine(text) {
  return String(text).trim().replace(/\s*\n\s*/g, ' ');
}

// onnxruntime-node is resolved from $ACT_NODE_MODULES if set, else from the repo's deps/node_modules.
function NodeModulesDir() {
  return process.env.ACT_NODE_MODULES || path.join(__dirname, '../../deps/node_modules');
}

function LoadOrt() {
  const dir = path.join(NodeModulesDir(), 'onnxruntime-node');
  try {
    return require(dir);
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node from ${dir} (set ACT_NODE_MODULES or run scripts/setup): ` +
                    `${OneLine(e.message)}`);
  }
}

// Parses argv into {flag: value | [values]}. `spec` maps flag name → 'string' | 'int' | 'list' | 'bool'.
// Unknown flags and missing values are errors; `required` lists flags that must be present.
function ParseArgs(argv, spec, required = []) {
  const out = {};
  for (const [name, kind] of Object.entries(spec)) if (kind === 'list') out[name] = [];
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const kind = spec[name];
    if (kind === undefined) {
      throw new UsageError(`unknown flag --${name} (known: ${Object.keys(spec).map((k) => '--' + k).join(' ')})`);
    }
    if (kind === 'bool') {
      out[name] = true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag --${name} needs a value`);
      value = argv[++i];
    }
    if (kind === 'int') {
      const v = Number(value);
      if (!Number.isInteger(v) || v < 0) throw new UsageError(`--${name} expects a non-negative integer, got '${value}'`);
      out[name] = v;
    } else if (kind === 'list') {
      out[name].push(value);
    } else {
      out[name] = value;
    }
  }
  for (const name of required) {
    if (out[name] === undefined) throw new UsageError(`missing required flag --${name}`);
  }
  return out;
}

class UsageError extends Error {}

// Session options shared by every script: `threads` intra-op threads (default 1), sequential execution,
// graph optimisation level 'all' unless told otherwise. `spin: false` lets idle pool threads sleep instead of
// spinning: the scripts that score models in tests use it, because spinning threads on a machine with more
// runnable threads than cores (ctest -j2 on 2 cores) slow every process several-fold; benchmarks keep spinning.
function SessionOptions({threads = 1, opt = 'all', optimizedModelFilePath, spin = true} = {}) {
  const levels = ['disabled', 'basic', 'extended', 'all'];
  if (!levels.includes(opt)) throw new UsageError(`--opt must be one of ${levels.join('|')}, got '${opt}'`);
  const options = {
    intraOpNumThreads: Math.max(1, threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opt,
    logSeverityLevel: 3,  // errors only: keep ORT's warnings out of the callers' stderr
  };
  if (optimizedModelFilePath) options.optimizedModelFilePath = optimizedModelFilePath;
  if (!spin) options.extra = {session: {intra_op: {allow_spinning: '0'}, inter_op: {allow_spinning: '0'}}};
  return options;
}

async function CreateSession(ort, model, options) {
  if (!fs.existsSync(model)) throw new Error(`${model}: model file not found`);
  try {
    return await ort.InferenceSession.create(model, options);
  } catch (e) {
    throw new Error(`${model}: ONNX Runtime could not load the model: ${OneLine(e.message)}`);
  }
}

// session.run with errors that name `where` (the model, input file or folder).
async function RunSession(session, feeds, where) {
  try {
    return await session.run(feeds);
  } catch (e) {
    throw new Error(`${where}: ONNX Runtime run failed: ${OneLine(e.message)}`);
  }
}

// Turns a tensor name into a file-name stem: every character outside [A-Za-z0-9._-] becomes '_'
// (so 'conv/out:0' → 'conv_out_0'); a leading '.' too. Collisions get a '_<n>' suffix via `taken`.
function SanitiseName(name, taken = new Set()) {
  let stem = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\./, '_');
  if (stem.length === 0) stem = '_';
  let candidate = stem;
  for (let n = 1; taken.has(candidate.toLowerCase()); ++n) candidate = `${stem}_${n}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

// Runs main(); on failure prints one line `<script>: <message>` to stderr and exits 2 for usage errors,
// 1 otherwise.
function Main(script, main) {
  main().then(
      () => process.exit(0),
      (e) => {
        console.error(`${script}: ${OneLine(e && e.message ? e.message : e)}`);
        process.exit(e instanceof UsageError ? 2 : 1);
      });
}

module.exports = {OneLine, RunSession, LoadOrt, NodeModulesDir, ParseArgs, UsageError, SessionOptions, CreateSession, SanitiseName, Main};
