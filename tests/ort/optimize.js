'use strict';
// Writes the model as ONNX Runtime optimises it (session option optimizedModelFilePath), so tests can
// see which Q/DQ patterns ORT fused into integer kernels (QLinearConv, QLinearMatMul, QGemm, ...) and
// which Conv/MatMul stayed float.
//
//   node tests/ort/optimize.js --model M.onnx --out OPT.onnx [--threads N] [--opt all|extended|basic]
//                              [--counts] [--by-domain]
//     writes OPT.onnx; prints nothing on success unless --counts, which prints one line of JSON with the
//     op counts of OPT.onnx keyed by op type, whatever the domain, e.g.
//     {"QLinearConv":38,"Conv":2,"Transpose":4,...}; with --by-domain too, ops outside the default
//     domain are keyed '<domain>:<op type>' (e.g. "com.microsoft:QLinearConv", "com.microsoft.nchwc:Conv").
//
// Notes on level 'all' (the default) on x86: float Convs become com.microsoft.nchwc:Conv (or
// com.microsoft:FusedConv — count it as a float Conv too); fused int8 convs appear as
// com.microsoft:QLinearConv (NHWC, with Transposes around); the file may hold layout-specific ops that
// only ORT on the same kind of CPU can load back. Other integer kernels: QLinearMatMul,
// MatMulIntegerToFloat, com.microsoft:QGemm / QLinearAdd / QLinearMul / QLinearConcat / ...
// Exit 0 on success; on failure one line on stderr, exit 1 (2 for bad usage).

const fs = require('fs');
const path = require('path');
const {LoadOrt, ParseArgs, SessionOptions, CreateSession, Main} = require('./common');
const {CountOps} = require('./onnx_ops');

async function main() {
  const args = ParseArgs(process.argv.slice(2), {
    model: 'string', out: 'string', threads: 'int', opt: 'string', counts: 'bool', 'by-domain': 'bool',
  }, ['model', 'out']);
  const ort = LoadOrt();
  const out = path.resolve(args.out);
  if (out === path.resolve(args.model)) throw new Error(`${args.out}: refusing to overwrite the input model`);
  fs.mkdirSync(path.dirname(out), {recursive: true});
  if (fs.existsSync(out)) fs.unlinkSync(out);
  const session = await CreateSession(ort, args.model, SessionOptions({
    threads: args.threads, opt: args.opt || 'all', optimizedModelFilePath: out,
  }));
  await session.release();
  if (!fs.existsSync(out)) throw new Error(`${args.out}: ONNX Runtime did not write the optimised model`);
  if (args.counts) console.log(JSON.stringify(CountOps(out, {by_domain: Boolean(args['by-domain'])})));
}

Main('optimize.js', main);
