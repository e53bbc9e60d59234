// SPDX-License-Identifier: GPL-2.0-only
// The "hits" workload of redisclients.py through ioredis: SET user:<i>:plan EX 600 for i in
// 1..30, then GET user:<i>:plan for i in 1..40 (30 hits, 10 misses), one call at a time, then
// one pipeline of N GETs of user:1:plan. Prints "<VERB> <seconds>" per call, then "done".
//   node redis_client.js PORT [N]
'use strict';
const Redis = require('ioredis');

async function main() {
	const port = Number(process.argv[2]);
	const n = Number(process.argv[3] || 0);
	const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false });
	await r.connect();
	const timed = async (verb, fn) => {
		const t = process.hrtime.bigint();
		await fn();
		console.log(verb, (Number(process.hrtime.bigint() - t) / 1e9).toFixed(6));
	};
	for (let i = 1; i <= 30; i++)
		await timed('SET', () => r.set(`user:${i}:plan`, 'pro', 'EX', 600));
	for (let i = 1; i <= 40; i++)
		await timed('GET', () => r.get(`user:${i}:plan`));
	if (n) {
		const p = r.pipeline();
		for (let i = 0; i < n; i++)
			p.get('user:1:plan');
		const res = await p.exec();
		if (res.length !== n)
			throw new Error('pipeline answered ' + res.length);
	}
	r.disconnect();
	console.log('done');
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
