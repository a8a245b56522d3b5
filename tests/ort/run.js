'use strict';
// Runs an ONNX model in ONNX Runtime on .npy inputs and writes every output as .npy.
//
//   node tests/ort/run.js --model M.onnx --input NAME=FILE.npy [--input NAME2=FILE2.npy ...]
//                         --output-dir DIR [--threads N] [--opt all|extended|basic|disabled]
//     writes DIR/<sanitised output name>.npy for each model output and DIR/outputs.json
//     ({"<output name>": "<file name>.npy", ...}, in the model's output order).
//
//   node tests/ort/run.js --model M.onnx --batch-dir IN --output-dir DIR [--input NAME=FILE.npy ...]
//     one session, one run per sub-folder S of IN (sorted by name); S holds <NAME>.npy for each model
//     input (NAME the input name, or its sanitised form); outputs go to DIR/S/ as above. --input files
//     supply inputs a sub-folder lacks.
//
// Sanitising: every character outside [A-Za-z0-9._-] becomes '_' ('conv/out:0' → 'conv_out_0').
// Defaults: 1 intra-op thread, graph optimisation level 'all'. Input dtypes must match the model's.
// Prints nothing on success (exit 0). On failure: one line on stderr, exit 1 (2 for bad usage).

const fs = require('fs');
const path = require('path');
const npy = require('./npy');
const {RunSession, LoadOrt, ParseArgs, UsageError, SessionOptions, CreateSession, SanitiseName, Main} = require('./common');

function ParseInputFlags(list) {
  const inputs = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input expects NAME=FILE.npy, got '${item}'`);
    inputs[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return inputs;
}

// Builds the feeds for one run: for each model input, the file from `files` (name → path).
function BuildFeeds(ort, session, files, where) {
  const feeds = {};
  for (const meta of session.inputMetadata) {
    const file = files[meta.name];
    if (file === undefined) {
      throw new Error(`${where}: no file for model input '${meta.name}' ` +
                      `(inputs: ${session.inputNames.join(', ')})`);
    }
    const t = npy.read(file);
    if (meta.isTensor && meta.type !== t.dtype) {
      throw new Error(`${file}: input '${meta.name}' expects ${meta.type}, file holds ${t.dtype}`);
    }
    if (meta.isTensor && meta.shape.length !== t.shape.length) {
      throw new Error(`${file}: input '${meta.name}' expects rank ${meta.shape.length} ` +
                      `[${meta.shape}], file has shape [${t.shape}]`);
    }
    feeds[meta.name] = new ort.Tensor(t.dtype, t.data, t.shape);
  }
  return feeds;
}

async function RunOnce(session, feeds, out_dir, where) {
  const results = await RunSession(session, feeds, where);
  fs.mkdirSync(out_dir, {recursive: true});
  const taken = new Set(['outputs']);
  const index = {};
  for (const name of session.outputNames) {
    const t = results[name];
    if (!npy.dtypes.includes(t.type)) throw new Error(`output '${name}' has unsupported type ${t.type}`);
    const file = SanitiseName(name, taken) + '.npy';
    npy.write(path.join(out_dir, file), {dtype: t.type, shape: t.dims.map(Number), data: t.data});
    index[name] = file;
  }
  fs.writeFileSync(path.join(out_dir, 'outputs.json'), JSON.stringify(index, null, 1) + '\n');
}

async function main() {
  const args = ParseArgs(process.argv.slice(2), {
    model: 'string', input: 'list', 'output-dir': 'string', 'batch-dir': 'string', threads: 'int', opt: 'string',
  }, ['model', 'output-dir']);
  const ort = LoadOrt();
  const given = ParseInputFlags(args.input);
  const session = await CreateSession(ort, args.model, SessionOptions({threads: args.threads, opt: args.opt, spin: false}));
  for (const name of Object.keys(given)) {
    if (!session.inputNames.includes(name)) {
      throw new UsageError(`'${name}' is not an input of the model (inputs: ${session.inputNames.join(', ')})`);
    }
  }

  if (args['batch-dir'] === undefined) {
    if (args.input.length === 0) throw new UsageError('give --input NAME=FILE.npy or --batch-dir DIR');
    await RunOnce(session, BuildFeeds(ort, session, given, args.model), args['output-dir'], args.model);
    return;
  }

  const batch_dir = args['batch-dir'];
  let subs;
  try {
    subs = fs.readdirSync(batch_dir, {withFileTypes: true}).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (e) {
    throw new Error(`${batch_dir}: cannot list batch folder: ${e.code || e.message}`);
  }
  if (subs.length === 0) throw new Error(`${batch_dir}: no sub-folders to run`);
  for (const sub of subs) {
    const dir = path.join(batch_dir, sub);
    const files = {};
    for (const name of session.inputNames) {
      const candidates = [name, SanitiseName(name)].map((stem) => path.join(dir, stem + '.npy'));
      const found = candidates.find((f) => fs.existsSync(f));
      if (found !== undefined) files[name] = found;
      else if (given[name] !== undefined) files[name] = given[name];
    }
    await RunOnce(session, BuildFeeds(ort, session, files, dir), path.join(args['output-dir'], sub), dir);
  }
}

if (require.main === module) Main('run.js', main);
