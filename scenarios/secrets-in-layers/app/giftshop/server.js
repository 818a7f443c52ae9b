'use strict';
// giftshop: sells gift cards and checks their balance with the gift-card provider (giftcard-api),
// which answers only requests that carry the shop's API key. The key comes from the environment:
//   GIFTCARD_API_KEY  the shop's API key (in the cluster: from Secret giftshop-credentials)
//   GIFTCARD_API_URL  the provider (default http://giftcard-api:8080)
// For local development: `npm run dev` reads .env (node --env-file).
const http = require('node:http');

const key = (process.env.GIFTCARD_API_KEY || '').trim();
const provider = process.env.GIFTCARD_API_URL || 'http://giftcard-api:8080';
if (!key) {
  console.error('giftshop: GIFTCARD_API_KEY is not set — the shop cannot talk to the gift-card provider without its API key');
  process.exit(1);
}

async function providerAnswer(path) {
  const r = await fetch(`${provider}${path}`, { headers: { 'x-api-key': key }, signal: AbortSignal.timeout(3000) });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

const json = (res, code, body) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body) + '\n'); };

http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  try {
    if (url.pathname === '/healthz') {
      // Ready only while the provider accepts our key: without it the shop cannot sell anything.
      const a = await providerAnswer('/v1/ping');
      if (a.status === 200) return json(res, 200, { ok: true });
      console.error(`giftshop: the gift-card provider answered ${a.status} ${JSON.stringify(a.body)} — is GIFTCARD_API_KEY the provider's active key?`);
      return json(res, 503, { ok: false, provider: a.status });
    }
    if (url.pathname.startsWith('/balance/')) {
      const a = await providerAnswer(`/v1/cards/${encodeURIComponent(url.pathname.slice(9))}`);
      return json(res, a.status === 200 ? 200 : 502, a.body);
    }
    return json(res, 200, { app: 'giftshop', try: '/balance/<card>' });
  } catch (e) {
    console.error(`giftshop: cannot reach the gift-card provider at ${provider}: ${e.message}`);
    return json(res, 503, { ok: false, error: 'provider unreachable' });
  }
}).listen(8080, () => console.log('giftshop listening on :8080'));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
