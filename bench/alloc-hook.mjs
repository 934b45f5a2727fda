// Loaded into a server by bench/alloc.ts (node --import): the first SIGUSR2
// starts V8's sampling heap profiler, the second writes the profile to
// $SWITCHBOARD_ALLOC_PROFILE. Objects the garbage collector has already
// freed are kept in the profile, so it counts what was allocated, not only
// what is still alive.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
let sampling = false;

process.on('SIGUSR2', async () => {
  if (!sampling) {
    sampling = true;
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    return;
  }
  sampling = false;
  const { profile } = await post('HeapProfiler.stopSampling');
  writeFileSync(process.env.SWITCHBOARD_ALLOC_PROFILE, JSON.stringify(profile));
});
