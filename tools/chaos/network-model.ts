/**
 * An unstable network for the chaos world (docs/resilience.md): a
 * Gilbert–Elliott style two-state link, good and bad, driving the emulated
 * network (modules/emulators/network.ts) on the virtual clock.
 *
 * - Good periods last an exponential time; each draws its one-way latency.
 * - Bad periods (outages) have heavy-tailed lengths, a bounded Pareto: most
 *   are sub-second blips, some last seconds, a few minutes. An outage is
 *   either a lost link (Wi-Fi or the modem's carrier gone: open connections
 *   reset, every connect refused at once) or a black hole (packets vanish
 *   upstream: connects and answers time out).
 * - While good, a connect is now and then refused (a busy gateway), and the
 *   host's answer takes a time drawn from tiers: mostly fast, some slow, a
 *   few after any response deadline.
 *
 * The end of a lost link is told (`onLinkRestored`: the terminal hears its
 * link come up); the end of a black hole is not.
 *
 * Two seeded streams: the outage timeline draws only from its own, as time
 * passes, so every terminal (every reversal policy) run on a seed meets the
 * same outages at the same instants; per-connection draws (refusals, answer
 * times) come from the other.
 */
import { assert } from "../../modules/base/assert";
import type { EmulatedNetwork } from "../../modules/emulators/network";
import type { Clock } from "../../modules/platform/clock";
import { SeededRandom } from "../../modules/platform/random";

/** One tier of host answer times: its share of answers, drawn log-uniform in [minMs, maxMs]. */
export interface AnswerTier {
  readonly share: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export interface NetworkModelParameters {
  /** Mean length of a good period (exponential). */
  readonly goodMeanMs: number;
  /** Outage lengths: bounded Pareto with this shape (tail index) from `outageMinMs` to `outageMaxMs`. */
  readonly outageShape: number;
  readonly outageMinMs: number;
  readonly outageMaxMs: number;
  /** Share of outages that lose the link (resets, connects refused at once); the rest are black holes. */
  readonly linkLossShare: number;
  /** One-way latency of a good period, uniform in [min, max]. */
  readonly latencyMinMs: number;
  readonly latencyMaxMs: number;
  /** Share of connects refused while the link is good. */
  readonly refuseShare: number;
  /** How long the host takes to answer; shares sum to 1. */
  readonly answerTiers: readonly AnswerTier[];
}

/** The model the resilience bench runs (docs/resilience.md explains each figure). */
export const UNSTABLE_NETWORK: NetworkModelParameters = Object.freeze({
  goodMeanMs: 90_000,
  outageShape: 1,
  outageMinMs: 200,
  outageMaxMs: 600_000,
  linkLossShare: 0.6,
  latencyMinMs: 20,
  latencyMaxMs: 120,
  refuseShare: 0.01,
  answerTiers: Object.freeze([
    Object.freeze({ share: 0.9, minMs: 100, maxMs: 800 }),
    Object.freeze({ share: 0.08, minMs: 800, maxMs: 10_000 }),
    Object.freeze({ share: 0.015, minMs: 10_000, maxMs: 45_000 }),
    Object.freeze({ share: 0.005, minMs: 60_000, maxMs: 120_000 }),
  ]),
});

/** What the chaos world asks of network conditions at each connect and each answer (tools/chaos/system.ts). */
export interface NetworkConditions {
  /** Called before each connection attempt the host admits; may queue a connect fault. */
  beforeConnect(network: EmulatedNetwork): void;
  /** Extra time the host takes before this answer goes out. */
  answerDelayMs(): number;
}

export interface NetworkModelStats {
  outages: number;
  linkLosses: number;
  /** Outages by length: under 1 s, 1–10 s, 10–60 s, 60 s and more. */
  outagesUnder1s: number;
  outages1to10s: number;
  outages10to60s: number;
  outagesOver60s: number;
  longestOutageMs: number;
  /** Virtual time spent in outages (an outage cut short by `stop` counts up to then). */
  downMs: number;
  refusedConnects: number;
  /** Answers held past 10 s. */
  slowAnswers: number;
}

export function emptyNetworkStats(): NetworkModelStats {
  return {
    outages: 0,
    linkLosses: 0,
    outagesUnder1s: 0,
    outages1to10s: 0,
    outages10to60s: 0,
    outagesOver60s: 0,
    longestOutageMs: 0,
    downMs: 0,
    refusedConnects: 0,
    slowAnswers: 0,
  };
}

const SEED_TIMELINE = 0x6e7b;
const SEED_MESSAGES = 0x6d5a;
/** An answer past this is counted slow in the stats. */
const SLOW_ANSWER_MS = 10_000;

export interface NetworkModelOptions {
  readonly seed: number;
  readonly clock: Clock;
  readonly network: EmulatedNetwork;
  readonly parameters?: NetworkModelParameters;
  /**
   * A lost link is back (the device hears Wi-Fi or the modem come up). The end of a black hole is
   * not told: nothing on the terminal can see it.
   */
  readonly onLinkRestored?: () => void;
}

export class NetworkModel implements NetworkConditions {
  readonly parameters: NetworkModelParameters;
  readonly stats: NetworkModelStats = emptyNetworkStats();
  readonly #clock: Clock;
  readonly #network: EmulatedNetwork;
  readonly #timeline: SeededRandom;
  readonly #messages: SeededRandom;
  readonly #onLinkRestored: (() => void) | undefined;
  #bad = false;
  #stopped = false;
  #outageStartMs = 0;

  constructor(options: NetworkModelOptions) {
    const p = options.parameters ?? UNSTABLE_NETWORK;
    assert(p.goodMeanMs > 0 && p.outageShape > 0, "NetworkModel: good mean and outage shape must be positive");
    assert(0 < p.outageMinMs && p.outageMinMs < p.outageMaxMs, "NetworkModel: 0 < outageMinMs < outageMaxMs");
    assert(0 <= p.latencyMinMs && p.latencyMinMs <= p.latencyMaxMs, "NetworkModel: 0 <= latencyMinMs <= latencyMaxMs");
    const shares = p.answerTiers.reduce((sum, tier) => sum + tier.share, 0);
    assert(Math.abs(shares - 1) < 1e-9, "NetworkModel: answer tier shares must sum to 1");
    this.parameters = p;
    this.#clock = options.clock;
    this.#network = options.network;
    this.#timeline = new SeededRandom(options.seed ^ SEED_TIMELINE);
    this.#messages = new SeededRandom(options.seed ^ SEED_MESSAGES);
    this.#onLinkRestored = options.onLinkRestored;
  }

  get bad(): boolean {
    return this.#bad;
  }

  /** The link starts good; outages follow on the clock until `stop`. */
  start(): void {
    this.#good();
  }

  /** The network is good from now on (quiescence): up, accepting, no more outages. */
  stop(): void {
    if (this.#bad) this.stats.downMs += this.#clock.nowMs() - this.#outageStartMs;
    this.#stopped = true;
    this.#bad = false;
    this.#network.setDown(false);
    this.#network.setRefusing(undefined);
  }

  beforeConnect(network: EmulatedNetwork): void {
    if (this.#stopped || this.#bad) return; // a bad link refuses or swallows every connect by itself
    if (this.#messages.chance(this.parameters.refuseShare)) {
      this.stats.refusedConnects++;
      network.failNextConnect("refused");
    }
  }

  answerDelayMs(): number {
    const p = this.parameters;
    let draw = this.#messages.nextUint32() / 2 ** 32;
    let tier = p.answerTiers[p.answerTiers.length - 1];
    for (const candidate of p.answerTiers) {
      if (draw < candidate.share) {
        tier = candidate;
        break;
      }
      draw -= candidate.share;
    }
    const delayMs = Math.round(tier.minMs * Math.pow(tier.maxMs / tier.minMs, this.#messages.nextUint32() / 2 ** 32));
    if (delayMs > SLOW_ANSWER_MS) this.stats.slowAnswers++;
    return delayMs;
  }

  #good(): void {
    const p = this.parameters;
    this.#network.setLatency(p.latencyMinMs + this.#timeline.below(p.latencyMaxMs - p.latencyMinMs + 1));
    const u = this.#timeline.nextUint32() / 2 ** 32;
    const goodMs = Math.max(1, Math.round(-p.goodMeanMs * Math.log(1 - u)));
    this.#clock.schedule(goodMs, () => this.#outage());
  }

  #outage(): void {
    if (this.#stopped) return;
    const p = this.parameters;
    const lengthMs = this.#outageLengthMs();
    const linkLost = this.#timeline.chance(p.linkLossShare);
    this.#bad = true;
    this.#outageStartMs = this.#clock.nowMs();
    const s = this.stats;
    s.outages++;
    if (linkLost) s.linkLosses++;
    if (lengthMs < 1_000) s.outagesUnder1s++;
    else if (lengthMs < 10_000) s.outages1to10s++;
    else if (lengthMs < 60_000) s.outages10to60s++;
    else s.outagesOver60s++;
    s.longestOutageMs = Math.max(s.longestOutageMs, lengthMs);
    this.#network.setDown(true);
    if (linkLost) {
      this.#network.setRefusing("refused");
      this.#network.resetAll();
    }
    this.#clock.schedule(lengthMs, () => {
      if (this.#stopped) return;
      this.stats.downMs += lengthMs;
      this.#bad = false;
      this.#network.setDown(false);
      this.#network.setRefusing(undefined);
      this.#good();
      if (linkLost) this.#onLinkRestored?.();
    });
  }

  /** Inverse CDF of the Pareto distribution bounded to [outageMinMs, outageMaxMs]. */
  #outageLengthMs(): number {
    const { outageShape: a, outageMinMs: low, outageMaxMs: high } = this.parameters;
    const u = this.#timeline.nextUint32() / 2 ** 32;
    const lowA = Math.pow(low, a);
    const highA = Math.pow(high, a);
    const x = Math.pow(-(u * highA - u * lowA - highA) / (highA * lowA), -1 / a);
    return Math.min(high, Math.max(low, Math.round(x)));
  }
}
