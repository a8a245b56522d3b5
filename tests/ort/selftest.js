'use strict';
// Self-test of the reference harness's own logic, with hand-computed answers (no model, no ORT needed):
//   node tests/ort/selftest.js     → prints `selftest ok (<n> checks)`, exit 0; else the first failure, exit 1.

const assert = require('assert');
const path = require('path');
const npy = require('./npy');
const {SanitiseName} = require('./common');
const {CtcGreedy, EditDistance} = require('./ocr_eval');
const {Decode, Nms, AveragePrecision} = require('./fastestdet_map');
const {Quantile} = require(path.join(__dirname, '../../bench/ort/bench'));

let checks = 0;
function Check(name, fn) {
  try {
    fn();
    ++checks;
  } catch (e) {
    console.error(`selftest: ${name}: ${e.message.split('\n')[0]}`);
    process.exit(1);
  }
}
const Close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

Check('npy round trip, every dtype', () => {
  const cases = [
    {dtype: 'float32', shape: [2, 3], data: Float32Array.from([0, 1.5, -2, 3, 4, 5])},
    {dtype: 'float64', shape: [2], data: Float64Array.from([1e300, -0.25])},
    {dtype: 'int64', shape: [2], data: BigInt64Array.from([-3n, 1n << 40n])},
    {dtype: 'int32', shape: [1, 2], data: Int32Array.from([-7, 7])},
    {dtype: 'int8', shape: [2], data: Int8Array.from([-128, 127])},
    {dtype: 'uint8', shape: [2], data: Uint8Array.from([0, 255])},
    {dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1])},
    {dtype: 'float32', shape: [], data: Float32Array.from([3.5])},
    {dtype: 'float32', shape: [0, 4], data: new Float32Array(0)},
  ];
  for (const c of cases) {
    const bytes = npy.serialize(c);
    assert.strictEqual((bytes.readUInt16LE(8) + 10) % 64, 0, 'header not padded to 64 bytes');
    const back = npy.parse(bytes);
    assert.strictEqual(back.dtype, c.dtype);
    assert.deepStrictEqual(back.shape, c.shape);
    assert.deepStrictEqual(Array.from(back.data), Array.from(c.data));
  }
});

Check('npy v2 header and numpy-style descr', () => {
  const dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }";
  const header = dict + ' '.repeat(128 - 12 - dict.length - 1) + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0, 0, 0, 0, 0]);
  head.writeUInt32LE(header.length, 8);
  const body = Buffer.from(Int32Array.from([5, -6]).buffer);
  const t = npy.parse(Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  assert.deepStrictEqual([t.dtype, t.shape, Array.from(t.data)], ['int32', [2], [5, -6]]);
});

Check('npy refuses Fortran order and big-endian data', () => {
  const make = (dict) => {
    const header = dict + ' '.repeat(128 - 10 - dict.length - 1) + '\n';
    const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    head.writeUInt16LE(header.length, 8);
    return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.alloc(16)]);
  };
  assert.throws(() => npy.parse(make("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }")), /Fortran/);
  assert.throws(() => npy.parse(make("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }")), /dtype/);
  assert.throws(() => npy.parse(make("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }")), /truncated/);
});

Check('output names are sanitised and collisions suffixed', () => {
  const taken = new Set();
  assert.strictEqual(SanitiseName('conv/out:0', taken), 'conv_out_0');
  assert.strictEqual(SanitiseName('conv_out_0', taken), 'conv_out_0_1');
  assert.strictEqual(SanitiseName('.hidden', new Set()), '_hidden');
  assert.strictEqual(SanitiseName('758', new Set()), '758');
});

Check('greedy CTC: merge repeats, drop blank, last class is a space', () => {
  const dict = ['a', 'b'];
  const path_ = [1, 1, 0, 1, 2, 3, 3, 0, 2];  // a a _ a b ' ' ' ' _ b → "aab b"
  const probs = new Float32Array(path_.length * 4);
  path_.forEach((c, t) => { probs[t * 4 + c] = 1; });
  assert.strictEqual(CtcGreedy(probs, path_.length, 4, dict), 'aab b');
});

Check('Levenshtein distance', () => {
  assert.strictEqual(EditDistance(Array.from('kitten'), Array.from('sitting')), 3);
  assert.strictEqual(EditDistance([], Array.from('abc')), 3);
  assert.strictEqual(EditDistance(Array.from('same'), Array.from('same')), 0);
});

Check('FastestDet decoding of one cell', () => {
  // G = 2, 2 classes: output [7, 2, 2]; cell (gx=1, gy=0) has obj 0.81, classes [0.2, 0.8], zero offsets
  // and sizes → centre (0.5, 0), w = h = sigmoid(0) = 0.5; image 100 x 200.
  const out = new Float32Array(7 * 4);
  const cell = 0 * 2 + 1;
  out[0 * 4 + cell] = 0.81;
  out[5 * 4 + cell] = 0.2;
  out[6 * 4 + cell] = 0.8;
  const boxes = Decode(out, 2, 100, 200, 0.001);
  assert.strictEqual(boxes.length, 1);
  const b = boxes[0];
  assert.strictEqual(b.cls, 1);
  Close(b.score, Math.pow(0.81, 0.6) * Math.pow(0.8, 0.4), 1e-6);
  Close(b.x1, 25, 1e-4);
  Close(b.x2, 75, 1e-4);
  Close(b.y1, 0, 1e-4);  // clipped from -50
  Close(b.y2, 50, 1e-4);
});

Check('NMS per class and class-agnostic', () => {
  const a = {x1: 0, y1: 0, x2: 10, y2: 10, score: 0.9, cls: 0};
  const b = {x1: 1, y1: 0, x2: 11, y2: 10, score: 0.8, cls: 0};  // IoU 9/11 with a
  const c = {x1: 1, y1: 0, x2: 11, y2: 10, score: 0.7, cls: 1};
  assert.deepStrictEqual(Nms([b, c, a], 0.45, false), [a, c]);
  assert.deepStrictEqual(Nms([b, c, a], 0.45, true), [a]);
});

Check('COCO-style AP on a hand-computed case', () => {
  // Two ground truths; detections by score: hit, miss, hit → precision [1, 1/2, 2/3], recall [.5, .5, 1];
  // envelope [1, 2/3, 2/3]: 51 recall points (0..0.50) at 1, 50 points (0.51..1) at 2/3.
  const g1 = {x1: 0, y1: 0, x2: 10, y2: 10, crowd: 0};
  const g2 = {x1: 20, y1: 20, x2: 30, y2: 30, crowd: 0};
  const dets = [
    {x1: 0, y1: 0, x2: 10, y2: 10, score: 0.9},
    {x1: 50, y1: 50, x2: 60, y2: 60, score: 0.8},
    {x1: 20, y1: 20, x2: 30, y2: 31, score: 0.7},  // IoU 100/110 = 0.909
  ];
  Close(AveragePrecision([{dets, gts: [g1, g2]}], 0.5), (51 + 50 * 2 / 3) / 101);
  // At IoU 0.95 the third detection misses: precision [1, .5, 1/3], recall [.5, .5, .5].
  Close(AveragePrecision([{dets, gts: [g1, g2]}], 0.95), 51 / 101);
  // A detection on a crowd box is ignored, not a false positive.
  const crowd = {x1: 50, y1: 50, x2: 70, y2: 70, crowd: 1};
  Close(AveragePrecision([{dets: [dets[0], dets[1]], gts: [g1, crowd]}], 0.5), 1);
  assert.strictEqual(AveragePrecision([{dets, gts: []}], 0.5), null);
});

Check('quantiles interpolate linearly', () => {
  Close(Quantile([1, 2, 3, 4, 5], 0.5), 3);
  Close(Quantile([1, 2, 3, 4, 5], 0.1), 1.4);
  Close(Quantile([7], 0.9), 7);
});

console.log(`selftest ok (${checks} checks)`);
