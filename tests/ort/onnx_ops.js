'use strict';
// Counts the operators of an ONNX model file without an ONNX library: a minimal protobuf walk over
// ModelProto.graph (field 7) → GraphProto.node (field 1) → NodeProto.op_type (4) / domain (7),
// descending into sub-graphs held in attributes (AttributeProto.g = 6, graphs = 11).
//
// Library use: require('./onnx_ops').CountOps(file, {by_domain}) → {"Conv": 5, "QLinearConv": 2, ...}
//   By default ops are keyed by op type alone, whatever their domain (ORT's optimised models hold
//   com.microsoft:QLinearConv and com.microsoft.nchwc:Conv, which count as QLinearConv and Conv).
//   With by_domain, ops outside the default domain ('' or 'ai.onnx') are keyed '<domain>:<op type>'.
// Command line: node tests/ort/onnx_ops.js MODEL.onnx [--by-domain] → that object as one line of JSON.

const fs = require('fs');

// Reads a base-128 varint at buf[pos]; returns [value, next position]. Values beyond 2^53 lose precision,
// which only matters for int64 payloads we never read as numbers.
function ReadVarint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
}

// Calls visit(field, wire_type, start, end) for each field of the message in buf[begin, end).
// For length-delimited fields (wire type 2) [start, end) is the payload; for others it is the raw value.
function ForEachField(buf, begin, end, visit) {
  let pos = begin;
  while (pos < end) {
    let key;
    [key, pos] = ReadVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let start = pos;
    if (wire === 0) {
      [, pos] = ReadVarint(buf, pos);
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 2) {
      let len;
      [len, pos] = ReadVarint(buf, pos);
      start = pos;
      pos += len;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
    if (pos > end) throw new Error('truncated protobuf message');
    visit(field, wire, start, pos);
  }
}

function CountGraph(buf, begin, end, by_domain, counts) {
  ForEachField(buf, begin, end, (field, wire, s, e) => {
    if (field !== 1 || wire !== 2) return;  // GraphProto.node
    let op_type = '';
    let domain = '';
    ForEachField(buf, s, e, (f, w, ns, ne) => {
      if (w !== 2) return;
      if (f === 4) op_type = buf.toString('utf8', ns, ne);
      else if (f === 7) domain = buf.toString('utf8', ns, ne);
      else if (f === 5) {  // NodeProto.attribute
        ForEachField(buf, ns, ne, (af, aw, as, ae) => {
          if (aw === 2 && (af === 6 || af === 11)) CountGraph(buf, as, ae, by_domain, counts);
        });
      }
    });
    const key = !by_domain || domain === '' || domain === 'ai.onnx' ? op_type : `${domain}:${op_type}`;
    counts[key] = (counts[key] || 0) + 1;
  });
}

function CountOps(file, {by_domain = false} = {}) {
  const buf = fs.readFileSync(file);
  const counts = {};
  let found = false;
  ForEachField(buf, 0, buf.length, (field, wire, s, e) => {
    if (field === 7 && wire === 2) {  // ModelProto.graph
      found = true;
      CountGraph(buf, s, e, by_domain, counts);
    }
  });
  if (!found) throw new Error(`${file}: no graph found (is it an ONNX model?)`);
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

module.exports = {CountOps};

if (require.main === module) {
  try {
    const args = process.argv.slice(2);
    const by_domain = args.includes('--by-domain');
    const files = args.filter((a) => a !== '--by-domain');
    if (files.length !== 1 || files[0].startsWith('--')) throw new Error('usage: node onnx_ops.js MODEL.onnx [--by-domain]');
    console.log(JSON.stringify(CountOps(files[0], {by_domain})));
  } catch (e) {
    console.error(`onnx_ops.js: ${e.message}`);
    process.exit(1);
  }
}
