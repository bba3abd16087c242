// SPDX-License-Identifier: Apache-2.0
// Runs an ONNX model on onnxruntime-node (npm, a prebuilt Microsoft runtime): tst_onnx_export's independent
// runtime on Debian 12, which packages no onnxruntime. Same arguments as ort_run.cpp:
//   node ort_run.mjs MODEL INPUT.f32 N C H W OUTPUT.f32
// INPUT/OUTPUT are raw little-endian float32; prints the output shape. Exit 1 on any error.
// NODE_PATH (or NECTAR_ONNXRUNTIME_NODE) names the folder that holds node_modules/onnxruntime-node.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [model, input, n, c, h, w, output] = process.argv.slice(2);
if (!output) {
  console.error('usage: node ort_run.mjs MODEL INPUT.f32 N C H W OUTPUT.f32');
  process.exit(2);
}
const prefix = process.env.NECTAR_ONNXRUNTIME_NODE || '/usr/local/lib/nectar-toolbox/onnxruntime-node';
const require = createRequire(path.join(prefix, 'package.json'));
try {
  const ort = require('onnxruntime-node');
  const dims = [n, c, h, w].map(Number);
  const bytes = readFileSync(input);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'disabled' });
  const result = await session.run({ input: new ort.Tensor('float32', data, dims) });
  const out = result.output;
  writeFileSync(output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(`onnxruntime-node ${ort.env.versions?.common ?? ''} output ${out.dims.join('x')}`);
} catch (e) {
  console.error(`ort_run.mjs: ${e.message ?? e}`);
  process.exit(1);
}
