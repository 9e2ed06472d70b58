/**
 * `troupe` command line: `troupe start` runs a node, `call` calls one actor,
 * `top` watches a cluster, `dev` restarts a node on file changes; `cluster` and `hazelcast` manage
 * local clusters and grid members. Commands load on demand, so `troupe call`
 * never loads the node's code.
 */
import { readFileSync } from 'node:fs';
import { didYouMean } from './did-you-mean.js';
import { ConfigError } from './config.js';

const COMMANDS = ['start', 'call', 'top', 'dev', 'cluster', 'hazelcast', 'help'] as const;

const USAGE = `usage: troupe <command> [options]      (troupe <command> --help for each)

commands:
  start            run a node (settings as flags or TROUPE_* environment variables)
  call             call one actor method on a running node and print the result
  top              a live view of a cluster: nodes, calls/s, p99, backlog, breakers
  dev              run a node and restart it when its actor files change
  cluster ...      a local cluster: Consul, Hazelcast, N nodes, optionally Kafka (up|status|kill|start|add|autoscale|down)
  hazelcast ...    start, inspect and stop local Hazelcast members (up|status|down|forget-lost)

options:
  -h, --help       this help
  -v, --version    the installed version

examples:
  troupe start --actors dist/examples/counter/counter.js
  troupe call Counter c1 add 5
  troupe top --url http://127.0.0.1:7070
  troupe dev --actors my-app/greeter.ts
  troupe cluster up --nodes 3 && troupe cluster status
  troupe start --help          # every setting with its default and allowed values`;

/** The version in package.json, found from this file (dist/runtime/cli.js). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await (await import('./cli/start.js')).startCommand(rest);
      case 'call':
        return await (await import('./cli/call.js')).callCommand(rest);
      case 'top':
        return await (await import('./cli/top.js')).topCommand(rest);
      case 'dev':
        return await (await import('./cli/dev.js')).devCommand(rest);
      case 'cluster':
        return await (await import('./cli/cluster/index.js')).clusterCommand(rest);
      case 'hazelcast':
        return await (await import('./cli/hazelcast/members.js')).hazelcastCommand(rest);
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`troupe ${packageVersion()} (Node.js ${process.versions.node})\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        if (command === 'help' && rest[0] !== undefined && rest[0] !== 'help') return await main([rest[0], '--help']);
        (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`troupe: unknown command '${command}'${didYouMean(command, COMMANDS)} (see troupe --help)\n`);
        return 2;
    }
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : (err as Error).message ?? String(err);
    process.stderr.write(`troupe: ${message}\n`);
    return 1;
  }
}
