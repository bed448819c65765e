// Plain JavaScript against the packed SDK, as an outside user writes it: sign up, create and join
// a session, send, and wait for the answer. .ci/sdk-smoke.sh copies it into a fresh project where
// only the tarballs of @hitl/sdk and @hitl/contracts are installed. Usage: node sdk-smoke.mjs URL
import { clearTimeout, setTimeout } from 'node:timers';
import { HitlClient } from '@hitl/sdk';

const baseUrl = process.argv[2];
const timeout = setTimeout(() => {
  console.error('sdk smoke: no answer within 30 s');
  process.exit(1);
}, 30_000);

const client = new HitlClient({ baseUrl });
await client.auth.register(`sdk-smoke-${Date.now()}@example.com`, 'correct horse battery');
client.connect();
const session = await client.api.createSession('sdk smoke');
const room = await client.join(session.id);

const answer = new Promise((resolve) => {
  room.onEvent((event) => {
    if (event.type === 'response') resolve(event.data.content);
  });
});
const ack = await room.send('what is 2+3');
const content = await answer;
client.disconnect();
clearTimeout(timeout);

if (!/\b5\b/.test(content)) {
  console.error(`sdk smoke: the answer does not say 5: ${JSON.stringify(content)}`);
  process.exit(1);
}
console.log(`sdk smoke: message seq ${ack.seq} answered: ${content}`);
