// The baseline: a bare `ws` server that streams the same tokens as the mock tutor (N tokens, each
// after the same pause) in the same JSON shape, with no auth, no database and no log.
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT ?? 0);
const tokens = Number(process.env.MOCK_TOKEN_COUNT ?? 64);
const delay = Number(process.env.MOCK_TOKEN_DELAY_MS ?? 20);
const wss = new WebSocketServer({ port, host: '127.0.0.1' });
wss.on('connection', (ws) => {
	let seq = 0;
	ws.on('message', (data) => {
		const message = JSON.parse(String(data));
		if (message.type !== 'send') return;
		const conversationId = message.conversationId;
		const messageId = crypto.randomUUID();
		ws.send(
			JSON.stringify({
				v: 1,
				type: 'event',
				conversationId,
				event: { seq: ++seq, type: 'user', messageId: crypto.randomUUID(), text: message.text }
			})
		);
		ws.send(
			JSON.stringify({
				v: 1,
				type: 'event',
				conversationId,
				event: { seq: ++seq, type: 'start', messageId }
			})
		);
		let i = 0;
		const tick = () => {
			i++;
			ws.send(
				JSON.stringify({
					v: 1,
					type: 'event',
					conversationId,
					event: { seq: ++seq, type: 'delta', messageId, text: `Token ${i} ` }
				})
			);
			if (i < tokens) setTimeout(tick, delay);
			else
				ws.send(
					JSON.stringify({
						v: 1,
						type: 'event',
						conversationId,
						event: { seq: ++seq, type: 'done', messageId }
					})
				);
		};
		setTimeout(tick, delay);
	});
});
wss.on('listening', () => {
	const address = wss.address();
	process.stdout.write(
		`listening on ${typeof address === 'object' && address ? address.port : address}\n`
	);
});
