// The receiver of bench/webhooks.sh: answers every delivery 204 at once, checks its Standard
// Webhooks signature, and keeps per delivery: webhook-id, the event's commit time (the body's
// `timestamp`), the arrival time, and whether a signature verified.
//
//   node bench/webhook-receiver.mjs PORT
//   POST /control {"secrets": ["whsec_…", …]}   the secrets to verify with
//   GET  /count                                 deliveries so far
//   GET  /deliveries                            all of them, as JSON lines "id commit_ms arrival_ms ok"
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const port = Number(process.argv[2] ?? 0);
let keys = [];
const got = [];

function verified(id, timestamp, body, header) {
  const signatures = String(header ?? '').split(' ').map((s) => Buffer.from(s.split(',')[1] ?? '', 'base64'));
  return keys.some((key) => {
    const want = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
    return signatures.some((s) => s.length === want.length && timingSafeEqual(s, want));
  });
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url === '/control') {
      keys = JSON.parse(body).secrets.map((s) => Buffer.from(s.replace(/^whsec_/, ''), 'base64'));
      return res.writeHead(204).end();
    }
    if (req.method === 'GET' && req.url === '/count') {
      return res.writeHead(200).end(String(got.length));
    }
    if (req.method === 'GET' && req.url === '/deliveries') {
      return res.writeHead(200).end(got.join('\n'));
    }
    const arrival = Date.now();
    const id = req.headers['webhook-id'];
    const ok = verified(id, req.headers['webhook-timestamp'], body, req.headers['webhook-signature']);
    const commit = Date.parse(JSON.parse(body).timestamp);
    got.push(`${id} ${commit} ${arrival} ${ok ? 1 : 0}`);
    res.writeHead(204).end();
  });
}).listen(port, '127.0.0.1', function () {
  console.log(`listening ${this.address().port}`);
});
