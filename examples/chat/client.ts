/**
 * Chat example client: `npx tsx examples/chat/client.ts [ws://127.0.0.1:7070/v1/ws] [room] [user]`.
 * Subscribes to the room, posts three messages, prints the room's history.
 */
import { connect } from '../../client/index.js';
import { Room, type Post } from './room.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:7070/v1/ws';
const roomKey = process.argv[3] ?? 'lobby';
const user = process.argv[4] ?? 'ann';
const client = await connect({ url });
try {
  const sub = await client.subscribe<Post>(`room:${roomKey}`, (p) => console.log(`[${roomKey}] ${p.user}: ${p.text}`));
  const room = client.actor(Room, roomKey);
  for (const text of ['hello', 'is anyone here?', 'bye']) await room.post(user, text);
  const history = await room.history();
  console.log(`history holds ${history.length} posts (the last 100 are kept), newest: ${history.at(-1)?.text}`);
  await sub.unsubscribe();
} finally {
  await client.close();
}
