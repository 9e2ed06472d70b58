/**
 * The load process: opens one driver, runs one closed loop, prints the result
 * as one JSON line on stdout and exits. Started by the runner once per
 * (scenario, in-flight level), so client and server never share a process.
 *
 * Usage: node load/main.js '<json: { driver: DriverSpec, plan: LoadPlan }>'
 */
import { openDriver, parseDriverSpec } from '../drivers/index.js';
import { sampleWindow } from '../lib/cpu.js';
import { runClosedLoop, type LoadPlan } from './closed-loop.js';
import type { LoadReport } from './report.js';

function fail(message: string): never {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
}

function parsePlan(value: unknown): LoadPlan {
  if (value === null || typeof value !== 'object') throw new TypeError('plan must be an object');
  const v = value as Record<string, unknown>;
  const int = (name: string, min: number): number => {
    const n = v[name];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new TypeError(`plan.${name} must be an integer >= ${min}`);
    return n;
  };
  const pids = v.serverPids;
  if (!Array.isArray(pids) || !pids.every((p) => Number.isInteger(p) && p > 0)) throw new TypeError('plan.serverPids must be an array of PIDs');
  return {
    inFlight: int('inFlight', 1),
    warmupMs: int('warmupMs', 0),
    measureMs: int('measureMs', 1),
    maxCalls: int('maxCalls', 1),
    keys: int('keys', 1),
    ...(Array.isArray(v.keyNames) && v.keyNames.every((k) => typeof k === 'string') ? { keyNames: v.keyNames as string[] } : {}),
    serverPids: pids as number[],
  };
}

let input: { driver: unknown; plan: unknown };
try {
  input = JSON.parse(process.argv[2] ?? '') as typeof input;
} catch {
  fail('expected one JSON argument { driver, plan }');
}
const driver = parseDriverSpec(input.driver);
const plan = parsePlan(input.plan);

// The loop bounds itself; this catches a driver that hangs while connecting or closing.
const hardLimitMs = plan.warmupMs + plan.measureMs + 60_000;
setTimeout(() => fail(`load process still running after ${hardLimitMs} ms`), hardLimitMs).unref();

let caller;
try {
  caller = await openDriver(driver);
} catch (err) {
  fail(`${driver.name}: could not connect: ${err instanceof Error ? err.message : String(err)}`);
}
// One call first: a driver that connects but does not do the work must not produce a row.
try {
  const total = await caller.call(plan.keyNames?.[0] ?? 'k0');
  if (driver.name === 'troupe-sdk' && driver.workload === 'relay') {
    if (total !== true) fail(`${driver.name}: Relay.forward answered ${JSON.stringify(total)}, expected true`);
  } else if (typeof total !== 'number') {
    fail(`${driver.name}: Counter.add(1) answered ${JSON.stringify(total)}, expected the new total`);
  }
} catch (err) {
  fail(`${driver.name}: first call failed: ${err instanceof Error ? err.message : String(err)}`);
}
const cpu = sampleWindow(plan.serverPids, plan.warmupMs, plan.measureMs);
const result = await runClosedLoop(caller, plan);
const cpuShare = cpu();
let stats: Readonly<Record<string, number>> | undefined;
try {
  stats = await caller.stats?.();
} catch {
  // Counts are extra; the figures stand without them.
}
const report: LoadReport = { driver: driver.name, ...result, cpu: cpuShare, ...(stats === undefined ? {} : { driverStats: stats }) };
try {
  await caller.close();
} catch {
  // The figures are in; a failed close does not change them.
}
console.log(JSON.stringify(report));
// Drivers may hold sockets or timers that outlive close(); the run is over.
process.exit(0);
