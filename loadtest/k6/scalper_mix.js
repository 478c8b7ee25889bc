// scalper_mix: genuine patients and scalper bots race for a release. Bots
// hold several identities per account (patients.csv kind "bot"), react the
// instant the pool opens, and retry far faster than a person; they arrive
// through a handful of addresses and share devices. The runner reports the
// share of slots each group won; the defences are the per-account and
// per-IP limits (429) and the quotas per identity.
import exec from 'k6/execution';
import http from 'k6/http';
import { sleep } from 'k6';
import { base, headers, patients, seed, book, outcomeThresholds, outcomeNames } from './lib.js';

const rate = Number(__ENV.RATE || 5000);
const hold = __ENV.DURATION || '30s';
const startDelay = Math.max(0, Number(__ENV.START_DELAY || 0));
const sessions = seed.sessions.map((s) => s.id);
const genuine = [];
const bots = [];
for (let i = 0; i < patients.length; i++) (patients[i][3] === 'bot' ? bots : genuine).push(i);
const botAccounts = Math.max(1, new Set(bots.map((i) => patients[i][2])).size);

export const options = {
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  scenarios: {
    // People: an open arrival of attempts from the genuine patients,
    // starting a couple of seconds after T (a person's reaction).
    people: {
      executor: 'constant-arrival-rate', exec: 'person',
      startTime: `${startDelay + 2}s`, rate, timeUnit: '1s', duration: hold,
      preAllocatedVUs: 300, maxVUs: 1000,
    },
    // Bots: one VU per bot account, hammering from 0.5s before T with no
    // pause, cycling through the identities the account holds.
    bots: {
      executor: 'constant-vus', exec: 'bot',
      startTime: `${Math.max(0, startDelay - 0.5)}s`, vus: botAccounts, duration: hold,
    },
  },
  thresholds: Object.assign({ 'http_req_failed': ['rate<0.0001'] }, outcomeThresholds(outcomeNames)),
};

export function person() {
  const n = genuine[exec.scenario.iterationInTest % genuine.length];
  const [token, patientID] = patients[n];
  book(token, patientID, sessions[n % sessions.length], n);
}

export function bot() {
  const vu = exec.vu.idInTest - 1;
  const mine = bots.filter((i) => patients[i][2] === patients[bots[vu % bots.length]][2]);
  const k = exec.vu.iterationInScenario;
  const n = mine[k % mine.length];
  const [token, patientID] = patients[n];
  // A bot farm: ten addresses, three devices.
  book(token, patientID, sessions[k % sessions.length], n, 'online', { 'X-Device-Id': `farm-${vu % 3}`, 'X-Forwarded-For': `172.16.0.${vu % 10}` });
  if (k % 50 === 49) sleep(0.01);
}
