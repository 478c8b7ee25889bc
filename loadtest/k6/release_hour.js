// release_hour: the release minute of a large hospital (PRODUCT.md; the
// Peking University Hospital of Stomatology saw ~200,000 requests in the
// first minute and peaks above 20,000/s). About 1,000 slots over ~20 expert
// sessions open at T. Attempts arrive at an open rate: a warm-up before T
// (answered 422 not_released), then RATE attempts/s (20,000) for DURATION
// (60s) from ~200,000 distinct real-name patients, each after the expert it
// wants. 409 sold-out and 429 rate-limited are expected answers.
import exec from 'k6/execution';
import http from 'k6/http';
import { base, headers, patients, seed, book, outcomeThresholds, outcomeNames } from './lib.js';

const rate = Number(__ENV.RATE || 20000);
const hold = __ENV.DURATION || '60s';
const startDelay = Math.max(0, Number(__ENV.START_DELAY || 0) - 5);
const sessions = seed.sessions.map((s) => s.id);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    // The waiting room: before T every patient opens the app, which lists
    // their patients (and warms the service's patient cache, as a login
    // does). Tokens are minted offline, so this is the patients' first call.
    waiting_room: {
      executor: 'shared-iterations',
      exec: 'wait',
      vus: 100,
      iterations: patients.length,
      maxDuration: `${Math.max(1, startDelay)}s`,
    },
    release: {
      executor: 'ramping-arrival-rate',
      exec: 'default',
      startTime: `${startDelay}s`,
      startRate: 200,
      timeUnit: '1s',
      preAllocatedVUs: Number(__ENV.VUS || 600),
      maxVUs: Number(__ENV.MAX_VUS || 1500),
      stages: [
        { target: 1000, duration: '4s' }, // the last seconds before T
        { target: rate, duration: '1s' }, // the release
        { target: rate, duration: hold },
      ],
    },
  },
  thresholds: Object.assign({
    'http_req_duration{scenario:release}': ['p(99)<50'],
    'http_req_failed{scenario:release}': ['rate<0.0001'],
    // Open model: an attempt k6 could not start on time is a dropped one.
    'dropped_iterations': [`count<${Math.ceil(rate * 60 * 0.01)}`],
  }, outcomeThresholds(outcomeNames)),
};

export function wait() {
  const n = exec.scenario.iterationInTest;
  const [token] = patients[n % patients.length];
  http.get(`${base}/v1/patients`, { headers: headers(token, n), tags: { name: 'patients' } });
}

export default function () {
  const i = exec.scenario.iterationInTest;
  const n = i % patients.length;
  const [token, patientID] = patients[n];
  book(token, patientID, sessions[n % sessions.length], n);
}
