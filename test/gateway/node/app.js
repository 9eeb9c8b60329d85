// A small Node.js service profiled by the Pyroscope Node.js SDK (@pyroscope/nodejs, from npm),
// pushing to the gateway at GW_URL: wall and heap profiles every FLUSH_MS, the last ones on
// stop().  CPU work runs inside wrapWithLabels({endpoint}) so the wall profile carries string
// sample labels.  Prints "done" when the SDK has flushed.
'use strict';
const Pyroscope = require('@pyroscope/nodejs');

const url = process.env.GW_URL;
const app = process.env.APP_NAME || 'nodeapp';
const runMs = Number(process.env.RUN_MS || 5000);
const flushMs = Number(process.env.FLUSH_MS || 2000);

Pyroscope.init({
  serverAddress: url,
  appName: app,
  tags: { env: 'ci', region: 'eu-west' },
  flushIntervalMs: flushMs,
  wall: { samplingDurationMs: flushMs, samplingIntervalMicros: 5000 },
  heap: { samplingIntervalBytes: 4096 },
});
Pyroscope.start();

const kept = [];
function fibonacciSlow(n) {
  return n < 2 ? n : fibonacciSlow(n - 1) + fibonacciSlow(n - 2);
}
function checkoutHandler() {
  fibonacciSlow(24);
  kept.push(JSON.stringify({ items: new Array(64).fill({ sku: 'x', qty: 1 }) }));
  if (kept.length > 2000) kept.splice(0, 1000);
}
function searchHandler() {
  const a = [];
  for (let i = 0; i < 20000; i++) a.push((i * 7919) % 10007);
  a.sort((x, y) => x - y);
}

const t0 = Date.now();
function tick() {
  if (Date.now() - t0 > runMs) {
    Pyroscope.stop().then(() => { console.log('done'); });
    return;
  }
  Pyroscope.wrapWithLabels({ endpoint: 'checkout' }, checkoutHandler);
  Pyroscope.wrapWithLabels({ endpoint: 'search' }, searchHandler);
  setImmediate(tick);
}
tick();
