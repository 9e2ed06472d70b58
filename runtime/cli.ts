/**
 * `troupe` command line: `troupe start` runs a node; other commands manage
 * local clusters and grid members.
 */
import { ConfigError, loadConfig, settingsHelp } from './config.js';
import { TroupeNode } from './node.js';

const USAGE = `usage: troupe <command> [options]

commands:
  start            run a node (options below, or TROUPE_* environment variables)
  cluster ...      a local cluster: Consul, Hazelcast and N nodes (troupe cluster up|status|kill|start|add|down)
  hazelcast ...    start, inspect and stop local Hazelcast members (troupe hazelcast --help)

options of start (flag, environment variable, meaning):
${settingsHelp()}
`;

async function start(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig(argv);
  const node = await TroupeNode.start(config);
  // One line for people; the JSON log lines are for machines.
  process.stderr.write(`troupe: node ${config.nodeId} ready: ws://${config.host}:${node.port}/v1/ws, http://${config.host}:${node.port} (Ctrl-C to stop)\n`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    node.log.log('info', 'signal', { signal });
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        node.log.log('error', 'stop_failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return new Promise<number>(() => {});
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest);
      case 'cluster': return await (await import('./cli/cluster/index.js')).clusterCommand(rest);
      case 'hazelcast': {
        const modulePath = '../grid/hazelcast/members.js';
        const { hazelcastCommand } = (await import(modulePath)) as { hazelcastCommand: (a: string[]) => Promise<number> };
        return await hazelcastCommand(rest);
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        process.stderr.write(`troupe: unknown command '${command}'\n${USAGE}`);
        return 1;
    }
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : (err as Error).message ?? String(err);
    process.stderr.write(`troupe: ${message}\n`);
    return 1;
  }
}
