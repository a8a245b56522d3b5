'use strict';
// Reads OCR text lines with a PP-OCR recogniser (CTC) in ONNX Runtime and scores it against the labels.
//
//   node tests/ort/ocr_eval.js --model REC.onnx --list LABELS.tsv --dict ppocr_keys_v1.txt
//        [--npy-dir DIR] [--python PY] [--threads N] [--opt all|disabled] [--predictions OUT.tsv] [--errors]
//
//   LABELS.tsv: lines `image path<TAB>text` (paths relative to the list file), e.g. examples/ocr_lines.
//   Node has no image decoder here, so the images are first turned into recogniser inputs by
//   scripts/fixtures/ocr_preprocess.py ([1,3,48,320] float32; RGB, height 48 keeping aspect, width
//   min(320, ceil(48*w/h)), x/255, (x-0.5)/0.5, right-padded with 0) in a temporary folder, run with
//   PY = --python, else $ACT_PYTHON, else /usr/bin/python3 (it needs numpy and PIL).
//   --npy-dir DIR skips that step and reads DIR/list.tsv (`NNNN.npy<TAB>text`, as the script writes).
//   Decoding: greedy CTC — argmax per time step, merge repeats, drop the blank (class 0); class k >= 1
//   is line k-1 of the dictionary, the last class (dictionary size + 1) is a space.
//   Last (only) stdout line: `exact_match=<fraction> cer=<fraction> n=<count>`, where
//   CER = total Levenshtein distance (in characters) / total label characters.
//   --predictions writes `NNNN.npy<TAB>label<TAB>prediction` lines; --errors lists misreads on stderr.
// Exit 0 on success; on failure one line on stderr, exit 1 (2 for bad usage).

const fs = require('fs');
const os = require('os');
const path = require('path');
const {spawnSync} = require('child_process');
const npy = require('./npy');
const {RunSession, LoadOrt, ParseArgs, SessionOptions, CreateSession, Main} = require('./common');

function ReadLines(file, what) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch (e) {
    throw new Error(`${file}: cannot read ${what}: ${e.code || e.message}`);
  }
}

// Greedy CTC decoding of probs [T, C] (row-major): argmax per step, merge repeats, drop blank 0.
function CtcGreedy(probs, steps, classes, dict) {
  let text = '';
  let previous = -1;
  for (let t = 0; t < steps; ++t) {
    let best = 0;
    let best_p = -Infinity;
    const row = t * classes;
    for (let c = 0; c < classes; ++c) {
      if (probs[row + c] > best_p) {
        best_p = probs[row + c];
        best = c;
      }
    }
    if (best !== 0 && best !== previous) text += best <= dict.length ? dict[best - 1] : ' ';
    previous = best;
  }
  return text;
}

// Levenshtein distance between the code-point arrays a and b.
function EditDistance(a, b) {
  let prev = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; ++i) {
    const cur = [i];
    for (let j = 1; j <= b.length; ++j) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function Preprocess(list, python) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'act-ocr-eval-'));
  const script = path.join(__dirname, '../../scripts/fixtures/ocr_preprocess.py');
  const r = spawnSync(python, [script, '--list', list, '--out', out], {encoding: 'utf8'});
  if (r.error || r.status !== 0) fs.rmSync(out, {recursive: true, force: true});
  if (r.error) throw new Error(`cannot run ${python}: ${r.error.code || r.error.message} (set --python or ACT_PYTHON)`);
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim().split('\n').pop();
    throw new Error(`ocr_preprocess.py failed on ${list}: ${msg}`);
  }
  return out;
}

async function main() {
  const args = ParseArgs(process.argv.slice(2), {
    model: 'string', list: 'string', dict: 'string', 'npy-dir': 'string', python: 'string', threads: 'int',
    opt: 'string', predictions: 'string', errors: 'bool',
  }, ['model', 'dict']);
  if (args.list === undefined && args['npy-dir'] === undefined) throw new Error('give --list LABELS.tsv or --npy-dir DIR');
  const dict = ReadLines(args.dict, 'dictionary');
  if (dict.length > 0 && dict[dict.length - 1] === '') dict.pop();
  const ort = LoadOrt();
  const session = await CreateSession(ort, args.model, SessionOptions({threads: args.threads, opt: args.opt, spin: false}));

  const python = args.python || process.env.ACT_PYTHON || '/usr/bin/python3';
  const npy_dir = args['npy-dir'] || Preprocess(args.list, python);
  try {
    const rows = ReadLines(path.join(npy_dir, 'list.tsv'), 'preprocessed list').filter((l) => l.length > 0);
    if (rows.length === 0) throw new Error(`${path.join(npy_dir, 'list.tsv')}: no lines`);
    let exact = 0;
    let distance = 0;
    let chars = 0;
    const predictions = [];
    for (const row of rows) {
      const tab = row.indexOf('\t');
      const file = row.slice(0, tab);
      const label = row.slice(tab + 1);
      const x = npy.read(path.join(npy_dir, file));
      const feeds = {[session.inputNames[0]]: new ort.Tensor(x.dtype, x.data, x.shape)};
      const y = (await RunSession(session, feeds, path.join(npy_dir, file)))[session.outputNames[0]];
      const [, steps, classes] = y.dims.map(Number);
      if (y.dims.length !== 3 || classes !== dict.length + 2) {
        throw new Error(`${args.model}: output [${y.dims}] does not match the dictionary ` +
                        `(expected [N,T,${dict.length + 2}] = blank + ${dict.length} entries + space)`);
      }
      const text = CtcGreedy(y.data, steps, classes, dict);
      const a = Array.from(label);
      const d = EditDistance(a, Array.from(text));
      distance += d;
      chars += a.length;
      if (d === 0) ++exact;
      else if (args.errors) console.error(`${file}\t${label}\t${text}`);
      predictions.push(`${file}\t${label}\t${text}\n`);
    }
    if (args.predictions) fs.writeFileSync(args.predictions, predictions.join(''));
    const cer = chars > 0 ? distance / chars : 0;
    console.log(`exact_match=${(exact / rows.length).toFixed(4)} cer=${cer.toFixed(4)} n=${rows.length}`);
  } finally {
    if (args['npy-dir'] === undefined) fs.rmSync(npy_dir, {recursive: true, force: true});
  }
}

module.exports = {CtcGreedy, EditDistance};

if (require.main === module) Main('ocr_eval.js', main);
