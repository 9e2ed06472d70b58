/**
 * One Kafka broker process (KRaft, broker and controller in one JVM) on free
 * loopback ports, for tests, benches and local scripts: never a machine-wide
 * service. Its jars come from scripts/fetch-kafka.sh (Maven, cached once). It
 * reuses the Hazelcast launcher's process helpers: started by PID, stopped by
 * PID, and on Linux tied to its parent with `setpriv --pdeathsig` so a test
 * killed by SIGKILL does not leave a broker behind.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.js';
import { isAlive, killMember, sleep, waitForExit } from '../hazelcast/member-process.js';
import { fetchKafkaScriptPath } from '../hazelcast/paths.js';
import { runSetupScript } from '../setup-script.js';
import type { Detail } from '../steps.js';
import { brokerProperties, newClusterId } from './broker-config.js';
import { probeBroker } from './broker-probe.js';

const HOST = '127.0.0.1';

/** The broker did not start (Java missing, storage format failed, no answer in time); the message ends with its log's last lines. */
export class BrokerStartError extends Error {
  readonly code = 'TROUPE_KAFKA_START_FAILED';
}

export interface StartBrokerOptions {
  /** Folder of the broker's jars; fetched with fetchKafkaLibs() when omitted (or taken from TROUPE_KAFKA_LIBS). */
  readonly libs?: string;
  /** Run folder (config, data, log); a new temporary one when omitted, removed by stop(). */
  readonly dir?: string;
  readonly heapMb?: number;
  /** See LaunchMemberOptions.tieToParent: tests want it, a broker meant to outlive its command does not. */
  readonly tieToParent: boolean;
  readonly readyTimeoutMs?: number;
}

export interface RunningBroker {
  readonly pid: number;
  readonly port: number;
  readonly controllerPort: number;
  /** `127.0.0.1:<port>`, as clients list it. */
  readonly bootstrap: string;
  readonly dir: string;
  readonly log: string;
  /** SIGTERM (a clean shutdown), SIGKILL after `graceMs`; removes the run folder if it was made here. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Runs scripts/fetch-kafka.sh (Maven, once) unless TROUPE_KAFKA_LIBS names the folder already. */
export function fetchKafkaLibs(detail?: Detail): Promise<string> {
  const given = process.env.TROUPE_KAFKA_LIBS;
  if (given !== undefined && given !== '' && existsSync(join(given, '.complete'))) return Promise.resolve(given);
  return runSetupScript({ path: fetchKafkaScriptPath(), what: 'fetching the Kafka broker jars', timeoutMs: 900_000, tailLines: 20 }, detail);
}

function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

/** Warnings and errors only: the broker's INFO lines are megabytes per test. */
const LOG4J2 = [
  'status = error',
  'appender.out.type = Console',
  'appender.out.name = out',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = warn',
  'rootLogger.appenderRef.out.ref = out',
].join('\n') + '\n';

function jvmArgs(libs: string, dir: string, heapMb: number): string[] {
  return [
    `-Xmx${heapMb}m`,
    // C1 only: the broker starts about twice as fast on a small machine and a test never runs long enough for C2 to pay off.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    '-Djava.net.preferIPv4Stack=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
  ];
}

function formatStorage(libs: string, dir: string): Promise<void> {
  const args = [...jvmArgs(libs, dir, 256), 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', join(dir, 'server.properties')];
  return new Promise((resolve, reject) => {
    execFile(javaBinary(), args, { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err === null) resolve();
      else reject(new BrokerStartError(`formatting the Kafka storage failed: ${`${stdout}\n${stderr}`.trim().split('\n').slice(-5).join(' | ') || err.message}`));
    });
  });
}

function logTail(log: string, lines = 15): string {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts the broker and resolves once it answers requests; on failure nothing started here is left running. */
export async function startBroker(o: StartBrokerOptions): Promise<RunningBroker> {
  const libs = o.libs ?? (await fetchKafkaLibs());
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'troupe-kafka-'));
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  const log = join(dir, 'broker.log');
  const heapMb = o.heapMb ?? 512;
  const readyTimeoutMs = o.readyTimeoutMs ?? 60_000;
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);

  let lastError: Error | undefined;
  // A free port can be taken between the check and the broker's bind: try fresh ports a bounded number of times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let controllerPort = await freePort();
    for (let i = 0; controllerPort === port && i < 5; i++) controllerPort = await freePort();
    writeFileSync(join(dir, 'server.properties'), brokerProperties({ port, controllerPort }, data));
    // Formatting writes the cluster id into the data folder: once per folder, a restart keeps its topics.
    if (!existsSync(join(data, 'meta.properties'))) await formatStorage(libs, dir);
    const pid = launch(libs, dir, heapMb, log, o.tieToParent);
    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    while (Date.now() < deadline && isAlive(pid)) {
      if (await probeBroker(HOST, port)) {
        ready = true;
        break;
      }
      await sleep(200);
    }
    if (ready) return handle(pid, port, controllerPort, dir, log, ownDir);
    killMember(pid);
    await waitForExit(pid, 5_000);
    const tail = logTail(log);
    lastError = new BrokerStartError(`the Kafka broker on port ${port} ${isAlive(pid) ? 'did not answer' : 'exited'} within ${readyTimeoutMs} ms:\n${tail}`);
    if (!/Address already in use/.test(tail)) break;
  }
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new BrokerStartError('the Kafka broker did not start');
}

function launch(libs: string, dir: string, heapMb: number, log: string, tieToParent: boolean): number {
  const fd = openSync(log, 'a');
  try {
    const command = [javaBinary(), ...jvmArgs(libs, dir, heapMb), 'kafka.Kafka', join(dir, 'server.properties')];
    const tie = tieToParent && process.platform === 'linux' && existsSync('/usr/bin/setpriv');
    const child = tie
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', ...command], { detached: false, stdio: ['ignore', fd, fd] })
      : spawn(command[0]!, command.slice(1), { detached: true, stdio: ['ignore', fd, fd] });
    // A failed exec surfaces as 'error'; the caller sees the process gone and reads the log.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new BrokerStartError('could not start java for the Kafka broker (is Java 17+ on PATH?)');
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

function handle(pid: number, port: number, controllerPort: number, dir: string, log: string, ownDir: boolean): RunningBroker {
  let stopping: Promise<void> | null = null;
  return {
    pid,
    port,
    controllerPort,
    bootstrap: `${HOST}:${port}`,
    dir,
    log,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (isAlive(pid)) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {
            // gone already
          }
          if (!(await waitForExit(pid, graceMs))) {
            killMember(pid);
            await waitForExit(pid, 5_000);
          }
        }
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
