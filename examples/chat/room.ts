import { Actor } from '../../actors/index.js';

export interface Post {
  readonly user: string;
  readonly text: string;
  readonly at: number;
}

const KEEP = 100;
const MAX_TEXT = 4096;

/** A chat room per key: posts are published on topic `room:<key>` and the last 100 are kept. */
export class Room extends Actor<{ posts: Post[] }> {
  static override expose = ['post', 'history'] as const;
  state = { posts: [] as Post[] };

  post(user: string, text: string): Post {
    if (typeof user !== 'string' || user.length === 0 || user.length > 256) throw new Error('post(user, text): user must be a non-empty string');
    if (typeof text !== 'string' || text.length > MAX_TEXT) throw new Error(`post(user, text): text must be a string of at most ${MAX_TEXT} characters`);
    const post: Post = { user, text, at: Date.now() };
    this.state.posts.push(post);
    if (this.state.posts.length > KEEP) this.state.posts.splice(0, this.state.posts.length - KEEP);
    this.publish(`room:${this.key}`, post);
    return post;
  }

  /** The kept posts, oldest first. */
  history(): Post[] {
    return this.state.posts;
  }
}
