// Finding 1 of issue 16 for the device, Autopilot, app-registration, directory-role, named-location,
// domain and Conditional Access actions (cases in test/repeat-devices-cases.ts, counted by
// test/repeat-safety.test.ts). Each action runs twice as a runbook step on fresh fixtures: once
// cleanly, once with its first write's answer (or a later one's) lost after the write took effect (the sandbox applies
// the request, then drops the connection: a worker killed mid-step, or Temporal restarted). The
// retry must recognise its own earlier write: the sandbox's mutation log may show no more writes
// than the clean run made, and the tenant must look as a person expects (one app, one wipe, ...).
//   Check that it catches a re-post: in worker/actions/devices.ts make earlierResult() return
//   undefined, and run `TENANTFLOW_REPEAT_ONLY=device.wipe npm test -- repeat-safety-devices`.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CHECK_IN_MS } from '../sandbox/graph/devices.ts';
import { catalog } from '../catalog/index.ts';
import { DEVICE_CASES, DEVICE_HARMLESS, DEVICE_VARIANTS, enrolled, type DeviceCase } from './repeat-devices-cases.ts';
import { ok, startActionsEnv, type ActionsEnv } from './actions-kit.ts';

let env: ActionsEnv;
before(async () => {
  env = await startActionsEnv();
});
after(async () => {
  env?.sandbox.admin.setFaults({});
  await env?.close();
});

const lastSeq = () => env.sandbox.admin.mutations().at(-1)?.seq ?? 0;

/** The writes (Graph, as the sandbox logged them) of one run of the step on fresh fixtures; cases run one at a time, so every write since the fixtures is the step's. */
async function writesOfOneRun(action: string, make: (env: ActionsEnv) => Promise<DeviceCase>, lose: boolean): Promise<string[]> {
  const made = await make(env);
  const since = lastSeq();
  if (lose) env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: made.lostWrite ?? '^(POST|PATCH|PUT|DELETE) /(v1\\.0|beta)/' });
  let r;
  try {
    r = await env.run(action, made.params, { maximumAttempts: 3 });
  } finally {
    const unused = env.sandbox.admin.faults().scripted?.length ?? 0;
    env.sandbox.admin.setFaults({});
    if (lose) assert.equal(unused, 0, `${action}: the first write's answer was lost (otherwise the case proves nothing)`);
  }
  ok(r);
  if (lose) {
    assert.ok(r.attempts >= 2, `${action}: the step was retried after the lost answer`);
    await made.check?.(r.output);
  }
  return env.sandbox.admin.mutations().filter((m) => m.seq > since).map((m) => `${m.method} ${m.path}`);
}

describe('device, app, directory, domain and Conditional Access actions are safe to repeat', { concurrency: false }, () => {
  it('every case and harmless entry is a write action, and none is both', () => {
    for (const id of [...Object.keys(DEVICE_CASES), ...Object.keys(DEVICE_HARMLESS), ...Object.values(DEVICE_VARIANTS).map((v) => v.action)]) assert.ok(catalog.get(id) && !catalog.get(id)!.readOnly, `${id} is a write action`);
    for (const id of Object.keys(DEVICE_HARMLESS)) assert.ok(!(id in DEVICE_CASES), `${id} is proven safe to repeat: it need not be declared harmless`);
  });

  // TENANTFLOW_REPEAT_ONLY=device.wipe (or a comma-separated list) runs only those actions' checks.
  const only = process.env.TENANTFLOW_REPEAT_ONLY?.split(',');
  const cases = [...Object.entries(DEVICE_CASES).map(([action, make]) => ({ label: action, action, make })), ...Object.entries(DEVICE_VARIANTS).map(([label, v]) => ({ label, ...v }))];
  for (const { label, action, make } of cases.filter((c) => !only || only.includes(c.action)))
    it(`${label}: a retry after a lost answer writes no more than a clean run`, { timeout: 240_000 }, async () => {
      const clean = await writesOfOneRun(action, make, false);
      const lost = await writesOfOneRun(action, make, true);
      if (only) console.log(`${action}: ${clean.length} writes on a clean run (${clean.join(', ')}), ${lost.length} after a lost answer (${lost.join(', ')})`);
      assert.ok(clean.length > 0, `${action} wrote nothing on a clean run: the count would prove nothing`);
      assert.ok(lost.length <= clean.length, `${action} wrote ${lost.length} times after a lost answer, ${clean.length} on a clean run: it repeated its write (${lost.join(', ')})`);
    });
});

// Moves the sandbox clock: runs after the cases above.
describe('device.retire retried after the device left Intune', () => {
  it('a retry that finds the device gone (it checked in after the lost answer) counts the retire as done, sending nothing', { timeout: 180_000 }, async () => {
    const id = enrolled(env, 'iOS');
    const since = lastSeq();
    const retires = () => env.sandbox.admin.mutations().filter((m) => m.seq > since && m.op === 'device.retire').length;
    env.sandbox.admin.failNext({ status: 'drop', afterEffect: true, match: `^POST /v1\\.0/deviceManagement/managedDevices/${id}/retire$` });
    // The step waits a second before it runs again after a lost answer: the device checks in meanwhile.
    let finished = false;
    const checkIn = (async () => {
      while (!finished && retires() === 0) await sleep(10);
      env.sandbox.admin.advanceClock(CHECK_IN_MS / 1000 + 60);
    })();
    const r = await env.run('device.retire', { device: id }).finally(() => (finished = true));
    await checkIn;
    ok(r);
    assert.deepEqual([r.output.deviceId, r.output.sent, r.output.actionState], [id, false, 'done']);
    await assert.rejects(env.graph.api(`/deviceManagement/managedDevices/${id}`).get(), (e: { statusCode?: number }) => e.statusCode === 404, 'the retired device left Intune');
    assert.equal(retires(), 1, 'one retire sent');
  });
});
