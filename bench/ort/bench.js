'use strict';
// Latency of an ONNX model in ONNX Runtime (CPU), optionally against a second model run by run.
//
//   node bench/ort/bench.js --model M.onnx [--vs M2.onnx] [--threads N] [--runs K] [--warmup W]
//        [--shape NAME=d0,d1,...] [--input NAME=FILE.npy] [--opt all|disabled] [--seed S] [--clock wall|cpu]
//
// Inputs: random but seeded (--seed, default 1) tensors of each model input's shape; a dynamic dimension
// takes its size from --shape NAME=... (all dims given) or else 1. Floats are uniform in [0, 1), integer
// inputs uniform in [0, 100) (token ids, indices), bool 0/1. --input NAME=FILE.npy feeds a file instead.
// With --vs both sessions get the same inputs (M2 must have the same input names).
// Timing: W warm-up runs (default 10) of each model, then K timed runs (default 100); with --vs the two
// models alternate run by run so that both see the same machine load. Each run is one await of
// session.run, on the wall clock (default; includes onnxruntime-node's JS wrapping, ~10-20 us) or, with
// --clock cpu, on this process's CPU time (user + system, process.cpuUsage): with 1 intra-op thread ORT
// computes in the calling thread, so CPU time is the latency the run would have on an idle core — use it
// when other jobs share the machine (it still includes their cache pressure). Not meaningful with
// --threads > 1 (it sums the threads' time).
// Defaults: 1 intra-op thread, graph optimisation level 'all'.
// Output: one line,
//   median_ms=<x> p10_ms=<y> p90_ms=<z> [vs_median_ms=<m2> vs_p10_ms=<..> vs_p90_ms=<..> ratio=<x/m2>]
// (ratio > 1 means M2 is faster). Exit 0 on success; on failure one line on stderr, exit 1 (2 for bad usage).

const path = require('path');
const {performance} = require('perf_hooks');
const ortdir = path.join(__dirname, '../../tests/ort');
const npy = require(path.join(ortdir, 'npy'));
const {RunSession, LoadOrt, ParseArgs, UsageError, SessionOptions, CreateSession, Main} = require(path.join(ortdir, 'common'));

// mulberry32: a small, fast, seedable PRNG returning floats in [0, 1).
function Rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kArrays = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, int16: Int16Array,
  int8: Int8Array, uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, bool: Uint8Array,
};

function ParseKeyValues(list, flag) {
  const out = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--${flag} expects NAME=VALUE, got '${item}'`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

function MakeFeeds(ort, session, shapes, files, seed) {
  const rng = Rng(seed);
  const feeds = {};
  for (const meta of session.inputMetadata) {
    if (files[meta.name] !== undefined) {
      const t = npy.read(files[meta.name]);
      feeds[meta.name] = new ort.Tensor(t.dtype, t.data, t.shape);
      continue;
    }
    if (!meta.isTensor) throw new Error(`input '${meta.name}' is not a tensor; give it with --input`);
    let dims;
    if (shapes[meta.name] !== undefined) {
      dims = shapes[meta.name].split(',').map((s) => Number(s));
      if (dims.length !== meta.shape.length || dims.some((d) => !Number.isInteger(d) || d < 0)) {
        throw new UsageError(`--shape ${meta.name}=${shapes[meta.name]}: expected ${meta.shape.length} ` +
                             `non-negative integers for shape [${meta.shape}]`);
      }
    } else {
      dims = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : 1));
    }
    const Array = kArrays[meta.type];
    if (Array === undefined) throw new Error(`input '${meta.name}' has type ${meta.type}; give it with --input`);
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Array(count);
    for (let i = 0; i < count; ++i) {
      const u = rng();
      if (meta.type === 'float32' || meta.type === 'float64') data[i] = u;
      else if (meta.type === 'bool') data[i] = u < 0.5 ? 0 : 1;
      else if (meta.type === 'int64') data[i] = BigInt(Math.floor(u * 100));
      else data[i] = Math.floor(u * 100);
    }
    feeds[meta.name] = new ort.Tensor(meta.type, data, dims);
  }
  return feeds;
}

// Linear-interpolated quantile q in [0, 1] of the sorted array.
function Quantile(sorted, q) {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function Summary(times) {
  const sorted = times.slice().sort((a, b) => a - b);
  return {median: Quantile(sorted, 0.5), p10: Quantile(sorted, 0.1), p90: Quantile(sorted, 0.9)};
}

// Milliseconds on the chosen clock.
const kClocks = {
  wall: () => performance.now(),
  cpu: () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  },
};

async function TimeRun(session, feeds, where, clock) {
  const start = clock();
  await RunSession(session, feeds, where);
  return clock() - start;
}

async function main() {
  const args = ParseArgs(process.argv.slice(2), {
    model: 'string', vs: 'string', threads: 'int', runs: 'int', warmup: 'int', shape: 'list', input: 'list',
    opt: 'string', seed: 'int', clock: 'string',
  }, ['model']);
  const clock = kClocks[args.clock === undefined ? 'wall' : args.clock];
  if (clock === undefined) throw new UsageError(`--clock must be wall or cpu, got '${args.clock}'`);
  const runs = args.runs === undefined ? 100 : args.runs;
  const warmup = args.warmup === undefined ? 10 : args.warmup;
  if (runs < 1) throw new UsageError('--runs must be at least 1');
  const shapes = ParseKeyValues(args.shape, 'shape');
  const files = ParseKeyValues(args.input, 'input');
  const ort = LoadOrt();
  const options = SessionOptions({threads: args.threads, opt: args.opt});

  const models = [args.model].concat(args.vs === undefined ? [] : [args.vs]);
  const sessions = [];
  for (const model of models) sessions.push(await CreateSession(ort, model, options));
  for (const name of Object.keys(shapes).concat(Object.keys(files))) {
    if (!sessions[0].inputNames.includes(name)) {
      throw new UsageError(`'${name}' is not an input of ${args.model} (inputs: ${sessions[0].inputNames.join(', ')})`);
    }
  }
  const feeds = MakeFeeds(ort, sessions[0], shapes, files, args.seed === undefined ? 1 : args.seed);
  if (sessions.length === 2) {
    const missing = sessions[1].inputNames.filter((n) => feeds[n] === undefined);
    if (missing.length > 0) throw new Error(`${args.vs}: inputs ${missing.join(', ')} are not inputs of ${args.model}`);
  }
  const feeds_of = (s) => Object.fromEntries(s.inputNames.map((n) => [n, feeds[n]]));

  for (let i = 0; i < warmup; ++i) {
    for (let m = 0; m < sessions.length; ++m) await TimeRun(sessions[m], feeds_of(sessions[m]), models[m], clock);
  }
  const times = sessions.map(() => []);
  for (let i = 0; i < runs; ++i) {
    // Alternate which model goes first, so neither always follows the other's cache footprint.
    const order = i % 2 === 0 ? sessions.map((_, m) => m) : sessions.map((_, m) => sessions.length - 1 - m);
    for (const m of order) times[m].push(await TimeRun(sessions[m], feeds_of(sessions[m]), models[m], clock));
  }

  const f = (v) => v.toFixed(4);
  const a = Summary(times[0]);
  let line = `median_ms=${f(a.median)} p10_ms=${f(a.p10)} p90_ms=${f(a.p90)}`;
  if (sessions.length === 2) {
    const b = Summary(times[1]);
    line += ` vs_median_ms=${f(b.median)} vs_p10_ms=${f(b.p10)} vs_p90_ms=${f(b.p90)} ratio=${f(a.median / b.median)}`;
  }
  console.log(line);
}

module.exports = {Quantile, Rng};

if (require.main === module) Main('bench.js', main);
