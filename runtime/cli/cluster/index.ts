/**
 * `troupe cluster up | status | kill | start | add | autoscale | down`: a local Troupe
 * cluster on loopback (Consul dev agent, Hazelcast members, N nodes) for
 * development and failover experiments. Loaded by `runtime/cli.ts` on demand.
 *
 * Exit codes: 0 done (status: everything alive and ready), 1 failed or not
 * healthy, 2 bad usage. Progress goes to stderr (runtime/cli/progress.ts:
 * a spinner on a terminal, plain lines elsewhere), results to stdout.
 */
import { autoscale } from './autoscale.js';
import { down } from './down.js';
import { add, kill, start } from './node-commands.js';
import { parseCommand, type Command, UsageError, USAGE } from './options.js';
import { status } from './status.js';
import { up } from './up.js';
import type { Out } from './table.js';

export async function clusterCommand(argv: string[]): Promise<number> {
  const out: Out = (line) => process.stdout.write(`${line}\n`);
  const err: Out = (line) => process.stderr.write(`${line}\n`);
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`troupe cluster: ${e.message} (see troupe cluster --help)`);
    return 2;
  }
  try {
    switch (command.name) {
      case 'help':
        out(USAGE);
        return 0;
      case 'up':
        return await up(command.dir, command.options, out);
      case 'status':
        return await status(command.dir, command.json, out, err);
      case 'kill':
        return await kill(command.dir, command.id, command.signal, err);
      case 'start':
        return await start(command.dir, command.id, command.readyTimeoutMs, out, err);
      case 'add':
        return await add(command.dir, command.zone, command.readyTimeoutMs, command.nodeFlags, out, err);
      case 'autoscale':
        return await autoscale(command.dir, command.options, out, err);
      case 'down':
        return await down(command.dir, command.graceMs, err);
    }
  } catch (e) {
    err(`troupe cluster ${command.name}: ${(e as Error).message}`);
    return e instanceof RangeError ? 2 : 1;
  }
}
