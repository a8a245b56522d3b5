'use strict';
// NumPy .npy reader/writer for the ONNX Runtime reference scripts.
//
// Library use:
//   const npy = require('./npy');
//   const t = npy.read('x.npy');          // {dtype, shape, data}; data is a TypedArray
//   npy.write('y.npy', {dtype: 'float32', shape: [1, 3], data: new Float32Array(3)});
//
// dtype names are ONNX Runtime's tensor type names, so {dtype, shape, data} maps 1:1 onto an ort.Tensor:
//   float32 '<f4' Float32Array | float64 '<f8' Float64Array | int64 '<i8' BigInt64Array
//   int32   '<i4' Int32Array   | int8    '|i1' Int8Array    | uint8 '|u1' Uint8Array
//   bool    '|b1' Uint8Array (0/1)
// Format (https://numpy.org/devdocs/reference/generated/numpy.lib.format.html):
//   "\x93NUMPY" major minor, header length (uint16 LE for v1, uint32 LE for v2/v3), then an ASCII
//   Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), } padded with spaces and
//   ending in '\n', then the raw C-order data. Only little-endian (or byte-sized) data in C order is
//   accepted; anything else is an error naming the file and what was found.
//
// Command line (for debugging):  node npy.js FILE.npy   → prints `dtype=<t> shape=<d0,d1,...> min=<v> max=<v>`

const fs = require('fs');

const kDtypes = {
  float32: {descr: '<f4', bytes: 4, Array: Float32Array},
  float64: {descr: '<f8', bytes: 8, Array: Float64Array},
  int64: {descr: '<i8', bytes: 8, Array: BigInt64Array},
  int32: {descr: '<i4', bytes: 4, Array: Int32Array},
  int8: {descr: '|i1', bytes: 1, Array: Int8Array},
  uint8: {descr: '|u1', bytes: 1, Array: Uint8Array},
  bool: {descr: '|b1', bytes: 1, Array: Uint8Array},
};

// descr as written by numpy → dtype name. '=' (native) is little-endian on every machine we run on;
// byte-sized types may be written with '|', '<' or '='.
const kDescrToDtype = {};
for (const [name, d] of Object.entries(kDtypes)) {
  const code = d.descr.slice(1);
  for (const order of ['<', '=', '|']) {
    if (d.bytes > 1 && order === '|') continue;
    kDescrToDtype[order + code] = name;
  }
}

const kMagic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // "\x93NUMPY"

function Product(shape) {
  return shape.reduce((a, b) => a * b, 1);
}

// Parses the .npy bytes in `buf`; `where` names the source in error messages.
function Parse(buf, where = '<buffer>') {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(kMagic)) {
    throw new Error(`${where}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = buf[6];
  let header_len;
  let header_start;
  if (major === 1) {
    header_len = buf.readUInt16LE(8);
    header_start = 10;
  } else if (major === 2 || major === 3) {
    header_len = buf.readUInt32LE(8);
    header_start = 12;
  } else {
    throw new Error(`${where}: unsupported .npy version ${major}.${buf[7]} (expected 1, 2 or 3)`);
  }
  const data_start = header_start + header_len;
  if (data_start > buf.length) throw new Error(`${where}: truncated .npy header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', header_start, data_start);

  const descr_m = header.match(/'descr'\s*:\s*'([^']*)'/);
  const fortran_m = header.match(/'fortran_order'\s*:\s*(True|False)/);
  const shape_m = header.match(/'shape'\s*:\s*\(([^)]*)\)/);
  if (!descr_m || !fortran_m || !shape_m) {
    throw new Error(`${where}: malformed .npy header: ${header.trim()}`);
  }
  const dtype = kDescrToDtype[descr_m[1]];
  if (dtype === undefined) {
    throw new Error(`${where}: unsupported dtype '${descr_m[1]}' (expected little-endian one of ` +
                    `${Object.values(kDtypes).map((d) => d.descr).join(' ')})`);
  }
  if (fortran_m[1] === 'True') {
    throw new Error(`${where}: Fortran-order arrays are not supported; save with np.ascontiguousarray`);
  }
  const shape = shape_m[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const v = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(v) || v < 0) throw new Error(`${where}: bad dimension '${s}' in shape`);
    return v;
  });
  const info = kDtypes[dtype];
  const count = Product(shape);
  const nbytes = count * info.bytes;
  if (data_start + nbytes > buf.length) {
    throw new Error(`${where}: data truncated: shape [${shape}] ${dtype} needs ${nbytes} bytes, ` +
                    `file has ${buf.length - data_start}`);
  }
  // Copy into a fresh, aligned buffer: a TypedArray view needs an offset that is a multiple of its size.
  const data = new info.Array(count);
  Buffer.from(data.buffer).set(buf.subarray(data_start, data_start + nbytes));
  return {dtype, shape, data};
}

function Read(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`${file}: cannot read: ${e.code || e.message}`);
  }
  return Parse(buf, file);
}

// Returns the .npy bytes of {dtype, shape, data}. Uses version 1 unless the header needs more than 64 KiB.
function Serialize(array, where = '<array>') {
  const {dtype, shape, data} = array;
  const info = kDtypes[dtype];
  if (info === undefined) {
    throw new Error(`${where}: cannot write dtype '${dtype}' (supported: ${Object.keys(kDtypes).join(', ')})`);
  }
  const count = Product(shape);
  if (data.length !== count) {
    throw new Error(`${where}: shape [${shape}] has ${count} elements but data has ${data.length}`);
  }
  const shape_str = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${info.descr}', 'fortran_order': False, 'shape': ${shape_str}, }`;
  // Pad so that magic + version + length + header is a multiple of 64 bytes and ends with '\n'.
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  dict = dict + ' '.repeat(total - prefix - dict.length - 1) + '\n';
  const head = Buffer.alloc(prefix);
  kMagic.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(dict.length, 8);
  else head.writeUInt32LE(dict.length, 8);
  let typed = data;
  if (!(data instanceof info.Array)) {
    typed = dtype === 'int64' ? info.Array.from(data, (v) => BigInt(v)) : info.Array.from(data);
  }
  const body = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}

function Write(file, array) {
  fs.writeFileSync(file, Serialize(array, file));
}

module.exports = {read: Read, write: Write, parse: Parse, serialize: Serialize, dtypes: Object.keys(kDtypes)};

if (require.main === module) {
  try {
    if (process.argv.length !== 3) throw new Error('usage: node npy.js FILE.npy');
    const t = Read(process.argv[2]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of t.data) {
      const x = Number(v);
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    console.log(`dtype=${t.dtype} shape=${t.shape.join(',')} min=${lo} max=${hi}`);
  } catch (e) {
    console.error(`npy.js: ${e.message}`);
    process.exit(1);
  }
}
