'use strict';
// An independent COCO mAP for FastestDet in ONNX Runtime: decodes the [1,85,22,22] output itself.
//
//   node tests/ort/fastestdet_map.js --model FastestDet.onnx --inputs DIR --annotations instances.json
//        [--threads N] [--opt all|disabled] [--score-threshold 0.001] [--nms-iou 0.45] [--max-dets 100]
//        [--agnostic-nms] [--detections OUT.json]
//
// DIR holds <image id>.npy inputs ([1,3,352,352] float32, BGR, stretched, /255) and sizes.json with each
// image's original width and height, as scripts/fixtures/coco_preprocess.py writes them; every image of
// DIR is evaluated against the boxes of instances.json.
// Decoding, per cell (gx, gy) of the G x G grid (G = 22), channels c of the output [1, 85, G, G]:
//   obj = c0 and cls = max(c5..c84) are probabilities already (the graph ends in Sigmoid / Softmax);
//   score = obj^0.6 * cls^0.4, class = argmax(c5..c84) (one box per cell, as FastestDet's runtime.py);
//   centre = ((gx + tanh(c1)) / G, (gy + tanh(c2)) / G), size = (sigmoid(c3), sigmoid(c4)), all relative
//   to the original image, so x1 = (cx - w/2) * width etc., clipped to the image.
// Boxes with score > --score-threshold are kept, then per-class NMS at IoU --nms-iou (--agnostic-nms:
// across classes, as FastestDet's runtime.py does; on coco128 that gives map50 0.291 instead of 0.322).
// Class index i is the i-th of the 80 categories of instances.json sorted by id (ids are 1..90, gaps).
// Metric (as pycocotools, area 'all'): per category and IoU threshold t in 0.50:0.05:0.95, detections of
// all images sorted by score (at most --max-dets per image and category), greedily matched to the
// highest-IoU unmatched ground truth with IoU >= t; a match to an iscrowd box is ignored (neither TP
// nor FP); precision made monotone; AP = mean precision at the 101 recalls 0, 0.01, ..., 1.
// mAP averages over the categories with at least one non-crowd ground-truth box in the evaluated images.
// Output: one line `map50=<v> map50_95=<v> n_images=<k>`. --detections writes the boxes in COCO result
// format ([{image_id, category_id, bbox: [x, y, w, h], score}]) for cross-checking with pycocotools.
// Exit 0 on success; on failure one line on stderr, exit 1 (2 for bad usage).

const fs = require('fs');
const path = require('path');
const npy = require('./npy');
const {RunSession, LoadOrt, ParseArgs, UsageError, SessionOptions, CreateSession, Main} = require('./common');

function ReadJson(file, what) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read ${what}: ${e.code || e.message.split('\n')[0]}`);
  }
}

// Decodes FastestDet's output (Float32Array [85 * G * G], channel-major) into boxes in image pixels.
function Decode(out, grid, width, height, threshold) {
  const cells = grid * grid;
  const classes = out.length / cells - 5;
  const boxes = [];
  for (let gy = 0; gy < grid; ++gy) {
    for (let gx = 0; gx < grid; ++gx) {
      const cell = gy * grid + gx;
      const at = (c) => out[c * cells + cell];
      let cls = 0;
      let cls_p = -Infinity;
      for (let k = 0; k < classes; ++k) {
        if (at(5 + k) > cls_p) {
          cls_p = at(5 + k);
          cls = k;
        }
      }
      const obj = at(0);
      const score = Math.pow(Math.max(obj, 0), 0.6) * Math.pow(Math.max(cls_p, 0), 0.4);
      if (!(score > threshold)) continue;
      const sigmoid = (v) => 1 / (1 + Math.exp(-v));
      const cx = (gx + Math.tanh(at(1))) / grid;
      const cy = (gy + Math.tanh(at(2))) / grid;
      const w = sigmoid(at(3));
      const h = sigmoid(at(4));
      const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
      boxes.push({
        x1: clip((cx - w / 2) * width, width), y1: clip((cy - h / 2) * height, height),
        x2: clip((cx + w / 2) * width, width), y2: clip((cy + h / 2) * height, height), score, cls,
      });
    }
  }
  return boxes;
}

// Intersection over union of boxes {x1, y1, x2, y2}. As pycocotools, when b is a crowd box (b.crowd) the
// denominator is a's area alone.
function Iou(a, b) {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const area_a = (a.x2 - a.x1) * (a.y2 - a.y1);
  const union = b.crowd ? area_a : area_a + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

// Greedy NMS: keep the best box, drop boxes of the same class (any class if agnostic) overlapping it by > iou.
function Nms(boxes, iou, agnostic) {
  const sorted = boxes.slice().sort((a, b) => b.score - a.score);
  const kept = [];
  const dropped = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length; ++i) {
    if (dropped[i]) continue;
    kept.push(sorted[i]);
    for (let j = i + 1; j < sorted.length; ++j) {
      if (!dropped[j] && (agnostic || sorted[j].cls === sorted[i].cls) && Iou(sorted[i], sorted[j]) > iou) dropped[j] = 1;
    }
  }
  return kept;
}

// AP of one category at one IoU threshold. per_image: [{dets (sorted by score), gts}], pycocotools-style.
function AveragePrecision(per_image, t) {
  const scored = [];  // {score, tp, ignored}
  let n_gt = 0;
  for (const {dets, gts} of per_image) {
    // Non-crowd ground truths first, as pycocotools sorts them.
    const order = gts.slice().sort((a, b) => a.crowd - b.crowd);
    n_gt += order.filter((g) => !g.crowd).length;
    const matched = new Uint8Array(order.length);
    for (const d of dets) {
      let best = -1;
      let best_iou = Math.min(t, 1 - 1e-10);
      for (let g = 0; g < order.length; ++g) {
        if (matched[g] && !order[g].crowd) continue;
        if (best > -1 && !order[best].crowd && order[g].crowd) break;  // a real match beats a crowd one
        const iou = Iou(d, order[g]);
        if (iou < best_iou) continue;
        best_iou = iou;
        best = g;
      }
      if (best >= 0) matched[best] = 1;
      scored.push({score: d.score, tp: best >= 0, ignored: best >= 0 && order[best].crowd});
    }
  }
  if (n_gt === 0) return null;
  // Stable sort by descending score (pycocotools uses a mergesort on -score).
  const indexed = scored.map((s, i) => [s, i]).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]);
  const precision = [];
  const recall = [];
  let tp = 0;
  let fp = 0;
  for (const [s] of indexed) {
    if (s.ignored) continue;
    if (s.tp) ++tp;
    else ++fp;
    precision.push(tp / (tp + fp));
    recall.push(tp / n_gt);
  }
  for (let i = precision.length - 2; i >= 0; --i) precision[i] = Math.max(precision[i], precision[i + 1]);
  let sum = 0;
  let k = 0;
  for (let r = 0; r <= 100; ++r) {
    const target = r / 100;
    while (k < recall.length && recall[k] < target) ++k;  // first index with recall >= target
    if (k < recall.length) sum += precision[k];
  }
  return sum / 101;
}

async function main() {
  const args = ParseArgs(process.argv.slice(2), {
    model: 'string', inputs: 'string', annotations: 'string', threads: 'int', opt: 'string',
    'score-threshold': 'string', 'nms-iou': 'string', 'max-dets': 'int', detections: 'string', 'agnostic-nms': 'bool',
  }, ['model', 'inputs', 'annotations']);
  const threshold = Number(args['score-threshold'] === undefined ? 0.001 : args['score-threshold']);
  const nms_iou = Number(args['nms-iou'] === undefined ? 0.45 : args['nms-iou']);
  const max_dets = args['max-dets'] === undefined ? 100 : args['max-dets'];
  if (!Number.isFinite(threshold) || !Number.isFinite(nms_iou)) {
    throw new UsageError('--score-threshold and --nms-iou expect numbers');
  }

  const coco = ReadJson(args.annotations, 'COCO annotations');
  if (!Array.isArray(coco.categories) || !Array.isArray(coco.annotations)) {
    throw new Error(`${args.annotations}: expected COCO "categories" and "annotations" lists`);
  }
  const category_ids = coco.categories.map((c) => c.id).sort((a, b) => a - b);
  const sizes_file = path.join(args.inputs, 'sizes.json');
  const sizes = ReadJson(sizes_file, 'image sizes (written by coco_preprocess.py)');
  const image_ids = Object.keys(sizes).map(Number).sort((a, b) => a - b);
  if (image_ids.length === 0) throw new Error(`${sizes_file}: no images`);

  const ort = LoadOrt();
  const session = await CreateSession(ort, args.model, SessionOptions({threads: args.threads, opt: args.opt, spin: false}));
  const detections = new Map();  // image id → boxes
  const results = [];
  for (const id of image_ids) {
    const file = path.join(args.inputs, `${id}.npy`);
    const x = npy.read(file);
    const feeds = {[session.inputNames[0]]: new ort.Tensor(x.dtype, x.data, x.shape)};
    const y = (await RunSession(session, feeds, file))[session.outputNames[0]];
    const dims = y.dims.map(Number);
    if (dims.length !== 4 || dims[1] !== 5 + category_ids.length || dims[2] !== dims[3]) {
      throw new Error(`${args.model}: output [${dims}] is not [1, ${5 + category_ids.length}, G, G]`);
    }
    const {width, height} = sizes[String(id)];
    const boxes = Nms(Decode(y.data, dims[2], width, height, threshold), nms_iou, Boolean(args['agnostic-nms']));
    detections.set(id, boxes);
    for (const b of boxes) {
      results.push({image_id: id, category_id: category_ids[b.cls], score: Number(b.score.toFixed(6)),
                    bbox: [b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1].map((v) => Number(v.toFixed(3)))});
    }
  }
  if (args.detections) fs.writeFileSync(args.detections, JSON.stringify(results) + '\n');

  // Ground truth by (category, image).
  const evaluated = new Set(image_ids);
  const gts = new Map();  // category id → Map(image id → [gt])
  for (const a of coco.annotations) {
    if (!evaluated.has(a.image_id)) continue;
    const [x, y, w, h] = a.bbox;
    if (!gts.has(a.category_id)) gts.set(a.category_id, new Map());
    const per = gts.get(a.category_id);
    if (!per.has(a.image_id)) per.set(a.image_id, []);
    per.get(a.image_id).push({x1: x, y1: y, x2: x + w, y2: y + h, crowd: a.iscrowd ? 1 : 0});
  }
  const thresholds = Array.from({length: 10}, (_, i) => 0.5 + 0.05 * i);
  const ap_sums = thresholds.map(() => 0);
  let n_categories = 0;
  for (let cls = 0; cls < category_ids.length; ++cls) {
    const cat_gts = gts.get(category_ids[cls]) || new Map();
    const per_image = image_ids.map((id) => ({
      dets: detections.get(id).filter((b) => b.cls === cls).slice(0, max_dets),  // already score-sorted
      gts: cat_gts.get(id) || [],
    }));
    const aps = thresholds.map((t) => AveragePrecision(per_image, t));
    if (aps[0] === null) continue;
    ++n_categories;
    aps.forEach((ap, i) => { ap_sums[i] += ap; });
  }
  if (n_categories === 0) throw new Error(`${args.annotations}: no ground-truth boxes for the images in ${args.inputs}`);
  const maps = ap_sums.map((s) => s / n_categories);
  const map50_95 = maps.reduce((a, b) => a + b, 0) / maps.length;
  console.log(`map50=${maps[0].toFixed(4)} map50_95=${map50_95.toFixed(4)} n_images=${image_ids.length}`);
}

module.exports = {Decode, Iou, Nms, AveragePrecision};

if (require.main === module) Main('fastestdet_map.js', main);
