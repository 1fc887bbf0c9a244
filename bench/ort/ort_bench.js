// ONNX Runtime (node, CPU EP) baseline: times DIR/model.onnx on DIR/input.bin and checks the
// logits against DIR/logits.bin.
// usage: node bench/ort/ort_bench.js DIR --threads N --runs N --warmup N
// Prints one JSON line: {"peer": "onnxruntime", "times_ms": [...], "relerr": ...}.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

function f32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
}

async function main() {
  const dir = process.argv[2];
  const threads = arg('threads', 1), runs = arg('runs', 20), warmup = arg('warmup', 3);
  const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const ir = fs.readFileSync(path.join(dir, 'model.ir'), 'utf8');
  const m = ir.match(/= input : (\d+)x(\d+)x(\d+)/);
  const x = new ort.Tensor('float32', f32(path.join(dir, 'input.bin')), [1, +m[1], +m[2], +m[3]]);
  const want = f32(path.join(dir, 'logits.bin'));
  const feeds = {[sess.inputNames[0]]: x};
  const times = [];
  let y;
  for (let r = 0; r < warmup + runs; r++) {
    const t0 = process.hrtime.bigint();
    y = (await sess.run(feeds))[sess.outputNames[0]].data;
    const t1 = process.hrtime.bigint();
    if (r >= warmup) times.push(Number(t1 - t0) / 1e6);
  }
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(y[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  console.log(JSON.stringify({peer: 'onnxruntime', threads, times_ms: times, relerr: num / Math.max(den, 1e-30)}));
}

main().catch((e) => { console.error('ort_bench:', e.message); process.exit(1); });
