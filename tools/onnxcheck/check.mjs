// Runs each ONNX file given under ONNX Runtime (npm onnxruntime-node) on its .input.npy and
// compares with vggsim's interp output (.output.npy): the maximum absolute difference over
// the maximum absolute output must be at most 1e-5. Exit 1 on any failure.
//
//   node tools/onnxcheck/check.mjs DIR/*.onnx   (with onnxruntime-node resolvable)
import { createRequire } from 'module';
import fs from 'fs';
const require = createRequire(process.cwd() + '/');
const ort = require('onnxruntime-node');

function readNpy(path) {
  const b = fs.readFileSync(path);
  const hlen = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + hlen);
  if (!header.includes("'<f4'")) throw new Error(path + ': not float32');
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.length));
  return { shape, data };
}

let failed = 0;
for (const file of process.argv.slice(2)) {
  const base = file.replace(/\.onnx$/, '');
  const x = readNpy(base + '.input.npy');
  const want = readNpy(base + '.output.npy');
  const s = await ort.InferenceSession.create(file);
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
  const got = out[s.outputNames[0]].data;
  let d = 0, m = 0;
  for (let i = 0; i < want.data.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want.data[i]));
    m = Math.max(m, Math.abs(want.data[i]));
  }
  const rel = d / m;
  const ok = got.length === want.data.length && rel <= 1e-5;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file}: ${got.length} outputs, max |ORT - interp| / max |interp| = ${rel.toExponential(2)}`);
}
process.exit(failed ? 1 : 0);
