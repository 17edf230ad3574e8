/** 32-bit FNV-1a hash of a string. */
export function hash32(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded pseudo-random source (mulberry32): same seed, same sequence. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

const WORDS: readonly string[] = (
  'the patient reports a mild ache near the left side after walking and the team will review ' +
  'results from today with care because records show stable signs over several days while nurses ' +
  'note good sleep and steady appetite so doctors suggest rest fluids gentle exercise and a follow ' +
  'visit next week if symptoms change please call the clinic early in the morning for advice about ' +
  'dose timing water intake light meals blood pressure heart rate breathing pattern skin colour and ' +
  'any new pain fever cough or fatigue that seems unusual for this person given recent history ' +
  'family support plan goals comfort safety risk benefit summary overview detail context model answer ' +
  'question simple clear short long first second third final other each many few more less often ' +
  'usually rarely always never perhaps likely certainly also however therefore meanwhile instead'
).split(' ');

/** Counts whitespace-separated words, the sim's notion of a token. */
export function countWords(text: string): number {
  let count = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11;
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      count++;
    }
  }
  return count;
}

/** Generates `count` word tokens forming sentences; each token but the first carries its leading space. */
export function generateWordTokens(rng: Rng, count: number): string[] {
  const tokens: string[] = new Array(count);
  let sentenceLeft = 0;
  for (let i = 0; i < count; i++) {
    let word = rng.pick(WORDS);
    if (sentenceLeft === 0) {
      word = word[0]!.toUpperCase() + word.slice(1);
      sentenceLeft = rng.int(5, 14);
    }
    sentenceLeft--;
    if (sentenceLeft === 0 || i === count - 1) word += '.';
    else if (rng.next() < 0.06) word += ',';
    tokens[i] = i === 0 ? word : ` ${word}`;
  }
  return tokens;
}

/** A few plausible words joined by spaces, for string values. */
export function phrase(rng: Rng, min: number, max: number): string {
  const n = rng.int(min, max);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(rng.pick(WORDS));
  return words.join(' ');
}

/** Splits text into word tokens keeping whitespace with the following word; joining them gives the text back. */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Splits JSON text into small tokens (punctuation and words); joining them gives the text back. */
export function splitJsonTokens(text: string): string[] {
  return text.match(/\s*(?:[A-Za-z0-9_.+-]+|[^\sA-Za-z0-9_.+-])|\s+$/g) ?? [];
}

/** Token ids standing for a conversation, returned as `context` by /api/generate. */
export function contextIds(
  promptWords: number,
  seedText: string,
  responseTokens: readonly string[],
): number[] {
  const ids: number[] = new Array(promptWords + responseTokens.length);
  let h = hash32(seedText);
  for (let i = 0; i < promptWords; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
    ids[i] = h % 32000;
  }
  for (let i = 0; i < responseTokens.length; i++) ids[promptWords + i] = hash32(responseTokens[i]!) % 32000;
  return ids;
}

/** A deterministic unit-length vector for a text. */
export function embeddingOf(text: string, length: number): number[] {
  const rng = new Rng(hash32(text));
  const v: number[] = new Array(length);
  let norm = 0;
  for (let i = 0; i < length; i++) {
    const x = rng.next() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < length; i++) v[i] = Math.round(v[i]! * scale * 1e7) / 1e7;
  return v;
}
