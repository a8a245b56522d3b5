'use strict';
// Compares two sets of outputs (.npy), e.g. ORT's (run.js) against onnx-act's (`onnx-act run`).
//
//   node tests/ort/compare.js --expected A --actual B [--atol 1e-4] [--rtol 1e-3]
//     A and B are both .npy files, or both folders: then every A/*.npy is compared with the file of the
//     same name in B (outputs.json, if any, is not needed: file names are the sanitised output names).
//   An element passes when |actual - expected| <= atol + rtol * |expected| (NaN only matches NaN).
//   Prints one line: `max_abs=<v> max_rel=<v> min_cosine=<v> outputs=<n> elements=<n>`
//   (max_rel = max |a-e| / max(|e|, 1e-12); min_cosine over outputs).
// Exit 0 when every element passes; 1 when one does not (stderr names the output, the flat index and both
// values) or a file is missing or shapes/dtypes differ; 2 for bad usage.

const fs = require('fs');
const path = require('path');
const npy = require('./npy');
const {ParseArgs, UsageError, Main} = require('./common');

function Pairs(expected, actual) {
  const is_dir = (p) => fs.existsSync(p) && fs.statSync(p).isDirectory();
  if (!fs.existsSync(expected)) throw new Error(`${expected}: not found`);
  if (!fs.existsSync(actual)) throw new Error(`${actual}: not found`);
  if (is_dir(expected) !== is_dir(actual)) throw new UsageError('--expected and --actual must both be files or both folders');
  if (!is_dir(expected)) return [[expected, actual]];
  const names = fs.readdirSync(expected).filter((n) => n.endsWith('.npy')).sort();
  if (names.length === 0) throw new Error(`${expected}: no .npy files`);
  return names.map((n) => [path.join(expected, n), path.join(actual, n)]);
}

async function main() {
  const args = ParseArgs(process.argv.slice(2), {expected: 'string', actual: 'string', atol: 'string', rtol: 'string'},
                         ['expected', 'actual']);
  const atol = Number(args.atol === undefined ? 1e-4 : args.atol);
  const rtol = Number(args.rtol === undefined ? 1e-3 : args.rtol);
  if (!Number.isFinite(atol) || !Number.isFinite(rtol)) throw new UsageError('--atol and --rtol expect numbers');
  let max_abs = 0;
  let max_rel = 0;
  let min_cos = 1;
  let elements = 0;
  let failure = null;
  const pairs = Pairs(args.expected, args.actual);
  for (const [fe, fa] of pairs) {
    const e = npy.read(fe);
    if (!fs.existsSync(fa)) throw new Error(`${fa}: missing (expected beside ${fe})`);
    const a = npy.read(fa);
    if (e.dtype !== a.dtype || e.shape.join(',') !== a.shape.join(',')) {
      throw new Error(`${fa}: ${a.dtype} [${a.shape}] differs from ${fe}: ${e.dtype} [${e.shape}]`);
    }
    let dot = 0;
    let ne = 0;
    let na = 0;
    for (let i = 0; i < e.data.length; ++i) {
      const x = Number(e.data[i]);
      const y = Number(a.data[i]);
      const diff = Math.abs(y - x);
      const ok = Number.isNaN(x) ? Number.isNaN(y) : diff <= atol + rtol * Math.abs(x);
      if (!Number.isNaN(diff)) {
        max_abs = Math.max(max_abs, diff);
        max_rel = Math.max(max_rel, diff / Math.max(Math.abs(x), 1e-12));
        dot += x * y;
        ne += x * x;
        na += y * y;
      }
      if (!ok && failure === null) failure = `${path.basename(fe)}[${i}]: expected ${x}, actual ${y}`;
    }
    elements += e.data.length;
    if (ne > 0 || na > 0) min_cos = Math.min(min_cos, ne > 0 && na > 0 ? dot / Math.sqrt(ne * na) : 0);
  }
  console.log(`max_abs=${max_abs.toPrecision(4)} max_rel=${max_rel.toPrecision(4)} ` +
              `min_cosine=${min_cos.toFixed(6)} outputs=${pairs.length} elements=${elements}`);
  if (failure !== null) throw new Error(`${failure} (atol ${atol}, rtol ${rtol})`);
}

if (require.main === module) Main('compare.js', main);
